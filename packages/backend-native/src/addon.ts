/**
 * Loads the compiled addon (build/Release/efficientscale_native.node), or says why it cannot.
 * The install script leaves build/UNAVAILABLE.txt with the reason when the build was not possible.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

type AnyTypedArray = Float32Array | Int32Array | Uint8Array;

/** The functions the addon exports; every kernel works on the given arrays' memory in place. */
export interface NativeAddon {
  binary(op: number, a: AnyTypedArray, aShape: number[], b: AnyTypedArray, bShape: number[], out: AnyTypedArray, outShape: number[]): void;
  compare(op: number, a: AnyTypedArray, aShape: number[], b: AnyTypedArray, bShape: number[], out: Uint8Array, outShape: number[]): void;
  unary(op: number, x: AnyTypedArray, out: AnyTypedArray, alpha?: number): void;
  reduce(op: number, x: AnyTypedArray, out: AnyTypedArray, outer: number, r: number, inner: number): void;
  softmax(x: Float32Array, out: Float32Array, rows: number, cols: number, log?: boolean): void;
  transpose(x: AnyTypedArray, out: AnyTypedArray, shape: number[], perm: number[]): void;
  slice(x: AnyTypedArray, out: AnyTypedArray, shape: number[], begin: number[], size: number[], strides?: number[]): void;
  gather(x: AnyTypedArray, indices: Int32Array, out: AnyTypedArray, outer: number, axisDim: number, inner: number): number;
  segmentSum(x: AnyTypedArray, ids: Int32Array, out: AnyTypedArray, numSegments: number): void;
  concat(inputs: AnyTypedArray[], innerSizes: number[], out: AnyTypedArray, outer: number): void;
  addN(inputs: AnyTypedArray[], out: AnyTypedArray): void;
  select(cond: Uint8Array, t: AnyTypedArray, e: AnyTypedArray, out: AnyTypedArray): void;
  oneHot(indices: Int32Array, out: AnyTypedArray, depth: number, on: number, off: number): void;
  tile(x: AnyTypedArray, out: AnyTypedArray, shape: number[], reps: number[]): void;
  sgemm(a: Float32Array, b: Float32Array, out: Float32Array, batch: number, m: number, n: number, k: number,
    transA: boolean, transB: boolean, aIdx?: Int32Array | null, bIdx?: Int32Array | null): void;
  adamW(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, pOut: Float32Array, mOut: Float32Array, vOut: Float32Array,
    lr: number, beta1: number, beta2: number, eps: number, decay: number, c1: number, c2: number): void;
  swiglu(gate: Float32Array, up: Float32Array, out: Float32Array): void;
  swigluGrad(gate: Float32Array, up: Float32Array, dy: Float32Array, dgate: Float32Array, dup: Float32Array): void;
  rope(x: Float32Array, cos: Float32Array, sin: Float32Array, out: Float32Array, seq: number, d: number, inverse: boolean): void;
  rmsNorm(x: Float32Array, weight: Float32Array, out: Float32Array, d: number, eps: number): void;
  rmsNormGrad(x: Float32Array, weight: Float32Array, dy: Float32Array, dx: Float32Array, dweight: Float32Array, d: number, eps: number): void;
  causalSoftmax(scores: Float32Array, out: Float32Array, seq: number, scale: number): void;
  causalSoftmaxGrad(y: Float32Array, dy: Float32Array, out: Float32Array, seq: number, scale: number): void;
  crossEntropy(logits: Float32Array, targets: Int32Array, loss: Float32Array, v: number): void;
  crossEntropyGrad(logits: Float32Array, targets: Int32Array, dy: Float32Array, out: Float32Array, v: number): void;
  info(): { threads: number; blasThreads: number; blas: string };
  setBlasThreads(n: number): void;
  selfTest(): true | string;
}

export type AddonLoad = { ok: true; addon: NativeAddon; path: string } | { ok: false; reason: string };

/** The package root: this file sits in src/ (sources) or dist/ (built), one level below it. */
export function packageDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..');
}

export const ADDON_RELATIVE_PATH = join('build', 'Release', 'efficientscale_native.node');

let cached: AddonLoad | undefined;

export function loadAddon(): AddonLoad {
  if (cached) return cached;
  const dir = packageDir();
  const path = join(dir, ADDON_RELATIVE_PATH);
  const unavailable = join(dir, 'build', 'UNAVAILABLE.txt');
  if (!existsSync(path)) {
    const why = existsSync(unavailable)
      ? readFileSync(unavailable, 'utf8').trim()
      : "the addon has not been built (run 'pnpm install' or 'pnpm --filter @efficientscale/backend-native build:addon')";
    cached = { ok: false, reason: why };
    return cached;
  }
  try {
    const addon = createRequire(import.meta.url)(path) as NativeAddon;
    const test = addon.selfTest();
    cached = test === true ? { ok: true, addon, path } : { ok: false, reason: `addon self-test failed: ${test}` };
  } catch (err) {
    cached = { ok: false, reason: `the addon at ${path} does not load: ${err instanceof Error ? err.message : String(err)}` };
  }
  return cached;
}
