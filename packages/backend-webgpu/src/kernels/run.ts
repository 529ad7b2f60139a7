/**
 * Runs a hand-written WGSL compute shader inside tfjs-backend-webgpu's command stream: the backend's own
 * buffers, command encoder and deferred submission, so that our kernels interleave with tfjs's without a
 * flush. Unlike tfjs's program runner it takes several outputs and plain shaders (no generated preamble).
 *
 * Bindings, in order: @group(0) @binding(0..outputs-1) the outputs (read_write), then the inputs (read),
 * then, when there are uniforms, one uniform buffer of 32-bit scalars.
 */
import { env, util, type DataType, type TensorInfo } from '@tensorflow/tfjs-core';

/** The parts of WebGPUBackend this file uses (TypeScript-private there, public at run time). */
export interface BackendInternals {
  device: GPUDevice;
  tensorMap: { get(dataId: object): { values: unknown; resource: unknown; dtype: DataType; shape: number[] } };
  commandEncoder: GPUCommandEncoder | null;
  computePassEncoder: GPUComputePassEncoder | null;
  dispatchCountInPass: number;
  commandQueueOwnedIds: WeakSet<object>;
  uploadToGPU(dataId: object): void;
  makeTensorInfo(shape: number[], dtype: DataType, values?: unknown): TensorInfo;
  makeUniforms(u: { type: string; data: number[] }[]): GPUBufferBinding;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  disposeData(dataId: object, force?: boolean): boolean;
}

export const internals = (backend: unknown) => backend as BackendInternals;

/**
 * Whether every tensor's GPU buffer holds float32: a tensor's dtype and its buffer's can differ on this
 * backend (a cast from int32 may keep the int32 buffer), and a shader reads the bits as they are.
 */
export function storedAsF32(backend: unknown, ...ts: (TensorInfo | undefined)[]): boolean {
  const map = internals(backend).tensorMap;
  return ts.every((t) => t?.dtype === 'float32' && map.get(t.dataId).dtype === 'float32');
}

export type Uniform = { type: 'f32' | 'i32' | 'u32'; value: number };

export interface Program {
  /** Identifies the shader text (cached per device). */
  key: string;
  code: () => string;
  inputs: TensorInfo[];
  outputs: { shape: number[]; dtype: DataType }[];
  uniforms?: Uniform[];
  workgroups: [number, number, number];
}

const pipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

function pipeline(device: GPUDevice, key: string, code: () => string): GPUComputePipeline {
  let cache = pipelines.get(device);
  if (!cache) pipelines.set(device, (cache = new Map()));
  let p = cache.get(key);
  if (!p) {
    p = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: code() }), entryPoint: 'main' } });
    cache.set(key, p);
  }
  return p;
}

const MAX_GROUPS = 65535;

/** A 1-D count of workgroups laid out in x (and y when over the per-dimension limit). */
export function groups(count: number): [number, number, number] {
  if (count <= MAX_GROUPS) return [Math.max(count, 1), 1, 1];
  const y = Math.ceil(count / MAX_GROUPS);
  return [Math.ceil(count / y), y, 1];
}

/** WGSL: the linear workgroup index and a linear invocation index for 1-D work laid out by groups(). */
export const LINEAR = /* wgsl */ `
fn linearGroup(wid: vec3<u32>, nwg: vec3<u32>) -> u32 { return wid.x + wid.y * nwg.x; }
`;

/** Runs a program; returns its outputs. Outputs with no elements are made without a dispatch. */
export function runProgram(backend: unknown, program: Program): TensorInfo[] {
  const b = internals(backend);
  const outputs = program.outputs.map((o) => b.makeTensorInfo(o.shape, o.dtype));
  const empty = outputs.some((o) => util.sizeFromShape(o.shape) === 0) || program.inputs.some((t) => util.sizeFromShape(t.shape) === 0);
  if (empty) {
    // Only shapes with no elements get here (callers handle the rest): no work to do.
    for (const o of outputs) {
      if (util.sizeFromShape(o.shape) === 0) b.tensorMap.get(o.dataId).values = util.getTypedArrayFromDType(o.dtype as 'float32', 0);
    }
    if (outputs.every((o) => util.sizeFromShape(o.shape) === 0)) return outputs;
    throw new Error(`${program.key}: an input has no elements but an output does`);
  }
  for (const t of [...outputs, ...program.inputs]) b.uploadToGPU(t.dataId);
  const p = pipeline(b.device, program.key, program.code);
  const entries: GPUBindGroupEntry[] = [...outputs, ...program.inputs].map((t, i) => ({
    binding: i,
    resource: { buffer: b.tensorMap.get(t.dataId).resource as GPUBuffer },
  }));
  if (program.uniforms && program.uniforms.length > 0) {
    const u = program.uniforms.map((x) => ({ type: x.type === 'f32' ? 'float32' : x.type === 'i32' ? 'int32' : 'uint32', data: [x.value] }));
    while (u.length % 4 !== 0) u.push({ type: 'int32', data: [0] }); // whole 16-byte rows
    entries.push({ binding: entries.length, resource: b.makeUniforms(u) });
  }
  for (const t of [...outputs, ...program.inputs]) b.commandQueueOwnedIds.add(t.dataId);
  const bindGroup = b.device.createBindGroup({ layout: p.getBindGroupLayout(0), entries });
  b.ensureCommandEncoderReady();
  if (!b.computePassEncoder) b.computePassEncoder = b.commandEncoder!.beginComputePass({});
  b.computePassEncoder.setPipeline(p);
  b.computePassEncoder.setBindGroup(0, bindGroup);
  b.computePassEncoder.dispatchWorkgroups(...program.workgroups);
  b.dispatchCountInPass++;
  if (b.dispatchCountInPass >= (env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') as number)) {
    b.endComputePassEncoder();
    b.submitQueue();
  }
  return outputs;
}
