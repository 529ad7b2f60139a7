/**
 * MoE dispatch on the GPU (names and semantics: packages/moe/src/device-kernels.ts): router top-k, the
 * counting sort of token→expert assignments, and the grouped products that run every expert on its
 * block of rows, so that a training step never reads the routing back to the host.
 */
import { util, type TensorInfo } from '@tensorflow/tfjs-core';
import { groups, LINEAR, runProgram } from './run.js';

const u32 = (value: number) => ({ type: 'u32' as const, value });

/** [T, E] → [T, k] int32: the k largest per row in descending order, ties to the lower index. */
export function topK(backend: unknown, logits: TensorInfo, k: number): TensorInfo {
  const [t, e] = logits.shape;
  return runProgram(backend, {
    key: 'es-topk',
    code: () => `
@group(0) @binding(0) var<storage, read_write> out: array<i32>;
@group(0) @binding(1) var<storage, read> l: array<f32>;
struct U { t: u32, e: u32, k: u32 };
@group(0) @binding(2) var<uniform> u: U;
${LINEAR}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = linearGroup(wid, nwg) * 64u + lid;
  if (row >= u.t) { return; }
  let o = row * u.e;
  var prevV = 0.0;
  var prevI = -1;
  for (var s = 0u; s < u.k; s = s + 1u) {
    var bestV = 0.0;
    var bestI = -1;
    for (var j = 0u; j < u.e; j = j + 1u) {
      let v = l[o + j];
      let after = prevI < 0 || v < prevV || (v == prevV && i32(j) > prevI);
      if (after && (bestI < 0 || v > bestV)) { bestV = v; bestI = i32(j); }
    }
    out[row * u.k + s] = bestI;
    prevV = bestV;
    prevI = bestI;
  }
}`,
    inputs: [logits],
    outputs: [{ shape: [t, k], dtype: 'int32' }],
    uniforms: [u32(t), u32(e), u32(k)],
    workgroups: groups(Math.ceil(t / 64)),
  })[0];
}

export const MAX_EXPERTS = 256;

/** selected [T, k] int32 → [order [N], position [N], offsets [E + 1]] (N = T·k), one workgroup. */
export function groupByExpert(backend: unknown, selected: TensorInfo, experts: number, capacity: number): TensorInfo[] {
  const n = util.sizeFromShape(selected.shape);
  const k = selected.shape[1];
  return runProgram(backend, {
    key: 'es-group-by-expert',
    code: () => `
@group(0) @binding(0) var<storage, read_write> order: array<i32>;
@group(0) @binding(1) var<storage, read_write> position: array<i32>;
@group(0) @binding(2) var<storage, read_write> offsets: array<i32>;
@group(0) @binding(3) var<storage, read> sel: array<i32>;
struct U { n: u32, k: u32, e: u32, cap: u32 };
@group(0) @binding(4) var<uniform> u: U;
var<workgroup> counts: array<u32, ${MAX_EXPERTS}>;
var<workgroup> starts: array<u32, ${MAX_EXPERTS + 1}>;
@compute @workgroup_size(${MAX_EXPERTS})
fn main(@builtin(local_invocation_index) ex: u32) {
  let tokens = u.n / u.k;
  // Which assignments an expert keeps is decided slot by slot (first choices first); the last kept one,
  // in that order, is (cutS, cutT). Rows are then laid out in assignment order, as on the host.
  var c = 0u;
  var cutS = u.k;
  var cutT = 0u;
  if (ex < u.e) {
    for (var s = 0u; s < u.k; s = s + 1u) {
      for (var t = 0u; t < tokens; t = t + 1u) {
        if (u32(sel[t * u.k + s]) == ex && c < u.cap) {
          c = c + 1u;
          if (c == u.cap) { cutS = s; cutT = t; }
        }
      }
    }
  }
  counts[ex] = c;
  workgroupBarrier();
  if (ex == 0u) {
    var acc = 0u;
    for (var j = 0u; j < u.e; j = j + 1u) { starts[j] = acc; acc = acc + counts[j]; }
    starts[u.e] = acc;
    for (var j = 0u; j <= u.e; j = j + 1u) { offsets[j] = i32(starts[j]); }
  }
  workgroupBarrier();
  if (ex < u.e) {
    var row = starts[ex];
    for (var i = 0u; i < u.n; i = i + 1u) {
      if (u32(sel[i]) == ex) {
        let s = i % u.k;
        let t = i / u.k;
        if (s < cutS || (s == cutS && t <= cutT)) { order[row] = i32(i); position[i] = i32(row); row = row + 1u; }
        else { position[i] = i32(u.n); }
      }
    }
  }
  for (var r = starts[u.e] + ex; r < u.n; r = r + ${MAX_EXPERTS}u) { order[r] = i32(u.n); }
}`,
    inputs: [selected],
    outputs: [
      { shape: [n], dtype: 'int32' },
      { shape: [n], dtype: 'int32' },
      { shape: [experts + 1], dtype: 'int32' },
    ],
    uniforms: [u32(n), u32(k), u32(experts), u32(Math.min(capacity, 0xffffffff))],
    workgroups: [1, 1, 1],
  });
}

/** WGSL: the expert whose row block holds row r (offsets non-decreasing), or E when r is past them all. */
const EXPERT_OF = /* wgsl */ `
fn expertOf(r: u32, e: u32) -> u32 {
  var j = 0u;
  loop {
    if (j >= e || r < u32(offsets[j + 1u])) { break; }
    j = j + 1u;
  }
  return j;
}`;

/** x [N, in] with w [E, a, b]: y [N, out]; transposeW: y_r = x_r · w_e ([in, out]) else x_r · w_eᵀ (w_e [out, in]). */
export function groupedMatMul(backend: unknown, x: TensorInfo, w: TensorInfo, offsets: TensorInfo, transposeW: boolean): TensorInfo {
  const [n, inDim] = x.shape;
  const [e, a, b] = w.shape;
  const out = transposeW ? b : a;
  return runProgram(backend, {
    key: 'es-grouped-matmul',
    code: () => `
@group(0) @binding(0) var<storage, read_write> y: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> offsets: array<i32>;
struct U { n: u32, inDim: u32, out: u32, e: u32, wOut: u32, wIn: u32, rowsPerZ: u32 };
@group(0) @binding(4) var<uniform> u: U;
${EXPERT_OF}
@compute @workgroup_size(16, 4, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = gid.y + gid.z * u.rowsPerZ;
  let c0 = gid.x * 4u;
  if (r >= u.n || c0 >= u.out) { return; }
  let ex = expertOf(r, u.e);
  var acc = vec4<f32>(0.0);
  if (ex < u.e) {
    let wb = ex * u.out * u.inDim;
    for (var i = 0u; i < u.inDim; i = i + 1u) {
      let xv = x[r * u.inDim + i];
      for (var j = 0u; j < 4u; j = j + 1u) {
        let c = min(c0 + j, u.out - 1u);
        acc[j] = fma(xv, w[wb + c * u.wOut + i * u.wIn], acc[j]);
      }
    }
  }
  for (var j = 0u; j < 4u; j = j + 1u) { if (c0 + j < u.out) { y[r * u.out + c0 + j] = acc[j]; } }
}`,
    inputs: [x, w, offsets],
    outputs: [{ shape: [n, out], dtype: 'float32' }],
    uniforms: [u32(n), u32(inDim), u32(out), u32(e), u32(transposeW ? 1 : inDim), u32(transposeW ? out : 1), u32(rowGroupsPerZ * 4)],
    workgroups: rowLayout(Math.ceil(out / 64), n),
  })[0];
}

const rowGroupsPerZ = 16384;
/** Rows in y (4 per workgroup), spilling into z past 65536 rows. */
function rowLayout(x: number, rows: number): [number, number, number] {
  const yGroups = Math.ceil(rows / 4);
  if (yGroups <= rowGroupsPerZ) return [x, Math.max(yGroups, 1), 1];
  return [x, rowGroupsPerZ, Math.ceil(yGroups / rowGroupsPerZ)];
}

/** dw [E, out, in]: dw_e = Σ over expert e's rows of dy_rᵀ x_r. */
export function groupedMatMulGradW(backend: unknown, x: TensorInfo, dy: TensorInfo, offsets: TensorInfo, experts: number): TensorInfo {
  const [, inDim] = x.shape;
  const [, out] = dy.shape;
  return runProgram(backend, {
    key: 'es-grouped-matmul-grad-w',
    code: () => `
@group(0) @binding(0) var<storage, read_write> dw: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> offsets: array<i32>;
struct U { inDim: u32, out: u32 };
@group(0) @binding(4) var<uniform> u: U;
@compute @workgroup_size(16, 4, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i0 = gid.x * 4u;
  let j = gid.y;
  let ex = gid.z;
  if (i0 >= u.inDim || j >= u.out) { return; }
  var acc = vec4<f32>(0.0);
  for (var r = u32(offsets[ex]); r < u32(offsets[ex + 1u]); r = r + 1u) {
    let g = dy[r * u.out + j];
    for (var q = 0u; q < 4u; q = q + 1u) { acc[q] = fma(g, x[r * u.inDim + min(i0 + q, u.inDim - 1u)], acc[q]); }
  }
  let base = (ex * u.out + j) * u.inDim;
  for (var q = 0u; q < 4u; q = q + 1u) { if (i0 + q < u.inDim) { dw[base + i0 + q] = acc[q]; } }
}`,
    inputs: [x, dy, offsets],
    outputs: [{ shape: [experts, out, inDim], dtype: 'float32' }],
    uniforms: [u32(inDim), u32(out)],
    workgroups: [Math.ceil(inDim / 64), Math.ceil(out / 4), experts],
  })[0];
}
