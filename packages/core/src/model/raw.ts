import { tf } from '../tf.js';
import type { RawTensor } from '../io/safetensors.js';

/** tf tensors ↔ plain typed arrays (what the checkpoint files hold). */
export function toRaw(t: tf.Tensor): RawTensor {
  if (t.dtype === 'int32') return { dtype: 'I32', shape: [...t.shape], data: t.dataSync() as Int32Array };
  return { dtype: 'F32', shape: [...t.shape], data: Float32Array.from(t.dataSync() as Float32Array) };
}

export function fromRaw(r: RawTensor): tf.Tensor {
  return r.dtype === 'I32' ? tf.tensor(r.data as Int32Array, r.shape, 'int32') : tf.tensor(r.data as Float32Array, r.shape, 'float32');
}

export function mapValues<A, B>(m: Record<string, A>, f: (a: A, k: string) => B): Record<string, B> {
  const out: Record<string, B> = {};
  for (const [k, v] of Object.entries(m)) out[k] = f(v, k);
  return out;
}
