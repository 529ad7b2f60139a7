export { registerWebGPUBackend, releaseWebGPU, webgpuAdapter, WEBGPU_BACKEND_NAME } from './register.js';
export type { WebGPURegistration, WebGPUOptions } from './register.js';
export { describeAdapter } from './adapter.js';
export type { AdapterDescription } from './adapter.js';
export { webgpuKernelNames } from './kernels/registry.js';
