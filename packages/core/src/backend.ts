import { tf } from './tf.js';
import { UserError } from './errors.js';
import { readsAreAsync, setHostBackend } from './host.js';

export { readsAreAsync };

export const backendNames = ['auto', 'cuda', 'webgpu', 'native', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof backendNames)[number];

export interface BackendChoice {
  /** The tfjs backend that now runs every op. */
  name: string;
  /** What was asked for. */
  requested: BackendName;
  /** One line for people: what runs, and why not something faster. */
  detail: string;
}

type Loaded = { ok: true; module: Record<string, unknown> } | { ok: false; reason: string };

/** Imports an optional package by name; says why not when it is missing or fails to load. */
async function importOptional(name: string): Promise<Loaded> {
  try {
    return { ok: true, module: (await import(/* @vite-ignore */ name)) as Record<string, unknown> };
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (module|package)|Could not resolve/.test(String(err))) {
      return { ok: false, reason: `the optional package ${name} is not installed (npm i ${name})` };
    }
    // Installed but broken (e.g. a native binding that was never built): report its first line.
    return { ok: false, reason: `${name} failed to load: ${String((err as Error).message ?? err).split('\n')[0]}` };
  }
}

type NativeResult = { ok: true; name: string; threads?: number; blas?: string } | { ok: false; reason: string };

async function tryNative(): Promise<NativeResult> {
  const loaded = await importOptional('@efficientscale/backend-native');
  if (!loaded.ok) return loaded;
  return (loaded.module.registerNativeBackend as () => NativeResult)();
}

type WebGPUResult = { ok: true; name: string; adapter: { label: string; software: boolean }; via: string } | { ok: false; reason: string };

/** @efficientscale/backend-webgpu (optional): registers 'webgpu' on the best adapter; `hardwareOnly` for auto. */
async function tryWebGPU(hardwareOnly: boolean): Promise<WebGPUResult> {
  const loaded = await importOptional('@efficientscale/backend-webgpu');
  if (!loaded.ok) return loaded;
  return (loaded.module.registerWebGPUBackend as (o: { hardwareOnly: boolean }) => Promise<WebGPUResult>)({ hardwareOnly });
}

/** Host work beside a GPU backend (see host.ts) runs on native when it loads, else on cpu. */
async function pickHostBackend(): Promise<void> {
  const native = await tryNative();
  setHostBackend(native.ok ? native.name : 'cpu');
}

const webgpuDetail = (r: Extract<WebGPUResult, { ok: true }>) =>
  `WebGPU on ${r.adapter.label}${r.adapter.software ? ': correct but slow, for tests and per-step overhead only' : ''}`;

async function activate(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new UserError(`backend ${name}: expected it to initialise, found that it failed to start`);
  await tf.ready();
}

let announced = false;

/**
 * Picks the tfjs backend once at start-up. Explicit choices fail with a clear message when their package
 * is missing; `auto` takes the fastest that loads (cuda, then WebGPU on a hardware adapter, then native,
 * then the stock cpu backend; never WebGPU on SwiftShader) and says why it skipped the faster ones, once
 * per process.
 */
export async function selectBackend(requested: BackendName = 'auto'): Promise<BackendChoice> {
  if (!backendNames.includes(requested)) {
    throw new UserError(`--backend: expected one of ${backendNames.join('|')}, found "${requested}"`);
  }
  switch (requested) {
    case 'cpu':
      await activate('cpu');
      return { name: 'cpu', requested, detail: "tfjs-backend-cpu with the project's JavaScript fused kernels (slow)" };
    case 'native': {
      const r = await tryNative();
      if (!r.ok) throw new UserError(`backend native: expected the compiled addon of @efficientscale/backend-native, found: ${r.reason}`);
      await activate(r.name);
      return { name: r.name, requested, detail: `native C++ backend (${r.blas ?? 'BLAS'}, ${r.threads ?? '?'} threads)` };
    }
    case 'webgpu': {
      const r = await tryWebGPU(false);
      if (!r.ok) throw new UserError(`backend webgpu: expected a WebGPU adapter through @efficientscale/backend-webgpu, found: ${r.reason}`);
      await pickHostBackend();
      await activate(r.name);
      return { name: r.name, requested, detail: webgpuDetail(r) };
    }
    case 'tensorflow':
    case 'cuda': {
      const pkg = requested === 'cuda' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
      const loaded = await importOptional(pkg);
      if (!loaded.ok) throw new UserError(`backend ${requested}: expected ${pkg}, found that ${loaded.reason}`);
      await activate('tensorflow');
      return { name: 'tensorflow', requested, detail: `libtensorflow via ${pkg}` };
    }
    case 'wasm': {
      const loaded = await importOptional('@tensorflow/tfjs-backend-wasm');
      if (!loaded.ok) throw new UserError(`backend wasm: expected @tensorflow/tfjs-backend-wasm, found that ${loaded.reason}`);
      await activate('wasm');
      return { name: 'wasm', requested, detail: 'tfjs-backend-wasm' };
    }
    case 'auto': {
      const skipped: string[] = [];
      const gpu = await importOptional('@tensorflow/tfjs-node-gpu');
      if (gpu.ok) {
        await activate('tensorflow');
        return { name: 'tensorflow', requested, detail: 'libtensorflow via @tensorflow/tfjs-node-gpu (auto)' };
      }
      if (!gpu.reason.includes('not installed')) skipped.push(`cuda: ${gpu.reason}`);
      const webgpu = await tryWebGPU(true);
      if (webgpu.ok) {
        await pickHostBackend();
        await activate(webgpu.name);
        return { name: webgpu.name, requested, detail: `${webgpuDetail(webgpu)} (auto)` };
      }
      // A GPU that is there but fails is worth a word; no GPU, no package or only SwiftShader is the usual case.
      if (!/not installed|no GPU device|no hardware Vulkan driver|only .* was found/.test(webgpu.reason)) skipped.push(`webgpu: ${webgpu.reason}`);
      const native = await tryNative();
      let choice: BackendChoice;
      if (native.ok) {
        await activate(native.name);
        choice = { name: native.name, requested, detail: `native C++ backend (${native.blas ?? 'BLAS'}, ${native.threads ?? '?'} threads) (auto)` };
      } else {
        skipped.push(`native: ${native.reason}`);
        await activate('cpu');
        choice = { name: 'cpu', requested, detail: "tfjs-backend-cpu with the project's JavaScript fused kernels (auto; slow)" };
      }
      if (skipped.length > 0 && !announced) {
        announced = true;
        console.warn(`backend auto: using ${choice.name}; skipped ${skipped.join('; ')}`);
      }
      return choice;
    }
  }
}
