/**
 * Shared by the tests: registers the webgpu backend once (SwiftShader where there is no GPU), says once
 * why the tests skip when it cannot start, and compares results with a stated tolerance.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import fc from 'fast-check';
import { expect } from 'vitest';
import { registerWebGPUBackend } from './register.js';
import { swiftShaderIcd } from './node-gpu.js';

export { tf, fc };

export const registration = await registerWebGPUBackend();
export const skipReason = registration.ok ? null : `webgpu backend unavailable: ${registration.reason}`;
if (!registration.ok) process.stderr.write(`backend-webgpu tests skipped: ${skipReason}\n`);
else process.stderr.write(`backend-webgpu tests run on ${registration.adapter.label}\n`);

/** Whether this machine should be able to run them: Chromium's SwiftShader and the Vulkan loader are installed. */
export function webgpuExpected(): boolean {
  const fs = process.getBuiltinModule('node:fs');
  const loader = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1', '/usr/lib64/libvulkan.so.1'].some((p) => fs.existsSync(p));
  return swiftShaderIcd() !== null && loader;
}

/** Deterministic float32 values in [lo, hi) from a seed. */
export function values(seed: number, n: number, lo = -2, hi = 2): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (((t ^ (t >>> 14)) >>> 0) / 4294967296) * (hi - lo);
  }
  return out;
}

export const sizeOf = (shape: number[]) => shape.reduce((p, d) => p * d, 1);

const maxAbs = (a: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i]) > m) m = Math.abs(a[i]);
  return m;
};

/**
 * Each element within rtol relative of the reference, plus an absolute slack of rtol times the larger of
 * the output's largest magnitude and `termScale` (the size of terms an output is a difference of).
 */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string, rtol: number, termScale = 0): void {
  expect(got.length, what).toBe(want.length);
  const atol = rtol * Math.max(maxAbs(want), termScale) + 1e-30;
  for (let i = 0; i < want.length; i++) {
    const g = got[i], w = want[i];
    const ok = Number.isNaN(w) ? Number.isNaN(g) : !Number.isFinite(w) ? g === w : Math.abs(g - w) <= atol + rtol * Math.abs(w);
    if (!ok) throw new Error(`${what} element ${i}: webgpu ${g}, reference ${w} (rtol ${rtol})`);
  }
}

/**
 * Runs a kernel on 'webgpu' and reads its outputs back; checks that no tensor is left behind and that
 * the backend's GPU bytes come back to where they were.
 */
export async function runWebGPU(name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown> = {}): Promise<Float32Array[]> {
  const before = tf.memory().numTensors;
  const raw = tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
  const outs = Array.isArray(raw) ? raw : [raw];
  const res = await Promise.all(outs.map(async (t) => Float32Array.from((await t.data()) as Float32Array)));
  tf.dispose(outs);
  expect(tf.memory().numTensors).toBe(before);
  return res;
}
