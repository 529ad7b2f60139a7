// Prebuilt binaries: which ones fit this machine, whether they match the shipped C++ sources, and the
// hint for building from source. Shared by the loader (src/addon.ts), the install script
// (build-addon.mjs) and the script that makes them (prebuild.mjs).
//
// Layout: prebuilds/<platform>-<arch>/efficientscale_native.<libc>.<level>.node, one per x86-64
// micro-architecture level (gcc's -march names), and prebuilds/SOURCES.sha256: the hash of the sources
// they were compiled from. Each level is a portable baseline of its own; the loader picks the best level
// this CPU supports (AVX-512, else AVX2 + FMA, else SSE4.2), so no binary is compiled for one machine.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** x86-64 levels, best first, with the /proc/cpuinfo flags each needs (beyond the previous level's). */
export const X64_LEVELS = [
  { level: 'x86-64-v4', flags: ['avx512f', 'avx512bw', 'avx512cd', 'avx512dq', 'avx512vl'] },
  { level: 'x86-64-v3', flags: ['avx', 'avx2', 'bmi1', 'bmi2', 'f16c', 'fma', 'abm', 'movbe', 'xsave'] },
  { level: 'x86-64-v2', flags: ['cx16', 'lahf_lm', 'popcnt', 'sse4_1', 'sse4_2', 'ssse3'] },
];

export const PREBUILDS_DIR = 'prebuilds';

/** The oldest glibc the shipped binaries load on (Debian 10, RHEL/AlmaLinux 8); scripts/prebuild-old-glibc.sh makes them so. */
export const MAX_GLIBC = '2.28';
export const SOURCES_FILE = join(PREBUILDS_DIR, 'SOURCES.sha256');

/** 'glibc' or 'musl' on Linux (prebuilds are for glibc only), else the platform name. */
export function libc() {
  if (process.platform !== 'linux') return process.platform;
  const header = process.report?.getReport?.().header;
  return header?.glibcVersionRuntime ? 'glibc' : 'musl';
}

/** The levels this CPU runs, best first (none when /proc/cpuinfo cannot be read). */
export function cpuLevels(cpuinfo = readCpuinfo()) {
  const line = cpuinfo.split('\n').find((l) => l.startsWith('flags')) ?? '';
  const have = new Set(line.replace(/^flags\s*:/, '').trim().split(/\s+/));
  const levels = [];
  // A level needs its own flags and every lower level's.
  for (let i = X64_LEVELS.length - 1; i >= 0; i--) {
    if (!X64_LEVELS[i].flags.every((f) => have.has(f))) break;
    levels.unshift(X64_LEVELS[i].level);
  }
  return levels;
}

function readCpuinfo() {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
}

/** The file name a prebuilt for one level has. */
export function prebuiltFile(level, platform = process.platform, arch = process.arch, lib = libc()) {
  return join(PREBUILDS_DIR, `${platform}-${arch}`, `efficientscale_native.${lib}.${level}.node`);
}

/** -1, 0 or 1 as dotted version a is older than, the same as or newer than b ('2.9' < '2.28'). */
export function compareVersions(a, b) {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/**
 * The newest glibc a binary needs, e.g. '2.28': the highest GLIBC_2.N version name in its dynamic string
 * table (what `objdump -T` lists), or null when it names none. Read from the file, so packing needs no binutils.
 */
export function glibcNeeded(file) {
  let newest = null;
  for (const m of readFileSync(file).toString('latin1').matchAll(/(?<=\0)GLIBC_(2\.\d+(?:\.\d+)?)(?=\0)/g)) {
    if (newest === null || compareVersions(m[1], newest) > 0) newest = m[1];
  }
  return newest;
}

/** sha256 of the sources a binary is compiled from (binding.gyp and src/native/*), in name order. */
export function sourcesHash(pkgDir) {
  const hash = createHash('sha256');
  const nativeDir = join(pkgDir, 'src', 'native');
  const files = ['binding.gyp', ...readdirSync(nativeDir).sort().map((f) => join('src', 'native', f))];
  for (const f of files) hash.update(`${f}\0`).update(readFileSync(join(pkgDir, f))).update('\0');
  return hash.digest('hex');
}

/**
 * The prebuilt binaries that fit this machine, best first, as paths under pkgDir; or why there are none.
 * Binaries compiled from other sources than the ones beside them (an edited kernel) never fit.
 */
export function prebuiltCandidates(pkgDir) {
  if (process.platform !== 'linux' || process.arch !== 'x64') return { paths: [], why: `no prebuilt binary for ${process.platform}-${process.arch} (only linux-x64)` };
  if (libc() !== 'glibc') return { paths: [], why: 'no prebuilt binary for musl (only glibc)' };
  const paths = cpuLevels().map((level) => join(pkgDir, prebuiltFile(level))).filter((p) => existsSync(p));
  if (paths.length === 0) return { paths, why: 'no prebuilt binary in this package for this CPU' };
  const stamp = join(pkgDir, SOURCES_FILE);
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8').trim() !== sourcesHash(pkgDir)) {
    return { paths: [], why: 'the prebuilt binaries were compiled from other sources than src/native (rebuild them with the prebuild script)' };
  }
  return { paths, why: '' };
}

/** What to run to build from source, valid for npm and pnpm users (pnpm 10 skips build scripts until approved). */
export const SOURCE_BUILD_HINT =
  'to build it from source, install g++, make, python3 and libopenblas-dev, then run ' +
  "'npm rebuild @efficientscale/backend-native' (npm) or 'pnpm approve-builds' and " +
  "'pnpm rebuild @efficientscale/backend-native' (pnpm skips dependencies' build scripts until approved)";

/** Added when a prebuilt binary fails to load for want of the OpenBLAS runtime library. */
export const BLAS_RUNTIME_HINT = 'the prebuilt binary links OpenBLAS dynamically: install its runtime library (Debian/Ubuntu: apt-get install libopenblas0)';
