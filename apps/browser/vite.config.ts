import { defineConfig, defaultClientConditions } from 'vite';

// Workspace packages resolve to their TypeScript sources (as in the tests), so the page needs no
// package build and picks up edits to core, progressive and moe at once.
export default defineConfig({
  resolve: { conditions: ['@efficientscale/source', ...defaultClientConditions] },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
});
