/**
 * Helpers for the property tests: run the same computation on 'cpu' and on 'native' from the same
 * input data, and compare.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';
import fc from 'fast-check';
import { expect } from 'vitest';
import { registerNativeBackend } from './register.js';

export { tf, fc };

export const registration = registerNativeBackend();
/** Printed once by each test file when the native backend cannot be tested here. */
export const skipReason = registration.ok ? null : `native backend unavailable: ${registration.reason}`;
if (skipReason) process.stderr.write(`backend-native tests skipped: ${skipReason}\n`);

export interface Result {
  shape: number[];
  dtype: string;
  values: number[];
}

/** Deterministic values from a seed: floats in [lo, hi), or integers when `int`. */
export function values(seed: number, n: number, lo = -2, hi = 2, int = false): number[] {
  let s = seed >>> 0 || 1;
  const out: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = int ? Math.floor(lo + u * (hi - lo)) : Math.fround(lo + u * (hi - lo));
  }
  return out;
}

export const sizeOf = (shape: number[]) => shape.reduce((p, d) => p * d, 1);

/** Runs `build` under `backend`, returning every output's shape, dtype and values; checks for leaks. */
export function runOn(backend: 'cpu' | 'native', build: () => tf.Tensor | tf.Tensor[]): Result[] {
  tf.setBackend(backend);
  expect(tf.getBackend()).toBe(backend);
  const before = tf.memory().numTensors;
  const dataIdsBefore = tf.engine().backend.numDataIds();
  const outs = tf.tidy(() => {
    const r = build();
    return Array.isArray(r) ? r : [r];
  });
  const res = outs.map((t) => ({ shape: t.shape, dtype: t.dtype, values: Array.from(t.dataSync() as ArrayLike<number>) }));
  tf.dispose(outs);
  // No tensors or intermediate buffers outlive the computation.
  expect(tf.memory().numTensors).toBe(before);
  expect(tf.engine().backend.numDataIds()).toBe(dataIdsBefore);
  return res;
}

export interface Tolerance {
  rtol?: number;
  atol?: number;
}

export function close(got: number, want: number, { rtol = 1e-5, atol = 1e-6 }: Tolerance = {}): boolean {
  if (Number.isNaN(want)) return Number.isNaN(got);
  if (!Number.isFinite(want)) return got === want;
  return Math.abs(got - want) <= atol + rtol * Math.abs(want);
}

/** Asserts that 'native' gives the same outputs as 'cpu' (exactly for integer and bool dtypes). */
export function expectSame(build: () => tf.Tensor | tf.Tensor[], tol: Tolerance = {}): void {
  const want = runOn('cpu', build);
  const got = runOn('native', build);
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    expect(got[i].shape).toEqual(want[i].shape);
    expect(got[i].dtype).toBe(want[i].dtype);
    // cpu sometimes leaves stray values behind an empty shape; only the shape's elements count
    const n = sizeOf(want[i].shape);
    expect(got[i].values.length).toBe(n);
    want[i].values = want[i].values.slice(0, n);
    if (want[i].dtype !== 'float32') {
      expect(got[i].values).toEqual(want[i].values);
      continue;
    }
    for (let j = 0; j < want[i].values.length; j++) {
      const g = got[i].values[j], w = want[i].values[j];
      if (!close(g, w, tol)) {
        throw new Error(`output ${i} element ${j} of shape [${want[i].shape}]: native ${g}, cpu ${w}`);
      }
    }
  }
}

/** The error message a computation throws on a backend, or null. */
export function errorOn(backend: 'cpu' | 'native', build: () => tf.Tensor): string | null {
  tf.setBackend(backend);
  try {
    tf.tidy(build);
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

// ---- shape generators ------------------------------------------------------------------------

/** A shape of rank [minRank, maxRank] with dims in [0, maxDim] (0 and 1 included). */
export const shapeArb = (minRank = 0, maxRank = 4, maxDim = 5, minDim = 0) =>
  fc.array(fc.integer({ min: minDim, max: maxDim }), { minLength: minRank, maxLength: maxRank });

/** Two shapes that broadcast together: dims of the output shape, some set to 1 or dropped from the front. */
export const broadcastPairArb = (maxRank = 4, maxDim = 5) =>
  fc
    .tuple(
      shapeArb(0, maxRank, maxDim),
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: maxRank, maxLength: maxRank }),
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: maxRank, maxLength: maxRank }),
      fc.nat(maxRank),
      fc.nat(maxRank),
    )
    .map(([out, ka, kb, dropA, dropB]) => {
      const a = out.map((d, i) => (ka[i] === 0 ? 1 : d)).slice(Math.min(dropA, out.length));
      const b = out.map((d, i) => (kb[i] === 0 ? 1 : d)).slice(Math.min(dropB, out.length));
      return { a, b };
    });

export const seedArb = fc.integer({ min: 1, max: 2 ** 31 - 1 });

export const FC_RUNS = { numRuns: 60 };
