/**
 * Registers the 'native' backend with tfjs-core: every cpu kernel under the name 'native' (so that
 * unported kernels run cpu's code on the same typed arrays), with the ported ones replaced.
 */
import { getKernel, getKernelsForBackend, registerBackend, registerKernel, unregisterKernel, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadAddon } from './addon.js';
import { NativeBackend } from './backend.js';
import { FUSED_KERNEL_NAMES, fusedKernelFunc } from './fused.js';
import { NATIVE_KERNELS, type KernelArgs } from './kernels.js';

export const NATIVE_BACKEND_NAME = 'native';

export type NativeRegistration =
  | { ok: true; name: 'native'; threads: number; blas: string }
  | { ok: false; reason: string };

let registration: NativeRegistration | undefined;

/** The names of the kernels that run in the addon (the rest run tfjs-backend-cpu's code), the project's fused ones included. */
export function portedKernels(): string[] {
  return [...Object.keys(NATIVE_KERNELS), ...FUSED_KERNEL_NAMES].sort();
}

function registerKernels(): void {
  const cpuKernels = getKernelsForBackend('cpu');
  if (cpuKernels.length === 0) throw new Error('tfjs-backend-cpu registered no kernels; is a second copy of tfjs-core loaded?');
  const seen = new Set<string>();
  for (const config of cpuKernels) {
    seen.add(config.kernelName);
    const native = NATIVE_KERNELS[config.kernelName];
    const cpuKernel = config.kernelFunc;
    // cpu's kernels run on native's storage; outputs that alias an input's memory are marked so that
    // the memory is not recycled while they live.
    const fallback: KernelFunc = (args) => {
      const out = cpuKernel(args);
      const inputs = Object.values(args.inputs ?? {}) as TensorInfo[];
      (args.backend as NativeBackend).markAliases(inputs, out);
      return out;
    };
    const kernelFunc: KernelFunc = native ? (args) => native(args as unknown as KernelArgs, fallback) ?? fallback(args) : fallback;
    registerKernel({ ...config, backendName: NATIVE_BACKEND_NAME, kernelFunc } as KernelConfig);
  }
  for (const name of Object.keys(NATIVE_KERNELS)) {
    if (!seen.has(name)) throw new Error(`ported kernel ${name} has no cpu counterpart in this tfjs version`);
  }
  // The project's fused kernels, after the copy: when core registered its cpu versions first, they were
  // copied above and are replaced here; without core they are registered all the same.
  const markAliases = (args: KernelArgs, out: TensorInfo | TensorInfo[]) =>
    args.backend.markAliases(Object.values(args.inputs ?? {}), out);
  for (const kernelName of FUSED_KERNEL_NAMES) {
    if (getKernel(kernelName, NATIVE_BACKEND_NAME)) unregisterKernel(kernelName, NATIVE_BACKEND_NAME);
    registerKernel({ kernelName, backendName: NATIVE_BACKEND_NAME, kernelFunc: fusedKernelFunc(kernelName, markAliases) });
  }
}

/**
 * Loads the addon and registers backend 'native' (once). Never throws: when the addon is not built
 * or does not load, returns the reason, and the caller keeps the stock backend.
 * Selecting the backend is left to the caller: `await tf.setBackend('native')`.
 */
export function registerNativeBackend(): NativeRegistration {
  if (registration) return registration;
  const load = loadAddon();
  if (!load.ok) {
    registration = { ok: false, reason: load.reason };
    return registration;
  }
  const addon = load.addon;
  try {
    registerKernels();
    // Priority 0 (cpu has 1): registering does not change which backend tfjs picks by default.
    registerBackend(NATIVE_BACKEND_NAME, () => new NativeBackend(addon), 0);
  } catch (err) {
    registration = { ok: false, reason: `registering the native backend failed: ${err instanceof Error ? err.message : String(err)}` };
    return registration;
  }
  const info = addon.info();
  registration = { ok: true, name: 'native', threads: info.threads, blas: info.blas };
  return registration;
}

/** Whether the addon is built and loads here (does not register anything). */
export function nativeAvailable(): boolean {
  return loadAddon().ok;
}

/** Why the addon is unavailable, or null when it loads. */
export function nativeUnavailableReason(): string | null {
  const load = loadAddon();
  return load.ok ? null : load.reason;
}
