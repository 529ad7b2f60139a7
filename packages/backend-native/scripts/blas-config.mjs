#!/usr/bin/env node
// Finds OpenBLAS (header with cblas_sgemm + library) by compiling and linking a tiny probe.
// `node blas-config.mjs include|libs|name` prints one field for binding.gyp; import { blasConfig } for the rest.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const INCLUDE_CANDIDATES = [
  process.env.OPENBLAS_INCLUDE,
  '/usr/include/x86_64-linux-gnu/openblas-pthread',
  '/usr/include/aarch64-linux-gnu/openblas-pthread',
  '/usr/include/openblas',
  '/usr/local/include/openblas',
  '/opt/homebrew/opt/openblas/include',
  '/usr/local/opt/openblas/include',
  '/usr/include',
  '/usr/local/include',
].filter(Boolean);

const PROBE = `#include <cblas.h>
#include <stdio.h>
int main(void) {
  float a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8}, c[4] = {0};
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 2, 1.f, a, 2, b, 2, 0.f, c, 2);
  printf("%s\\n", openblas_get_config());
  return c[0] == 19.f && c[3] == 50.f ? 0 : 3;
}
`;

export function blasConfig() {
  const cc = process.env.CC || 'gcc';
  const dir = mkdtempSync(join(tmpdir(), 'es-blas-'));
  try {
    writeFileSync(join(dir, 'probe.c'), PROBE);
    const libDirs = (process.env.OPENBLAS_LIB ? [process.env.OPENBLAS_LIB] : []).concat(
      ['/opt/homebrew/opt/openblas/lib', '/usr/local/opt/openblas/lib'].filter((d) => existsSync(d)));
    let lastErr = '';
    for (const inc of INCLUDE_CANDIDATES) {
      if (!existsSync(join(inc, 'cblas.h'))) continue;
      const libFlags = [...libDirs.map((d) => `-L${d}`), '-lopenblas'];
      const exe = join(dir, 'probe');
      const r = spawnSync(cc, ['-O1', `-I${inc}`, join(dir, 'probe.c'), '-o', exe, ...libFlags], { encoding: 'utf8' });
      if (r.error) return { ok: false, reason: `no C compiler '${cc}' to probe the BLAS: ${r.error.message}` };
      if (r.status !== 0) { lastErr = (r.stderr || '').trim().split('\n').slice(-3).join('\n'); continue; }
      const run = spawnSync(exe, [], { encoding: 'utf8' });
      if (run.status !== 0) { lastErr = `probe linked against ${inc} but computed a wrong product (exit ${run.status})`; continue; }
      return { ok: true, include: inc, libDirs, lib: 'openblas', libFlags, name: run.stdout.trim() };
    }
    return {
      ok: false,
      reason: `no BLAS: OpenBLAS (cblas.h + libopenblas) not found; install it (apt-get install libopenblas-dev), then run 'npm rebuild @efficientscale/backend-native' (npm) or 'pnpm rebuild @efficientscale/backend-native' (pnpm, after 'pnpm approve-builds')${lastErr ? `\nlast probe error: ${lastErr}` : ''}`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const cfg = blasConfig();
  const field = process.argv[2];
  if (!cfg.ok) { process.stderr.write(cfg.reason + '\n'); process.exit(1); }
  if (field === 'include') process.stdout.write(cfg.include + '\n');
  else if (field === 'libs') process.stdout.write(cfg.libFlags.join(' ') + '\n');
  else process.stdout.write(JSON.stringify(cfg) + '\n');
}
