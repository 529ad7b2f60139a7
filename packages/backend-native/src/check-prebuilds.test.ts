import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { prebuildsProblem } from '../scripts/check-prebuilds.mjs';
import { MAX_GLIBC, SOURCES_FILE, X64_LEVELS, compareVersions, glibcNeeded, prebuiltFile, sourcesHash } from '../scripts/prebuilt.mjs';
import { ADDON_RELATIVE_PATH, packageDir } from './addon.js';

const hasPnpm = spawnSync('pnpm', ['--version'], { stdio: 'ignore' }).status === 0;
const levels = X64_LEVELS.map((l) => l.level);
const binary = (level: string) => prebuiltFile(level, 'linux', 'x64', 'glibc');

/** A copy of what the tarball is packed from (no prebuilds/), in a scratch folder. */
function packageCopy(root: string): string {
  const dir = mkdtempSync(join(root, 'pkg-'));
  for (const p of ['package.json', 'binding.gyp', 'scripts', join('src', 'native'), 'README.md', 'LICENSE']) {
    cpSync(join(packageDir(), p), join(dir, p), { recursive: true });
  }
  return dir;
}

/** Stand-ins for the binaries: a dynamic string table naming the glibc versions they need. */
function writePrebuilds(dir: string, which: string[], glibc = ['2.2.5', '2.14', '2.28']): void {
  for (const level of which) {
    mkdirSync(dirname(join(dir, binary(level))), { recursive: true });
    writeFileSync(join(dir, binary(level)), `\0libm.so.6\0${glibc.map((v) => `GLIBC_${v}`).join('\0')}\0GLIBCXX_3.4.30\0GLIBC_PRIVATE\0`);
  }
}

describe('a tarball is never packed without the prebuilt binaries', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'es-check-prebuilds-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('names what is missing: all binaries, one level, an old enough glibc, the source stamp, or a stamp of other sources', () => {
    const dir = packageCopy(scratch);
    expect(prebuildsProblem(dir)).toMatch(/^expected prebuilt binaries in prebuilds\/linux-x64\/, found none \(run pnpm --filter @efficientscale\/backend-native build:prebuilds\)$/);
    writePrebuilds(dir, levels.slice(1));
    expect(prebuildsProblem(dir)).toContain(`found none at ${binary(levels[0])} (run`);
    writePrebuilds(dir, levels, ['2.2.5', '2.29', '2.36', '2.28']);
    expect(prebuildsProblem(dir)).toContain(`expected prebuilt binaries that load on glibc ${MAX_GLIBC}, found ${binary(levels[0])} needing glibc 2.36`);
    writePrebuilds(dir, levels);
    expect(prebuildsProblem(dir)).toContain(`expected ${SOURCES_FILE} beside the prebuilt binaries, found none`);
    writeFileSync(join(dir, SOURCES_FILE), `${'0'.repeat(64)}\n`);
    expect(prebuildsProblem(dir)).toContain('found ones from other sources');
    writeFileSync(join(dir, SOURCES_FILE), `${sourcesHash(dir)}\n`);
    expect(prebuildsProblem(dir)).toBe('');
  });

  it.skipIf(!hasPnpm)('pnpm pack refuses in one line without them, and packs them when they are there', () => {
    const dir = packageCopy(scratch);
    const out = join(scratch, 'out');
    mkdirSync(out, { recursive: true });
    const pack = () => spawnSync('pnpm', ['pack', '--pack-destination', out, '--json'], { cwd: dir, encoding: 'utf8' });

    const refused = pack();
    expect(refused.status).not.toBe(0);
    const lines = refused.stderr.split('\n').filter((l) => l.includes('refusing to pack'));
    expect(lines).toEqual([expect.stringMatching(/^backend-native: refusing to pack: expected prebuilt binaries in prebuilds\/linux-x64\/, found none/)]);

    writePrebuilds(dir, levels);
    writeFileSync(join(dir, SOURCES_FILE), `${sourcesHash(dir)}\n`);
    const packed = pack();
    expect(packed.status, packed.stderr).toBe(0);
    const report = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('{')));
    const files = report.files.map((f: { path: string }) => f.path);
    expect(files).toEqual(expect.arrayContaining([...levels.map(binary), SOURCES_FILE]));
  });
});

describe('the glibc a binary needs', () => {
  it('compares dotted versions by number', () => {
    expect(compareVersions('2.9', '2.28')).toBe(-1);
    expect(compareVersions('2.28', '2.28')).toBe(0);
    expect(compareVersions('2.2.5', '2.2')).toBe(1);
    expect(compareVersions('2.36', '2.28')).toBe(1);
  });

  const devBuild = join(packageDir(), ADDON_RELATIVE_PATH);
  const hasObjdump = spawnSync('objdump', ['--version'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!hasObjdump || !existsSync(devBuild))('is the newest GLIBC_ version objdump -T lists for the source build', () => {
    const listed = spawnSync('objdump', ['-T', devBuild], { encoding: 'utf8' }).stdout.match(/GLIBC_2\.[\d.]+/g) ?? [];
    const newest = listed.map((v) => v.slice('GLIBC_'.length)).sort(compareVersions).at(-1);
    expect(newest).toMatch(/^2\.\d+/);
    expect(glibcNeeded(devBuild)).toBe(newest);
  });
});
