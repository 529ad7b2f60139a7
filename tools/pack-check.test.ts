import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
// @ts-expect-error: a plain .mjs script without type declarations
import { checkPackage, findProblems, packageDirs } from './pack-check.mjs';
import { prebuildsProblem } from '../packages/backend-native/scripts/check-prebuilds.mjs';

const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'es-pack-check-test-'));
afterAll(() => fs.rmSync(dest, { recursive: true, force: true }));

const hasPnpm = (() => {
  try {
    execFileSync('pnpm', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('findProblems', () => {
  const good = {
    name: '@x/y',
    main: './dist/index.cjs',
    types: './dist/index.d.ts',
    bin: { y: './dist/bin.js' },
    exports: {
      '.': {
        import: { types: './dist/index.d.ts', default: './dist/index.js' },
        require: { types: './dist/index.d.cts', default: './dist/index.cjs' },
      },
      './package.json': './package.json',
    },
  };
  const files = ['dist/index.cjs', 'dist/index.js', 'dist/index.d.ts', 'dist/index.d.cts', 'dist/bin.js', 'package.json', 'LICENSE'];

  it('accepts a manifest whose every named file ships', () => {
    expect(findProblems(good, files)).toEqual([]);
  });

  it('names source paths, missing files, ESM types on the require branch and a missing LICENSE', () => {
    const bad = {
      ...good,
      exports: { '.': { '@efficientscale/source': './src/index.ts', require: { types: './dist/index.d.ts', default: './dist/index.cjs' } } },
    };
    expect(findProblems(bad, files.filter((f) => f !== 'dist/bin.js' && f !== 'LICENSE'))).toEqual([
      'bin.y: expected ./dist/bin.js in the tarball, found none',
      'exports[.][@efficientscale/source]: expected a built file, found the source path ./src/index.ts',
      'exports[.][require][types]: expected CommonJS types (.d.cts), found ./dist/index.d.ts',
      'LICENSE: expected in the tarball, found none',
    ]);
  });
});

describe('pnpm pack of every workspace package', () => {
  for (const dir of packageDirs() as string[]) {
    const name = path.basename(dir);
    const built = fs.existsSync(path.join(dir, 'dist'));
    // backend-native's prepack refuses without its prebuilt binaries (made after the tests in CI; the
    // consumer test packs it then); its own test covers the refusal.
    const noPrebuilds = name === 'backend-native' ? prebuildsProblem(dir) : '';
    const why = !hasPnpm ? 'pnpm not on PATH' : !built ? 'no dist/ (run pnpm build first)' : noPrebuilds ? `pnpm pack refuses: ${noPrebuilds}` : '';
    it.skipIf(why !== '')(`${name}: the tarball holds every file its package.json names${why ? ` (skipped: ${why})` : ''}`, () => {
      const r = checkPackage(dir, dest);
      expect(r.problems).toEqual([]);
      expect(r.files.some((f: string) => f.startsWith('src/') && f.endsWith('.ts'))).toBe(false);
    });
  }
});
