import { defineConfig, type Options } from 'tsup';

/** One build recipe for every package: ESM + CJS + types from src/index.ts, dependencies left external. */
export function packageBuild(overrides: Options = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    shims: true,
    ...overrides,
  });
}
