/**
 * Loads the compiled addon (a prebuilt binary from prebuilds/, or build/Release/efficientscale_native.node),
 * or says why it cannot. The install script leaves build/UNAVAILABLE.txt with the reason when a source
 * build was not possible.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BLAS_RUNTIME_HINT, SOURCE_BUILD_HINT, prebuiltCandidates } from '../scripts/prebuilt.mjs';

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
  gelu(x: Float32Array, out: Float32Array): void;
  geluGrad(x: Float32Array, dy: Float32Array, dx: Float32Array): void;
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

/** Loads one binary and runs its self-test; the reason when it cannot. */
function tryLoad(path: string): AddonLoad {
  try {
    const addon = createRequire(import.meta.url)(path) as NativeAddon;
    const test = addon.selfTest();
    return test === true ? { ok: true, addon, path } : { ok: false, reason: `${path}: self-test failed: ${test}` };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const blas = /libopenblas/.test(message) ? `; ${BLAS_RUNTIME_HINT}` : '';
    return { ok: false, reason: `${path} does not load: ${message.split('\n')[0]}${blas}` };
  }
}

/**
 * The addon: the best prebuilt binary for this CPU (prebuilds/, shipped in the npm tarball), else the
 * source build (build/Release, made by the install script), else the reasons with what to run.
 * EFFICIENTSCALE_NATIVE_PREFER_SOURCE=1 tries the source build first (it is compiled for this very CPU).
 */
export function loadAddon(): AddonLoad {
  if (cached) return cached;
  const dir = packageDir();
  const source = join(dir, ADDON_RELATIVE_PATH);
  const prebuilt = prebuiltCandidates(dir);
  const order = process.env.EFFICIENTSCALE_NATIVE_PREFER_SOURCE ? [source, ...prebuilt.paths] : [...prebuilt.paths, source];
  const failures: string[] = prebuilt.why ? [prebuilt.why] : [];
  for (const path of order) {
    if (path === source && !existsSync(source)) {
      const unavailable = join(dir, 'build', 'UNAVAILABLE.txt');
      failures.push(existsSync(unavailable) ? `no source build: ${readFileSync(unavailable, 'utf8').trim()}` : 'no source build (the install script did not run or did not build it)');
      continue;
    }
    const load = tryLoad(path);
    if (load.ok) return (cached = load);
    failures.push(load.reason);
  }
  const reason = failures.join('; ');
  cached = { ok: false, reason: reason.includes(SOURCE_BUILD_HINT) ? reason : `${reason}; ${SOURCE_BUILD_HINT}` };
  return cached;
}
