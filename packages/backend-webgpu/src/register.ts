/**
 * Registers tfjs's `webgpu` backend (@tensorflow/tfjs-backend-webgpu) on the best adapter there is, in
 * the browser (navigator.gpu) or in Node (Dawn, see node-gpu.ts), plus the project's WGSL kernels.
 */
import { findBackendFactory, registerBackend, removeBackend } from '@tensorflow/tfjs-core';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { describeAdapter, type AdapterDescription } from './adapter.js';
import { registerWebGPUKernels } from './kernels/registry.js';

export const WEBGPU_BACKEND_NAME = 'webgpu';

export type WebGPURegistration =
  | { ok: true; name: 'webgpu'; adapter: AdapterDescription; via: string }
  | { ok: false; reason: string };

export interface WebGPUOptions {
  /** Refuse software adapters (SwiftShader, lavapipe): what `--backend auto` asks for. */
  hardwareOnly?: boolean;
}

// In a browser, importing tfjs-backend-webgpu registered 'webgpu' at priority 3 (tfjs's default from
// then on). Registration is left to registerWebGPUBackend, at priority 0, like the project's other backends.
if (findBackendFactory(WEBGPU_BACKEND_NAME)) removeBackend(WEBGPU_BACKEND_NAME);
registerWebGPUKernels();

/**
 * tfjs reads a GPU tensor synchronously through an OffscreenCanvas, which Node does not have: there a
 * synchronous read (dataSync, arraySync, or another backend taking the tensor over) says in one line what
 * to do instead of failing on a missing OffscreenCanvas.
 */
export const SYNC_READ_IN_NODE =
  'webgpu in Node: a tensor on the GPU cannot be read synchronously (dataSync, arraySync, or host work on it); read it with await tensor.data(), or first await prefetchToHost(tensors) from @efficientscale/core';

class NodeWebGPUBackend extends WebGPUBackend {
  override readSync(dataId: object): ReturnType<WebGPUBackend['readSync']> {
    const data = this.tensorMap.get(dataId);
    if (data && data.values == null && data.dtype !== 'string' && data.dtype !== 'complex64') throw new Error(SYNC_READ_IN_NODE);
    return super.readSync(dataId);
  }
}

let registered: Extract<WebGPURegistration, { ok: true }> | undefined;
let pending: Promise<WebGPURegistration> | undefined;

const browserGpu = (): GPU | undefined => (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
const inNode = () => typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';

async function findAdapter(hardwareOnly: boolean): Promise<{ ok: true; gpu: GPU; adapter: GPUAdapter; via: string } | { ok: false; reason: string }> {
  const gpu = browserGpu();
  if (gpu) {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { ok: false, reason: 'navigator.gpu gave no adapter (WebGPU disabled or no usable GPU)' };
    return { ok: true, gpu, adapter, via: 'navigator.gpu' };
  }
  if (!inNode()) return { ok: false, reason: 'this browser has no WebGPU (navigator.gpu is undefined)' };
  const { nodeGpu } = await import('./node-gpu.js');
  return nodeGpu(hardwareOnly);
}

async function register(options: WebGPUOptions): Promise<WebGPURegistration> {
  let found: Awaited<ReturnType<typeof findAdapter>>;
  try {
    found = await findAdapter(options.hardwareOnly === true);
  } catch (err) {
    return { ok: false, reason: `starting WebGPU failed: ${String((err as Error)?.message ?? err).split('\n')[0]}` };
  }
  if (!found.ok) return found;
  const { gpu, adapter, via } = found;
  const info = adapter.info;
  const described = describeAdapter(info, (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter === true);
  if (options.hardwareOnly && described.software) return { ok: false, reason: `only ${described.label} was found` };
  const limits = adapter.limits;
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
      requiredLimits: {
        maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
        maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxBufferSize: limits.maxBufferSize,
        maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
        maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      },
    });
  } catch (err) {
    return { ok: false, reason: `the ${described.label} adapter gave no device: ${String((err as Error)?.message ?? err).split('\n')[0]}` };
  }
  // tfjs-backend-webgpu checks navigator.gpu when the backend is made; in Node it is Dawn's.
  if (!browserGpu()) {
    const g = globalThis as unknown as { navigator?: Record<string, unknown> };
    if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  }
  if (findBackendFactory(WEBGPU_BACKEND_NAME)) removeBackend(WEBGPU_BACKEND_NAME);
  const Backend = inNode() ? NodeWebGPUBackend : WebGPUBackend;
  registerBackend(WEBGPU_BACKEND_NAME, () => new Backend(device, info), 0);
  registered = { ok: true, name: 'webgpu', adapter: described, via };
  return registered;
}

/**
 * Finds an adapter and registers backend 'webgpu' (once; a failed attempt may be retried). Never throws:
 * says why not. Selecting it is left to the caller: `await tf.setBackend('webgpu')`.
 */
export async function registerWebGPUBackend(options: WebGPUOptions = {}): Promise<WebGPURegistration> {
  if (registered) {
    if (options.hardwareOnly && registered.adapter.software) return { ok: false, reason: `only ${registered.adapter.label} was found` };
    return registered;
  }
  pending ??= register(options).finally(() => (pending = undefined));
  return pending;
}

/** The adapter that runs, once registered. */
export function webgpuAdapter(): AdapterDescription | undefined {
  return registered?.adapter;
}

/**
 * Lets a Node process exit: Dawn keeps the event loop alive while navigator.gpu holds it. Removes the
 * backend (its device and buffers) and, in Node, the global.
 */
export function releaseWebGPU(): void {
  if (findBackendFactory(WEBGPU_BACKEND_NAME)) removeBackend(WEBGPU_BACKEND_NAME);
  registered = undefined;
  const nav = (globalThis as unknown as { navigator?: Record<string, unknown> }).navigator;
  if (inNode() && nav && 'gpu' in nav) delete nav.gpu;
}
