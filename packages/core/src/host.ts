/**
 * Host work while a GPU backend runs. Some work reads tensors synchronously by nature: a transform's plan
 * computes host arrays, its logit probe and a tapped forward hand values to host code, an SVD runs on the
 * host. On a backend whose reads are asynchronous (webgpu: a synchronous read stalls the GPU, and in Node
 * it is not possible at all) core runs such work on a host backend instead: native when it was loaded,
 * else cpu. tfjs moves a tensor's data to the backend that next uses it, so what the work reads moves to
 * the host and what it makes moves to the GPU when training next uses it. A tensor already computed on
 * the GPU must be read once first: `await prefetchToHost(tensors)`.
 */
import { tf } from './tf.js';

let hostBackend = 'cpu';

/** The backend host work runs on while a GPU backend is active (selectBackend names native when it loads). */
export function setHostBackend(name: string): void {
  hostBackend = name;
}

/**
 * Whether the active backend keeps tensors where the host cannot read them synchronously (webgpu: a
 * read is a round trip to the GPU, and in Node `dataSync()` is not possible at all). Training then keeps
 * its numbers on the device and reads them asynchronously, once per step or less.
 */
export function readsAreAsync(): boolean {
  const name = tf.getBackend();
  return name === 'webgpu' || name === 'webgl';
}

/** Makes `name` the active backend now. tfjs's setBackend awaits only a backend's first, asynchronous initialisation; cpu and native initialise synchronously, and the GPU backend was initialised when it was selected. */
function activateNow(name: string): void {
  const instance = tf.findBackend(name);
  if (!instance) throw new Error(`host work: expected backend ${name} to be registered, found none by that name`);
  void tf.setBackend(name);
  if (tf.getBackend() !== name || tf.engine().backend !== instance) throw new Error(`host work: expected backend ${name} to become active at once, found ${tf.getBackend()}`);
}

/**
 * Runs synchronous host work (see above) on the host backend when the active one reads asynchronously,
 * else as it is; nested calls run in the outer one's scope. The GPU backend is active again afterwards,
 * also when the work throws.
 */
export function onHost<T>(work: () => T): T {
  if (!readsAreAsync()) return work();
  const gpu = tf.getBackend();
  activateNow(hostBackend);
  try {
    return work();
  } finally {
    activateNow(gpu);
  }
}

/**
 * Reads tensors to the host ahead of host work or synchronous reads (toRaw, dataSync): on a backend that
 * keeps them on a GPU one asynchronous round trip for all of them, after which their values are cached
 * on the host; elsewhere nothing to do.
 */
export async function prefetchToHost(tensors: tf.Tensor[]): Promise<void> {
  if (!readsAreAsync()) return;
  await Promise.all(tensors.map((t) => t.data()));
}
