import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { prebuildsProblem } from '../scripts/check-prebuilds.mjs';
import { SOURCES_FILE, X64_LEVELS, prebuiltFile, sourcesHash } from '../scripts/prebuilt.mjs';
import { packageDir } from './addon.js';

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

function writePrebuilds(dir: string, which: string[]): void {
  for (const level of which) {
    mkdirSync(dirname(join(dir, binary(level))), { recursive: true });
    writeFileSync(join(dir, binary(level)), `stand-in for the ${level} binary`);
  }
}

describe('a tarball is never packed without the prebuilt binaries', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'es-check-prebuilds-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('names what is missing: all binaries, one level, the source stamp, or a stamp of other sources', () => {
    const dir = packageCopy(scratch);
    expect(prebuildsProblem(dir)).toMatch(/^expected prebuilt binaries in prebuilds\/linux-x64\/, found none \(run pnpm --filter @efficientscale\/backend-native build:prebuilds\)$/);
    writePrebuilds(dir, levels.slice(1));
    expect(prebuildsProblem(dir)).toContain(`found none at ${binary(levels[0])} (run`);
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

