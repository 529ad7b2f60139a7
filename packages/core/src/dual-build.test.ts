import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import type * as Core from './index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// Inside the package, so that the bundles resolve tfjs-core (left external, as in the published build).
const outDir = fs.mkdtempSync(path.join(here, '..', 'node_modules', '.dual-build-'));

/** Builds core's main entry the way the published package has it: an ESM file and a CommonJS file, each with its own copy of core's code. */
async function bothBuilds(): Promise<{ esm: typeof Core; cjs: typeof Core }> {
  const common = { entryPoints: [path.join(here, 'index.ts')], bundle: true, platform: 'node' as const, packages: 'external' as const, logLevel: 'silent' as const };
  await build({ ...common, format: 'esm', outfile: path.join(outDir, 'core.mjs') });
  await build({ ...common, format: 'cjs', outfile: path.join(outDir, 'core.cjs') });
  const esm = (await import(pathToFileURL(path.join(outDir, 'core.mjs')).href)) as typeof Core;
  const cjs = createRequire(import.meta.url)(path.join(outDir, 'core.cjs')) as typeof Core;
  return { esm, cjs };
}

afterAll(() => fs.rmSync(outDir, { recursive: true, force: true }));

describe('the ESM and CommonJS builds of core in one process', () => {
  it('share one FFN registry and one UserError', async () => {
    const { esm, cjs } = await bothBuilds();
    expect(esm.registerFfnKind).not.toBe(cjs.registerFfnKind); // two copies of the code, as when both builds load
    const probe = { ...esm.getFfnKind('dense'), kind: 'dual-build-probe' };
    cjs.registerFfnKind(probe);
    expect(esm.getFfnKind('dual-build-probe')).toBe(probe);
    expect(esm.registeredFfnKinds()).toEqual(cjs.registeredFfnKinds());
    expect(esm.registeredFfnKinds()).toContain('dense');

    expect(esm.UserError).not.toBe(cjs.UserError);
    expect(new cjs.UserError('x')).toBeInstanceOf(esm.UserError);
    expect(esm.mismatch('a', 'b', 'c')).toBeInstanceOf(cjs.UserError);
    expect(new Error('x')).not.toBeInstanceOf(esm.UserError);
    expect(new esm.UserError('x')).toBeInstanceOf(Error);
  });
});
