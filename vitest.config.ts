import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources through the `@efficientscale/source` export
// condition, so tests need no build step. Only this workspace sets it (here and in each tsconfig's
// customConditions); consumers of the published packages never do and get dist/.
const SOURCE_CONDITION = '@efficientscale/source';

export default defineConfig({
  resolve: { conditions: [SOURCE_CONDITION] },
  ssr: { resolve: { conditions: [SOURCE_CONDITION] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'tools/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default', './tools/vitest-summary.ts'],
  },
});
