import { describe, expect, it } from 'vitest';
import { tf, selectBackend, type BackendName } from '@efficientscale/core';
import { randomizedSvd, balancedFactors, disposeSvd } from './index.js';

/**
 * Manual benchmark of the randomized SVD on a Llama-7B-sized FFN weight. Skipped unless LOWRANK_BENCH=1:
 *   LOWRANK_BENCH=1 LOWRANK_BENCH_RANK=256 pnpm vitest run packages/lowrank/src/svd.bench-manual.test.ts
 * Optional: LOWRANK_BENCH_M, LOWRANK_BENCH_N (default 4096 × 11008), LOWRANK_BENCH_BACKEND (default cpu).
 */
const env = process.env;
const on = env.LOWRANK_BENCH === '1';

describe.skipIf(!on)('randomized SVD benchmark', () => {
  it('factorises an m×n Gaussian matrix at rank r and prints the seconds', async () => {
    const backend = await selectBackend((env.LOWRANK_BENCH_BACKEND ?? 'cpu') as BackendName);
    const m = Number(env.LOWRANK_BENCH_M ?? 4096);
    const n = Number(env.LOWRANK_BENCH_N ?? 11008);
    const rank = Number(env.LOWRANK_BENCH_RANK ?? 256);
    const a = tf.randomNormal([m, n], 0, 1, 'float32', 1) as tf.Tensor2D;
    a.dataSync();
    const t0 = performance.now();
    const svd = randomizedSvd(a, rank, { seed: 2 });
    const seconds = (performance.now() - t0) / 1000;
    const { u, v } = balancedFactors(svd);
    // Orthonormality of U as a sanity check on the result.
    const orth = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.matMul(svd.u, svd.u, true), tf.eye(rank)))).dataSync()[0]);
    const relErr = tf.tidy(() => Math.sqrt(tf.sum(tf.square(tf.sub(a, tf.matMul(u, v)))).dataSync()[0] / tf.sum(tf.square(a)).dataSync()[0]));
    process.stdout.write(`randomizedSvd ${m}x${n} rank ${rank} on ${backend.name}: ${seconds.toFixed(2)} s; max|UᵀU−I| ${orth.toExponential(2)}; relative error ${relErr.toFixed(4)}; σ1 ${svd.s[0].toFixed(2)} σr ${svd.s[rank - 1].toFixed(2)}\n`);
    expect(orth).toBeLessThan(1e-3);
    tf.dispose([a, u, v]);
    disposeSvd(svd);
  }, 3_600_000);
});
