import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources through the `development` export condition,
// so tests need no build step; published packages resolve to dist/.
export default defineConfig({
  resolve: { conditions: ['development'] },
  ssr: { resolve: { conditions: ['development'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'tools/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default', './tools/vitest-summary.ts'],
  },
});
