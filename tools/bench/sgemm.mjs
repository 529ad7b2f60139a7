#!/usr/bin/env node
// sgemm through the native backend (the addon on Float32Arrays, and tf.matMul on backend 'native')
// against the same BLAS called directly from C. Prints a Markdown section for BENCHMARKS.md.
// Needs the built @efficientscale/backend-native with its addon (pnpm build) and a C compiler.
// Run alone: `node tools/bench/sgemm.mjs`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = resolve(root, 'packages/backend-native');
const dist = join(pkg, 'dist/index.js');
if (!existsSync(dist)) {
  console.error(`sgemm bench: expected the built package at ${dist}, found nothing (run pnpm build)`);
  process.exit(1);
}
const native = await import(pathToFileURL(dist).href);
const load = native.loadAddon();
if (!load.ok) {
  process.stdout.write(`## sgemm\n\nNot measured: the native backend is unavailable here (${load.reason.split('\n')[0]}).\n`);
  process.exit(0);
}
const { blasConfig } = await import(pathToFileURL(join(pkg, 'scripts/blas-config.mjs')).href);
const blas = blasConfig();
const reps = 20;
const sizes = [[1024, 1024, 1024], [2048, 768, 256], [2048, 256, 768], [512, 512, 512]];

// Direct: the C program, best of `reps`.
const dir = mkdtempSync(join(os.tmpdir(), 'es-sgemm-'));
const exe = join(dir, 'sgemm_direct');
const cc = spawnSync(process.env.CC || 'gcc', ['-O2', `-I${blas.include}`, join(pkg, 'bench/sgemm_direct.c'), '-o', exe, ...blas.libFlags], { encoding: 'utf8' });
if (cc.status !== 0) {
  console.error(`sgemm bench: could not compile the C reference: ${cc.stderr}`);
  process.exit(1);
}
function direct(m, n, k) {
  const r = spawnSync(exe, [m, n, k, reps].map(String), { encoding: 'utf8' });
  return JSON.parse(r.stdout.trim());
}

// Addon: the same product on Float32Arrays through N-API, best of `reps`.
function viaAddon(m, n, k) {
  const a = new Float32Array(m * k).map(() => Math.random());
  const b = new Float32Array(k * n).map(() => Math.random());
  const c = new Float32Array(m * n);
  load.addon.sgemm(a, b, c, 1, m, n, k, false, false);
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    load.addon.sgemm(a, b, c, 1, m, n, k, false, false);
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

// tf.matMul on backend 'native' (kernel dispatch, output allocation included), best of `reps`.
// the tfjs-core that the package itself loads (one instance per process)
const tf = await import(pathToFileURL(createRequire(join(pkg, 'package.json')).resolve('@tensorflow/tfjs-core')).href);
native.registerNativeBackend();
await tf.setBackend('native');
function viaTf(m, n, k) {
  const a = tf.randomUniform([m, k]);
  const b = tf.randomUniform([k, n]);
  tf.matMul(a, b).dispose();
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    const c = tf.matMul(a, b);
    c.dataSync();
    best = Math.min(best, performance.now() - t);
    c.dispose();
  }
  tf.dispose([a, b]);
  return best;
}

const gf = (m, n, k, ms) => (2 * m * n * k) / (ms / 1e3) / 1e9;
const rows = [];
for (const [m, n, k] of sizes) {
  // interleaved, twice, best kept: load from elsewhere on the machine then hits all three alike
  let d = { gflops: 0 }, a = Infinity, t = Infinity;
  for (let round = 0; round < 2; round++) {
    const dr = direct(m, n, k);
    if (dr.gflops > d.gflops) d = dr;
    a = Math.min(a, viaAddon(m, n, k));
    t = Math.min(t, viaTf(m, n, k));
  }
  rows.push(`| ${m}×${k} · ${k}×${n} | ${d.gflops.toFixed(1)} | ${gf(m, n, k, a).toFixed(1)} | ${gf(m, n, k, t).toFixed(1)} | ${(gf(m, n, k, a) / d.gflops * 100).toFixed(0)}% | ${(gf(m, n, k, t) / d.gflops * 100).toFixed(0)}% |`);
}
rmSync(dir, { recursive: true, force: true });

const cpus = os.cpus();
process.stdout.write([
  '## sgemm: native backend vs the system BLAS called directly',
  '',
  `Machine: ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}; BLAS: ${blas.name}; best of ${reps} products each.`,
  '',
  '| product (float32) | BLAS direct GFLOP/s | addon GFLOP/s | tf.matMul on native GFLOP/s | addon / direct | tf.matMul / direct |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...rows,
  '',
  'Command: `node tools/bench/sgemm.mjs` (direct: `packages/backend-native/bench/sgemm_direct.c` compiled with `gcc -O2 ... -lopenblas`).',
  '',
].join('\n'));
