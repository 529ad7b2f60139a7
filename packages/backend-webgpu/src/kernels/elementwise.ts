/**
 * The element-wise fused kernels (names and semantics: core's src/ops/kernel-names.ts): one invocation
 * per element, 256 per workgroup.
 */
import { util, type TensorInfo } from '@tensorflow/tfjs-core';
import { groups, LINEAR, runProgram, type Uniform } from './run.js';

const WG = 256;

/** WGSL shared by the element-wise shaders: σ that neither overflows nor gives NaN at ±huge. */
const SIGMOID = /* wgsl */ `
fn sigmoid(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}
const GELU_K0: f32 = ${2 * Math.sqrt(2 / Math.PI)};
const GELU_CUBIC: f32 = 0.044715;
`;

interface Elementwise {
  key: string;
  inputs: string[];
  outputs: string[];
  uniforms?: string[];
  /** WGSL statements computing the outputs at index i from the inputs at i (variables named as above). */
  body: string;
}

function shader(k: Elementwise): string {
  const decl = [
    ...k.outputs.map((o, i) => `@group(0) @binding(${i}) var<storage, read_write> ${o}: array<f32>;`),
    ...k.inputs.map((n, i) => `@group(0) @binding(${k.outputs.length + i}) var<storage, read> ${n}: array<f32>;`),
  ];
  if (k.uniforms?.length) {
    decl.push(`struct U { ${k.uniforms.map((u) => `${u}: f32,`).join(' ')} };`);
    decl.push(`@group(0) @binding(${k.outputs.length + k.inputs.length}) var<uniform> u: U;`);
  }
  return `${decl.join('\n')}
${SIGMOID}
${LINEAR}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = linearGroup(wid, nwg) * ${WG}u + lid;
  if (i >= arrayLength(&${k.outputs[0]})) { return; }
  ${k.body}
}`;
}

function run(backend: unknown, k: Elementwise, inputs: TensorInfo[], shape: number[], uniforms: number[] = []): TensorInfo[] {
  const n = util.sizeFromShape(shape);
  return runProgram(backend, {
    key: `es-${k.key}`,
    code: () => shader(k),
    inputs,
    outputs: k.outputs.map(() => ({ shape, dtype: 'float32' })),
    uniforms: uniforms.map((value): Uniform => ({ type: 'f32', value })),
    workgroups: groups(Math.ceil(n / WG)),
  });
}

const GELU: Elementwise = {
  key: 'gelu',
  inputs: ['x'],
  outputs: ['y'],
  body: `let v = x[i]; y[i] = v * sigmoid(GELU_K0 * (v + GELU_CUBIC * v * v * v));`,
};

const GELU_GRAD: Elementwise = {
  key: 'gelu-grad',
  inputs: ['x', 'dy'],
  outputs: ['dx'],
  body: `let v = x[i];
  let s = sigmoid(GELU_K0 * (v + GELU_CUBIC * v * v * v));
  let q = s * (1.0 - s);
  var t = s;
  if (q > 0.0) { t = s + v * q * GELU_K0 * (1.0 + 3.0 * GELU_CUBIC * v * v); }
  dx[i] = dy[i] * t;`,
};

const SWIGLU: Elementwise = {
  key: 'swiglu',
  inputs: ['gate', 'up'],
  outputs: ['y'],
  body: `let g = gate[i]; y[i] = g * sigmoid(g) * up[i];`,
};

const SWIGLU_GRAD: Elementwise = {
  key: 'swiglu-grad',
  inputs: ['gate', 'up', 'dy'],
  outputs: ['dgate', 'dup'],
  body: `let g = gate[i]; let s = sigmoid(g); let d = dy[i];
  dup[i] = d * g * s;
  dgate[i] = d * up[i] * s * (1.0 + g * (1.0 - s));`,
};

const ADAMW: Elementwise = {
  key: 'adamw',
  inputs: ['param', 'grad', 'm', 'v'],
  outputs: ['param2', 'm2', 'v2'],
  uniforms: ['lr', 'beta1', 'beta2', 'eps', 'keep', 'c1', 'c2', 'oneMinusBeta1', 'oneMinusBeta2'],
  body: `let g = grad[i];
  let mi = u.beta1 * m[i] + u.oneMinusBeta1 * g;
  let vi = u.beta2 * v[i] + u.oneMinusBeta2 * g * g;
  m2[i] = mi;
  v2[i] = vi;
  param2[i] = param[i] * u.keep - (u.lr * (mi / u.c1)) / (sqrt(vi / u.c2) + u.eps);`,
};

export const gelu = (backend: unknown, x: TensorInfo) => run(backend, GELU, [x], [...x.shape])[0];
export const geluGrad = (backend: unknown, x: TensorInfo, dy: TensorInfo) => run(backend, GELU_GRAD, [x, dy], [...x.shape])[0];
export const swiglu = (backend: unknown, gate: TensorInfo, up: TensorInfo) => run(backend, SWIGLU, [gate, up], [...gate.shape])[0];
export const swigluGrad = (backend: unknown, gate: TensorInfo, up: TensorInfo, dy: TensorInfo) => run(backend, SWIGLU_GRAD, [gate, up, dy], [...gate.shape]);

export interface AdamWAttrs {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  decay: number;
  c1: number;
  c2: number;
}

/** [param', m', v']; 1 − β and 1 − decay are computed here in double precision, as the reference does. */
export const adamW = (backend: unknown, p: TensorInfo, g: TensorInfo, m: TensorInfo, v: TensorInfo, a: AdamWAttrs) =>
  run(backend, ADAMW, [p, g, m, v], [...p.shape], [a.lr, a.beta1, a.beta2, a.eps, 1 - a.decay, a.c1, a.c2, 1 - a.beta1, 1 - a.beta2]);
