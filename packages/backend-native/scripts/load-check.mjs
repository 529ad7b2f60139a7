#!/usr/bin/env node
// Loads the prebuilt binaries on this machine and checks that they compute: each level this CPU runs is
// loaded directly (self-test, then log, pow and log-softmax, the kernels whose libm calls
// src/native/glibc-compat.h binds to old glibc versions, against JavaScript), then the package's own
// loader must pick a prebuilt binary and the 'native' tfjs backend must match the cpu backend on a
// matMul, a log and a pow. scripts/prebuild-old-glibc.sh runs it in the old-glibc root. Needs dist/.
//
//   node scripts/load-check.mjs     # exit 1 with the reason when a binary does not load or computes wrong
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cpuLevels, prebuiltFile } from './prebuilt.mjs';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const fail = (msg) => {
  process.stderr.write(`load-check: ${msg}\n`);
  process.exit(1);
};
const say = (msg) => process.stderr.write(`load-check: ${msg}\n`);

/** Largest |a − b| relative to max(1, |b|). */
function maxRelError(a, b) {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return worst;
}
function expectClose(what, got, want, tol = 1e-5) {
  const err = maxRelError(got, want);
  if (!(err <= tol)) fail(`${what}: expected within ${tol} of JavaScript's result, found an error of ${err}`);
}

const glibc = process.report.getReport().header.glibcVersionRuntime;
say(`glibc ${glibc}, Node ${process.version}`);
const n = 4096;
const x = Float32Array.from({ length: n }, (_, i) => 0.01 + (i % 97) * 0.37);
const e = Float32Array.from({ length: n }, (_, i) => -1.5 + (i % 13) * 0.25);

const levels = cpuLevels().filter((level) => existsSync(join(pkgDir, prebuiltFile(level))));
if (levels.length === 0) fail(`expected a prebuilt binary for this CPU (levels ${cpuLevels().join(', ') || 'none'}), found none in prebuilds/`);
for (const level of levels) {
  const file = join(pkgDir, prebuiltFile(level));
  let addon;
  try {
    addon = require(file);
  } catch (err) {
    fail(`${prebuiltFile(level)} does not load on glibc ${glibc}: ${err instanceof Error ? err.message.split('\n')[0] : err}`);
  }
  const test = addon.selfTest();
  if (test !== true) fail(`${level}: self-test failed: ${test}`);
  const out = new Float32Array(n);
  addon.unary(1, x, out); // UnaryOp.Log
  expectClose(`${level} log`, out, x.map(Math.log));
  addon.binary(7, x, [n], e, [n], out, [n]); // BinaryOp.Pow
  expectClose(`${level} pow`, out, x.map((v, i) => Math.fround(v ** e[i])));
  const rows = 4;
  const cols = n / rows;
  addon.softmax(x, out, rows, cols, true);
  const want = new Float32Array(n);
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * cols, (r + 1) * cols);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    for (let i = 0; i < cols; i++) want[r * cols + i] = row[i] - lse;
  }
  expectClose(`${level} log-softmax`, out, want);
  say(`${prebuiltFile(level)}: loads, self-test, log, pow and log-softmax match`);
}

const dist = join(pkgDir, 'dist', 'index.js');
if (!existsSync(dist)) fail(`expected the built package at ${dist}, found none (run pnpm build)`);
const native = await import(pathToFileURL(dist).href);
const tf = await import('@tensorflow/tfjs-core');
await import('@tensorflow/tfjs-backend-cpu');
tf.env().set('PROD', true); // no "install our node backend" banner from the cpu backend
const load = native.loadAddon();
if (!load.ok) fail(`the package's loader found no binary: ${load.reason}`);
if (!load.path.includes(`${join('prebuilds', 'linux-x64')}`)) fail(`expected the loader to pick a prebuilt binary, found ${load.path}`);
const registration = native.registerNativeBackend();
if (!registration.ok) fail(`the native backend did not register: ${registration.reason}`);

async function compute(backend) {
  await tf.setBackend(backend);
  const a = tf.tensor2d(Float32Array.from({ length: 64 * 48 }, (_, i) => Math.sin(i)), [64, 48]);
  const b = tf.tensor2d(Float32Array.from({ length: 48 * 32 }, (_, i) => Math.cos(i)), [48, 32]);
  const p = tf.tensor1d(x.subarray(0, 256));
  const results = [tf.matMul(a, b), tf.log(p), tf.pow(p, tf.scalar(1.7))];
  const values = results.map((t) => t.dataSync().slice());
  tf.dispose([a, b, p, ...results]);
  return values;
}
const onNative = await compute('native');
const onCpu = await compute('cpu');
for (const [i, name] of ['matMul', 'log', 'pow'].entries()) expectClose(`tfjs ${name} on native`, onNative[i], onCpu[i], 1e-4);
say(`the package loads ${load.path.slice(pkgDir.length + 1)}; the native backend's matMul, log and pow match the cpu backend`);
