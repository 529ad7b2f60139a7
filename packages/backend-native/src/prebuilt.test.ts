import { afterAll, describe, expect, it } from 'vitest';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SOURCES_FILE, SOURCE_BUILD_HINT, cpuLevels, prebuiltCandidates, prebuiltFile, sourcesHash } from '../scripts/prebuilt.mjs';
import { packageDir } from './addon.js';

const V2 = 'cx16 lahf_lm popcnt sse4_1 sse4_2 ssse3';
const V3 = 'avx avx2 bmi1 bmi2 f16c fma abm movbe xsave';
const V4 = 'avx512f avx512bw avx512cd avx512dq avx512vl';
const cpuinfo = (flags: string) => `processor\t: 0\nflags\t\t: fpu sse sse2 ${flags}\n`;

describe('which prebuilt level a CPU runs', () => {
  it('takes the best level whose flags, and every lower level’s, the CPU has', () => {
    expect(cpuLevels(cpuinfo(`${V2} ${V3} ${V4}`))).toEqual(['x86-64-v4', 'x86-64-v3', 'x86-64-v2']);
    expect(cpuLevels(cpuinfo(`${V2} ${V3}`))).toEqual(['x86-64-v3', 'x86-64-v2']);
    expect(cpuLevels(cpuinfo(`${V2} ${V3.replace('fma', '')} ${V4}`))).toEqual(['x86-64-v2']);
    expect(cpuLevels(cpuinfo(`${V3} ${V4}`))).toEqual([]);
    expect(cpuLevels('')).toEqual([]);
  });
});

describe('prebuilt binaries must match the sources beside them', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'es-prebuilt-test-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  cpSync(join(packageDir(), 'binding.gyp'), join(scratch, 'binding.gyp'));
  cpSync(join(packageDir(), 'src', 'native'), join(scratch, 'src', 'native'), { recursive: true });
  const best = cpuLevels()[0];
  const supported = process.platform === 'linux' && process.arch === 'x64' && best !== undefined;

  it.skipIf(!supported)('a binary for this CPU with the sources’ hash is a candidate; after an edit it is not', () => {
    const file = join(scratch, prebuiltFile(best));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, 'not really a binary');
    expect(prebuiltCandidates(scratch).why).toContain('other sources');
    writeFileSync(join(scratch, SOURCES_FILE), `${sourcesHash(scratch)}\n`);
    expect(prebuiltCandidates(scratch)).toEqual({ paths: [file], why: '' });
    appendFileSync(join(scratch, 'src', 'native', 'addon.cc'), '\n// edited\n');
    expect(prebuiltCandidates(scratch)).toEqual({ paths: [], why: expect.stringContaining('other sources than src/native') });
  });

  it('the source-build hint works for npm and pnpm users, not only inside this repository', () => {
    expect(SOURCE_BUILD_HINT).toContain('npm rebuild @efficientscale/backend-native');
    expect(SOURCE_BUILD_HINT).toContain('pnpm approve-builds');
    expect(SOURCE_BUILD_HINT).not.toContain('--filter');
  });
});
