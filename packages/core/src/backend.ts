import { tf } from './tf.js';
import { UserError } from './errors.js';

export const backendNames = ['auto', 'cuda', 'native', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof backendNames)[number];

export interface BackendChoice {
  /** The tfjs backend that now runs every op. */
  name: string;
  /** What was asked for. */
  requested: BackendName;
  /** One line for people: what runs, and why not something faster. */
  detail: string;
}

/** Imports an optional package by name; undefined when it is not installed. */
async function importOptional(name: string): Promise<Record<string, unknown> | undefined> {
  try {
    return (await import(/* @vite-ignore */ name)) as Record<string, unknown>;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (module|package)/.test(String(err))) return undefined;
    throw err;
  }
}

type NativeResult = { ok: true; name: string; threads?: number; blas?: string } | { ok: false; reason: string };

async function tryNative(): Promise<NativeResult> {
  const mod = await importOptional('@efficientscale/backend-native');
  if (!mod) return { ok: false, reason: 'the optional package @efficientscale/backend-native is not installed' };
  return (mod.registerNativeBackend as () => NativeResult)();
}

async function tryTfjsNode(pkg: '@tensorflow/tfjs-node' | '@tensorflow/tfjs-node-gpu'): Promise<string | undefined> {
  const mod = await importOptional(pkg);
  if (!mod) return `the optional package ${pkg} is not installed (npm i ${pkg}@4.22.0)`;
  return undefined;
}

async function activate(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new UserError(`backend ${name}: expected it to initialise, found that it failed to start`);
  await tf.ready();
}

let announced = false;

/**
 * Picks the tfjs backend once at start-up. Explicit choices fail with a clear message when their package
 * is missing; `auto` takes the fastest that loads (cuda, then native, then the stock cpu backend) and says
 * why it skipped the faster ones, once per process.
 */
export async function selectBackend(requested: BackendName = 'auto'): Promise<BackendChoice> {
  if (!backendNames.includes(requested)) {
    throw new UserError(`--backend: expected one of ${backendNames.join('|')}, found "${requested}"`);
  }
  switch (requested) {
    case 'cpu':
      await activate('cpu');
      return { name: 'cpu', requested, detail: 'tfjs-backend-cpu (stock, slow)' };
    case 'native': {
      const r = await tryNative();
      if (!r.ok) throw new UserError(`backend native: expected the compiled addon of @efficientscale/backend-native, found: ${r.reason}`);
      await activate(r.name);
      return { name: r.name, requested, detail: `native C++ backend (${r.blas ?? 'BLAS'}, ${r.threads ?? '?'} threads)` };
    }
    case 'tensorflow':
    case 'cuda': {
      const pkg = requested === 'cuda' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
      const missing = await tryTfjsNode(pkg);
      if (missing) throw new UserError(`backend ${requested}: expected ${pkg}, found ${missing}`);
      await activate('tensorflow');
      return { name: 'tensorflow', requested, detail: `libtensorflow via ${pkg}` };
    }
    case 'wasm': {
      const mod = await importOptional('@tensorflow/tfjs-backend-wasm');
      if (!mod) throw new UserError('backend wasm: expected @tensorflow/tfjs-backend-wasm, found it not installed (npm i @tensorflow/tfjs-backend-wasm@4.22.0)');
      await activate('wasm');
      return { name: 'wasm', requested, detail: 'tfjs-backend-wasm' };
    }
    case 'auto': {
      const skipped: string[] = [];
      const gpu = await tryTfjsNode('@tensorflow/tfjs-node-gpu');
      if (!gpu) {
        await activate('tensorflow');
        return { name: 'tensorflow', requested, detail: 'libtensorflow via @tensorflow/tfjs-node-gpu (auto)' };
      }
      const native = await tryNative();
      if (native.ok) {
        await activate(native.name);
        return { name: native.name, requested, detail: `native C++ backend (${native.blas ?? 'BLAS'}, ${native.threads ?? '?'} threads) (auto)` };
      }
      skipped.push(`native: ${native.reason}`);
      await activate('cpu');
      if (!announced) {
        announced = true;
        process.stderr.write(`backend auto: using the stock cpu backend (slow); skipped ${skipped.join('; ')}\n`);
      }
      return { name: 'cpu', requested, detail: `tfjs-backend-cpu (auto; ${skipped.join('; ')})` };
    }
  }
}
