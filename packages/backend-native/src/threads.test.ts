/**
 * The addon gives the same results whatever its thread count: products split into blocks, batches
 * spread over the pool, and row-threaded kernels, run in a child process with one thread and with three,
 * against a plain JavaScript product.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADDON_RELATIVE_PATH, packageDir } from './addon.js';
import { registration } from './test-util.js';

// [batch, m, n, k, transA, transB]: one product below and above the split size, row and column blocks, batches
const CASES: [number, number, number, number, boolean, boolean][] = [
  [1, 300, 130, 70, false, false],
  [1, 40, 400, 300, true, true],
  [5, 64, 48, 40, false, true],
  [7, 33, 20, 50, true, false],
  [1, 5, 4, 3, false, false],
];

const child = `
const addon = require(${JSON.stringify(join(packageDir(), ADDON_RELATIVE_PATH))});
const cases = ${JSON.stringify(CASES)};
const fill = (n, seed) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed * 78.233) * 2);
const out = cases.map(([b, m, n, k, ta, tb], i) => {
  const a = fill(b * m * k, i), bb = fill(b * k * n, i + 100), c = new Float32Array(b * m * n);
  addon.sgemm(a, bb, c, b, m, n, k, ta, tb, null, null);
  return Array.from(c);
});
const x = fill(64 * 40, 7), w = fill(40, 8), dy = fill(64 * 40, 9), dx = new Float32Array(64 * 40), dw = new Float32Array(40);
addon.rmsNormGrad(x, w, dy, dx, dw, 40, 1e-5);
console.log(JSON.stringify({ threads: addon.info().threads, out, dx: Array.from(dx), dw: Array.from(dw) }));
`;

function runWith(threads: number) {
  const r = spawnSync(process.execPath, ['-e', child], {
    encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, EFFICIENTSCALE_NATIVE_THREADS: String(threads) },
  });
  expect(r.status, `${r.stderr} ${r.signal ?? ''} ${r.error?.message ?? ''}`).toBe(0);
  return JSON.parse(r.stdout) as { threads: number; out: number[][]; dx: number[]; dw: number[] };
}

const fill = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed * 78.233) * 2);

function reference([b, m, n, k, ta, tb]: (typeof CASES)[number], i: number): number[] {
  const a = fill(b * m * k, i), bb = fill(b * k * n, i + 100);
  const c: number[] = [];
  for (let p = 0; p < b; p++)
    for (let r = 0; r < m; r++)
      for (let q = 0; q < n; q++) {
        let s = 0;
        for (let j = 0; j < k; j++) {
          const av = ta ? a[p * m * k + j * m + r] : a[p * m * k + r * k + j];
          const bv = tb ? bb[p * k * n + q * k + j] : bb[p * k * n + j * n + q];
          s += av * bv;
        }
        c.push(s);
      }
  return c;
}

describe.skipIf(!registration.ok)('thread count', () => {
  it('products and row-threaded kernels agree with one thread and with three', () => {
    const one = runWith(1), three = runWith(3);
    expect(one.threads).toBe(1);
    expect(three.threads).toBe(3);
    CASES.forEach((c, i) => {
      const want = reference(c, i);
      for (const got of [one.out[i], three.out[i]]) {
        expect(got.length).toBe(want.length);
        for (let j = 0; j < want.length; j++) {
          if (Math.abs(got[j] - want[j]) > 1e-4 * (1 + Math.abs(want[j]))) throw new Error(`case ${i} element ${j}: ${got[j]} vs ${want[j]}`);
        }
      }
    });
    for (let j = 0; j < one.dx.length; j++) expect(Math.abs(one.dx[j] - three.dx[j])).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(one.dx[j])));
    for (let j = 0; j < one.dw.length; j++) expect(Math.abs(one.dw[j] - three.dw[j])).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(one.dw[j])));
  });
});
