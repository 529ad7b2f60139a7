/**
 * Fused kernels that work row by row (names and semantics: core's src/ops/kernel-names.ts): one
 * workgroup per row, reducing in workgroup memory; RoPE one invocation per rotated pair; the sum of
 * squares (gradient clipping) in two passes.
 */
import { util, type TensorInfo } from '@tensorflow/tfjs-core';
import { groups, internals, LINEAR, runProgram } from './run.js';

const WG = 128;
/** Rows this long or shorter run one per invocation (no workgroup barriers: far cheaper on SwiftShader). */
export const SHORT_ROW = 256;
const THREAD_WG = 64;

/** WGSL: workgroup sum and max, leaving the result in every invocation. */
const REDUCE_GROUP = /* wgsl */ `
var<workgroup> red: array<f32, ${WG}>;
fn reduceSum(v: f32, lane: u32) -> f32 {
  red[lane] = v;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (lane < s) { red[lane] = red[lane] + red[lane + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
fn reduceMax(v: f32, lane: u32) -> f32 {
  red[lane] = v;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (lane < s) { red[lane] = max(red[lane], red[lane + s]); }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
`;
const REDUCE_THREAD = /* wgsl */ `
fn reduceSum(v: f32, lane: u32) -> f32 { return v; }
fn reduceMax(v: f32, lane: u32) -> f32 { return v; }
`;

/**
 * A shader that handles `rows` rows of `rowLength`: one workgroup of ${WG} per row (lanes stride the row,
 * reductions in workgroup memory), or for short rows one invocation per row (lane 0, stride 1). The body
 * sees \`row\`, \`lane\`, the constant STRIDE and reduceSum/reduceMax; \`rowsField\` names the uniform
 * holding the row count.
 */
function rowShader(short: boolean, decls: string, body: string, rowsField = 'u.n'): string {
  const head = short
    ? `${REDUCE_THREAD}
const STRIDE: u32 = 1u;
@compute @workgroup_size(${THREAD_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = linearGroup(wid, nwg) * ${THREAD_WG}u + lid;
  let lane = 0u;`
    : `${REDUCE_GROUP}
const STRIDE: u32 = ${WG}u;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = linearGroup(wid, nwg);
  let lane = lid;`;
  return `${decls}
${LINEAR}
${head}
  if (row >= ${rowsField}) { return; }
  ${body}
}`;
}

const rowGroups = (short: boolean, rows: number) => groups(short ? Math.ceil(rows / THREAD_WG) : rows);
const NEG_INF = '-3.4028234663852886e38';

const f32 = (value: number) => ({ type: 'f32' as const, value });
const u32 = (value: number) => ({ type: 'u32' as const, value });

export function rope(backend: unknown, x: TensorInfo, cos: TensorInfo, sin: TensorInfo, inverse: boolean): TensorInfo {
  const d = x.shape[x.shape.length - 1];
  const seq = x.shape[x.shape.length - 2];
  const pairs = util.sizeFromShape(x.shape) / 2;
  return runProgram(backend, {
    key: 'es-rope',
    code: () => `
@group(0) @binding(0) var<storage, read_write> y: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> cosT: array<f32>;
@group(0) @binding(3) var<storage, read> sinT: array<f32>;
struct U { half: u32, seq: u32, pairs: u32, sign: f32 };
@group(0) @binding(4) var<uniform> u: U;
${LINEAR}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let j = linearGroup(wid, nwg) * 256u + lid;
  if (j >= u.pairs) { return; }
  let row = j / u.half;
  let i = j % u.half;
  let t = row % u.seq;
  let c = cosT[t * u.half + i];
  let s = u.sign * sinT[t * u.half + i];
  let o = row * 2u * u.half;
  let x1 = x[o + i];
  let x2 = x[o + i + u.half];
  y[o + i] = x1 * c - x2 * s;
  y[o + i + u.half] = x2 * c + x1 * s;
}`,
    inputs: [x, cos, sin],
    outputs: [{ shape: [...x.shape], dtype: 'float32' }],
    uniforms: [u32(d / 2), u32(seq), u32(pairs), f32(inverse ? -1 : 1)],
    workgroups: groups(Math.ceil(pairs / 256)),
  })[0];
}

export function rmsNorm(backend: unknown, x: TensorInfo, weight: TensorInfo, eps: number): TensorInfo {
  const [n, d] = x.shape;
  const short = d <= SHORT_ROW;
  return runProgram(backend, {
    key: `es-rmsnorm-${short}`,
    code: () =>
      rowShader(
        short,
        `
@group(0) @binding(0) var<storage, read_write> y: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
struct U { n: u32, d: u32, eps: f32 };
@group(0) @binding(3) var<uniform> u: U;`,
        `let o = row * u.d;
  var ss = 0.0;
  for (var j = lane; j < u.d; j = j + STRIDE) { let v = x[o + j]; ss = ss + v * v; }
  let r = 1.0 / sqrt(reduceSum(ss, lane) / f32(u.d) + u.eps);
  for (var j = lane; j < u.d; j = j + STRIDE) { y[o + j] = x[o + j] * r * w[j]; }`,
      ),
    inputs: [x, weight],
    outputs: [{ shape: [n, d], dtype: 'float32' }],
    uniforms: [u32(n), u32(d), f32(eps)],
    workgroups: rowGroups(short, n),
  })[0];
}

/** [dx, dweight]: dx row by row (and each row's r), then dweight column by column over the rows. */
export function rmsNormGrad(backend: unknown, x: TensorInfo, weight: TensorInfo, dy: TensorInfo, eps: number): TensorInfo[] {
  const [n, d] = x.shape;
  const short = d <= SHORT_ROW;
  const [dx, r] = runProgram(backend, {
    key: `es-rmsnorm-grad-dx-${short}`,
    code: () =>
      rowShader(
        short,
        `
@group(0) @binding(0) var<storage, read_write> dx: array<f32>;
@group(0) @binding(1) var<storage, read_write> rOut: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;
@group(0) @binding(4) var<storage, read> dy: array<f32>;
struct U { n: u32, d: u32, eps: f32 };
@group(0) @binding(5) var<uniform> u: U;`,
        `let o = row * u.d;
  var ss = 0.0;
  for (var j = lane; j < u.d; j = j + STRIDE) { let v = x[o + j]; ss = ss + v * v; }
  let r = 1.0 / sqrt(reduceSum(ss, lane) / f32(u.d) + u.eps);
  var dot = 0.0;
  for (var j = lane; j < u.d; j = j + STRIDE) { dot = dot + dy[o + j] * w[j] * x[o + j] * r; }
  let mean = reduceSum(dot, lane) / f32(u.d);
  for (var j = lane; j < u.d; j = j + STRIDE) { dx[o + j] = r * (dy[o + j] * w[j] - x[o + j] * r * mean); }
  if (lane == 0u) { rOut[row] = r; }`,
      ),
    inputs: [x, weight, dy],
    outputs: [
      { shape: [n, d], dtype: 'float32' },
      { shape: [n], dtype: 'float32' },
    ],
    uniforms: [u32(n), u32(d), f32(eps)],
    workgroups: rowGroups(short, n),
  });
  const [dw] = runProgram(backend, {
    key: 'es-rmsnorm-grad-dw',
    code: () => `
@group(0) @binding(0) var<storage, read_write> dw: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> r: array<f32>;
struct U { n: u32, d: u32 };
@group(0) @binding(4) var<uniform> u: U;
${LINEAR}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = linearGroup(wid, nwg) * 64u + lid;
  if (c >= u.d) { return; }
  var acc = 0.0;
  for (var row = 0u; row < u.n; row = row + 1u) { acc = acc + dy[row * u.d + c] * x[row * u.d + c] * r[row]; }
  dw[c] = acc;
}`,
    inputs: [x, dy, r],
    outputs: [{ shape: [d], dtype: 'float32' }],
    uniforms: [u32(n), u32(d)],
    workgroups: groups(Math.ceil(d / 64)),
  });
  internals(backend).disposeData(r.dataId);
  return [dx, dw];
}

export function causalSoftmax(backend: unknown, scores: TensorInfo, scale: number): TensorInfo {
  const seq = scores.shape[scores.shape.length - 1];
  const rows = util.sizeFromShape(scores.shape) / seq;
  const short = seq <= SHORT_ROW;
  return runProgram(backend, {
    key: `es-causal-softmax-${short}`,
    code: () =>
      rowShader(
        short,
        `
@group(0) @binding(0) var<storage, read_write> y: array<f32>;
@group(0) @binding(1) var<storage, read> s: array<f32>;
struct U { n: u32, seq: u32, scale: f32 };
@group(0) @binding(2) var<uniform> u: U;`,
        `let o = row * u.seq;
  let last = row % u.seq;
  var m = ${NEG_INF};
  for (var j = lane; j <= last; j = j + STRIDE) { m = max(m, u.scale * s[o + j]); }
  m = reduceMax(m, lane);
  var sum = 0.0;
  for (var j = lane; j <= last; j = j + STRIDE) { sum = sum + exp(u.scale * s[o + j] - m); }
  sum = reduceSum(sum, lane);
  for (var j = lane; j < u.seq; j = j + STRIDE) {
    if (j <= last) { y[o + j] = exp(u.scale * s[o + j] - m) / sum; } else { y[o + j] = 0.0; }
  }`,
      ),
    inputs: [scores],
    outputs: [{ shape: [...scores.shape], dtype: 'float32' }],
    uniforms: [u32(rows), u32(seq), f32(scale)],
    workgroups: rowGroups(short, rows),
  })[0];
}

export function causalSoftmaxGrad(backend: unknown, y: TensorInfo, dy: TensorInfo, scale: number): TensorInfo {
  const seq = y.shape[y.shape.length - 1];
  const rows = util.sizeFromShape(y.shape) / seq;
  const short = seq <= SHORT_ROW;
  return runProgram(backend, {
    key: `es-causal-softmax-grad-${short}`,
    code: () =>
      rowShader(
        short,
        `
@group(0) @binding(0) var<storage, read_write> dx: array<f32>;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
struct U { n: u32, seq: u32, scale: f32 };
@group(0) @binding(3) var<uniform> u: U;`,
        `let o = row * u.seq;
  var dot = 0.0;
  for (var j = lane; j < u.seq; j = j + STRIDE) { dot = dot + dy[o + j] * y[o + j]; }
  dot = reduceSum(dot, lane);
  for (var j = lane; j < u.seq; j = j + STRIDE) { dx[o + j] = u.scale * y[o + j] * (dy[o + j] - dot); }`,
      ),
    inputs: [y, dy],
    outputs: [{ shape: [...y.shape], dtype: 'float32' }],
    uniforms: [u32(rows), u32(seq), f32(scale)],
    workgroups: rowGroups(short, rows),
  })[0];
}

/** WGSL: the stable log-sum-exp of the row at o of l (every lane gets it). */
const LSE = /* wgsl */ `
fn rowLse(o: u32, v: u32, lane: u32) -> f32 {
  var m = ${NEG_INF};
  for (var j = lane; j < v; j = j + STRIDE) { m = max(m, l[o + j]); }
  m = reduceMax(m, lane);
  var sum = 0.0;
  for (var j = lane; j < v; j = j + STRIDE) { sum = sum + exp(l[o + j] - m); }
  return m + log(reduceSum(sum, lane));
}`;

export function crossEntropy(backend: unknown, logits: TensorInfo, targets: TensorInfo): TensorInfo {
  const [n, v] = logits.shape;
  const short = v <= SHORT_ROW;
  return runProgram(backend, {
    key: `es-cross-entropy-${short}`,
    code: () =>
      rowShader(
        short,
        `
@group(0) @binding(0) var<storage, read_write> loss: array<f32>;
@group(0) @binding(1) var<storage, read> l: array<f32>;
@group(0) @binding(2) var<storage, read> t: array<i32>;
struct U { n: u32, v: u32 };
@group(0) @binding(3) var<uniform> u: U;
${LSE}`,
        `let lse = rowLse(row * u.v, u.v, lane);
  if (lane == 0u) { loss[row] = lse - l[row * u.v + u32(t[row])]; }`,
      ),
    inputs: [logits, targets],
    outputs: [{ shape: [n], dtype: 'float32' }],
    uniforms: [u32(n), u32(v)],
    workgroups: rowGroups(short, n),
  })[0];
}

export function crossEntropyGrad(backend: unknown, logits: TensorInfo, targets: TensorInfo, dy: TensorInfo): TensorInfo {
  const [n, v] = logits.shape;
  const short = v <= SHORT_ROW;
  return runProgram(backend, {
    key: `es-cross-entropy-grad-${short}`,
    code: () =>
      rowShader(
        short,
        `
@group(0) @binding(0) var<storage, read_write> dl: array<f32>;
@group(0) @binding(1) var<storage, read> l: array<f32>;
@group(0) @binding(2) var<storage, read> t: array<i32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
struct U { n: u32, v: u32 };
@group(0) @binding(4) var<uniform> u: U;
${LSE}`,
        `let o = row * u.v;
  let lse = rowLse(o, u.v, lane);
  let g = dy[row];
  let tgt = u32(t[row]);
  for (var j = lane; j < u.v; j = j + STRIDE) {
    var e = exp(l[o + j] - lse) * g;
    if (j == tgt) { e = e - g; }
    dl[o + j] = e;
  }`,
      ),
    inputs: [logits, targets, dy],
    outputs: [{ shape: [n, v], dtype: 'float32' }],
    uniforms: [u32(n), u32(v)],
    workgroups: rowGroups(short, n),
  })[0];
}

const SUMSQ_THREADS = 64 * 256;

/**
 * Σ x² of a whole tensor, as a scalar: up to 16384 invocations each add a strided share, then one
 * invocation adds their partial sums (no workgroup barriers).
 */
export function sumSquares(backend: unknown, x: TensorInfo): TensorInfo {
  const n = util.sizeFromShape(x.shape);
  const threads = Math.min(SUMSQ_THREADS, Math.ceil(n / 64) * 64);
  const [partial] = runProgram(backend, {
    key: 'es-sumsq-partial',
    code: () => `
@group(0) @binding(0) var<storage, read_write> partial: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
struct U { n: u32, threads: u32 };
@group(0) @binding(2) var<uniform> u: U;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let k = gid.x;
  if (k >= u.threads) { return; }
  var acc = 0.0;
  for (var i = k; i < u.n; i = i + u.threads) { let v = x[i]; acc = acc + v * v; }
  partial[k] = acc;
}`,
    inputs: [x],
    outputs: [{ shape: [threads], dtype: 'float32' }],
    uniforms: [u32(n), u32(threads)],
    workgroups: [threads / 64, 1, 1],
  });
  const [out] = runProgram(backend, {
    key: 'es-sumsq-total',
    code: () => `
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> partial: array<f32>;
struct U { n: u32 };
@group(0) @binding(2) var<uniform> u: U;
@compute @workgroup_size(1)
fn main() {
  var acc = 0.0;
  for (var i = 0u; i < u.n; i = i + 1u) { acc = acc + partial[i]; }
  out[0] = acc;
}`,
    inputs: [partial],
    outputs: [{ shape: [], dtype: 'float32' }],
    uniforms: [u32(threads)],
    workgroups: [1, 1, 1],
  });
  internals(backend).disposeData(partial.dataId);
  return out;
}
