#!/usr/bin/env node
// Compiles the prebuilt binaries that ship in the npm tarball: one per x86-64 level (x86-64-v2 baseline,
// v3 with AVX2 + FMA, v4 with AVX-512), never -march=native, with libstdc++ and libgcc linked statically
// so that only glibc and the OpenBLAS runtime (libopenblas.so.0) are needed where they are loaded. Each is
// built in a scratch copy of the sources (build/ keeps the -march=native development build), loaded and
// self-tested, then written to prebuilds/linux-x64/ with prebuilds/SOURCES.sha256. Linux x64 only.
// The glibc a binary needs is that of the machine it is linked on (less the libm functions that
// src/native/glibc-compat.h binds to old versions): the shipped ones are made on an old glibc by
// scripts/prebuild-old-glibc.sh, which runs this inside a Debian root with --max-glibc.
//
//   node scripts/prebuild.mjs                      # every level, for this machine's glibc
//   node scripts/prebuild.mjs x86-64-v3            # some levels
//   node scripts/prebuild.mjs --max-glibc=2.28     # fail when a binary needs a newer glibc
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SOURCES_FILE, X64_LEVELS, compareVersions, cpuLevels, glibcNeeded, prebuiltFile, sourcesHash } from './prebuilt.mjs';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const maxGlibc = process.argv.find((a) => a.startsWith('--max-glibc='))?.slice('--max-glibc='.length);
const asked = process.argv.slice(2).filter((a) => !a.startsWith('--max-glibc='));
const levels = asked.length ? asked : X64_LEVELS.map((l) => l.level);
const fail = (msg) => {
  process.stderr.write(`prebuild: ${msg}\n`);
  process.exit(1);
};
if (process.platform !== 'linux' || process.arch !== 'x64') fail(`prebuilt binaries are made on linux-x64, found ${process.platform}-${process.arch}`);
for (const l of levels) if (!X64_LEVELS.some((x) => x.level === l)) fail(`expected a level among ${X64_LEVELS.map((x) => x.level).join(', ')}, found ${l}`);

const prefix = dirname(dirname(process.execPath));
const nodedir = existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : '/usr';
const gyp = require.resolve('node-gyp/bin/node-gyp.js');
const runnable = new Set(cpuLevels());
const hash = sourcesHash(pkgDir);

for (const level of levels) {
  const scratch = mkdtempSync(join(tmpdir(), `es-prebuild-${level}-`));
  try {
    for (const p of ['binding.gyp', 'scripts', join('src', 'native')]) cpSync(join(pkgDir, p), join(scratch, p), { recursive: true });
    // binding.gyp resolves node-addon-api from its own folder: link this package's node_modules there.
    symlinkSync(join(pkgDir, 'node_modules'), join(scratch, 'node_modules'));
    const started = performance.now();
    const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`, '--jobs=max', `--es_march=${level}`, '--es_static_cxx=1', '--es_old_glibc=1'], { cwd: scratch, encoding: 'utf8' });
    if (r.status !== 0) fail(`${level}: node-gyp failed (exit ${r.status}):\n${`${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-30).join('\n')}`);
    const built = join(scratch, 'build', 'Release', 'efficientscale_native.node');
    const glibc = glibcNeeded(built);
    if (maxGlibc && glibc && compareVersions(glibc, maxGlibc) > 0) fail(`${level}: expected a binary that loads on glibc ${maxGlibc}, found one that needs glibc ${glibc} (objdump -T ${built})`);
    if (runnable.has(level)) {
      const test = require(built).selfTest();
      if (test !== true) fail(`${level}: self-test failed: ${test}`);
    }
    const dest = join(pkgDir, prebuiltFile(level));
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(built, dest);
    process.stderr.write(`prebuild: ${dest} (${((performance.now() - started) / 1000).toFixed(0)} s, needs glibc ${glibc}${runnable.has(level) ? ', self-test passed' : ', not run: this CPU lacks the level'})\n`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
writeFileSync(join(pkgDir, SOURCES_FILE), `${hash}\n`);
