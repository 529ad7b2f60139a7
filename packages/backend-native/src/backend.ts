/**
 * The 'native' tfjs backend: tfjs-backend-cpu's storage (plain typed arrays), so every kernel not
 * ported falls back to the cpu implementation on the same memory, and ported kernels hand those
 * arrays to the addon without copying.
 */
import type { BackendValues, DataId, DataType, TensorInfo } from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { totalmem } from 'node:os';
import type { NativeAddon } from './addon.js';

export type NumericArray = Float32Array | Int32Array | Uint8Array;

/** Outputs smaller than this come from fresh arrays; larger ones reuse the memory of disposed tensors. */
const MIN_POOLED_BYTES = 1 << 14;
/**
 * The most memory held for reuse: a training step's activations, freed at its end and needed again by the
 * next step (a smaller cap misses on every step once activations outgrow it: 266 MiB of fresh arrays a
 * step at 4 layers, hidden 256, batch 16 × 128 with a 256 MiB cap). A quarter of the machine's memory, at
 * most 4 GiB; `EFFICIENTSCALE_NATIVE_POOL_MB` overrides.
 */
const MAX_POOLED_BYTES = (() => {
  const mb = Number(process.env.EFFICIENTSCALE_NATIVE_POOL_MB || NaN);
  if (mb >= 0) return mb * 2 ** 20;
  return Math.min(4 * 2 ** 30, totalmem() / 4);
})();

/**
 * Output memory is recycled: a freshly allocated typed array costs more than most element-wise kernels
 * (zeroing and page faults), and a training step allocates thousands. An array goes back to the pool
 * only when its tensor is disposed, and only if it never escaped: arrays read by user code (dataSync,
 * moves to other backends) or aliased by a cpu kernel's output (a slice as a subarray) are left alone.
 */
export class NativeBackend extends MathBackendCPU {
  private readonly pool = new Map<number, ArrayBuffer[]>();
  private pooledBytes = 0;
  /** Arrays this backend allocated, whose whole buffer it owns. */
  private readonly owned = new WeakSet<object>();
  private readonly ownedBuffers = new WeakSet<ArrayBufferLike>();
  /** Buffers visible outside the backend: never recycled. */
  private readonly escaped = new WeakSet<ArrayBufferLike>();

  constructor(readonly addon: NativeAddon) {
    super();
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const values = this.data.has(dataId) ? (this.data.get(dataId).values as unknown) : null;
    const disposed = super.disposeData(dataId, force);
    if (disposed && values && !this.data.has(dataId)) this.recycle(values);
    return disposed;
  }

  override readSync(dataId: DataId): BackendValues {
    const values = super.readSync(dataId);
    if (ArrayBuffer.isView(values)) this.escaped.add(values.buffer);
    return values;
  }

  /** Called after a cpu kernel ran on this backend: its outputs may alias input memory. */
  markAliases(inputs: TensorInfo[], outputs: TensorInfo | TensorInfo[]): void {
    for (const out of Array.isArray(outputs) ? outputs : [outputs]) {
      if (!out || !this.data.has(out.dataId) || inputs.some((t) => t && t.dataId === out.dataId)) continue;
      const v = this.data.get(out.dataId).values as unknown;
      if (ArrayBuffer.isView(v) && this.ownedBuffers.has(v.buffer)) this.escaped.add(v.buffer);
    }
  }

  private recycle(values: unknown): void {
    if (!ArrayBuffer.isView(values) || !this.owned.has(values)) return;
    const buf = values.buffer as ArrayBuffer;
    this.owned.delete(values);
    if (this.escaped.has(buf) || this.pooledBytes + buf.byteLength > MAX_POOLED_BYTES) return;
    let list = this.pool.get(buf.byteLength);
    if (!list) this.pool.set(buf.byteLength, (list = []));
    list.push(buf);
    this.pooledBytes += buf.byteLength;
  }

  private buffer(bytes: number): ArrayBuffer {
    const reused = this.pool.get(bytes)?.pop();
    if (reused) {
      this.pooledBytes -= bytes;
      return reused;
    }
    const fresh = new ArrayBuffer(bytes);
    this.ownedBuffers.add(fresh);
    return fresh;
  }

  /**
   * The typed array behind a tensor, or null when it is not the array type of its dtype (strings,
   * complex numbers, and the few cpu kernels that store e.g. int32 values in a Float32Array).
   */
  values(t: TensorInfo): NumericArray | null {
    const v = this.data.get(t.dataId).values as unknown;
    if (t.dtype === 'float32') return v instanceof Float32Array ? v : null;
    if (t.dtype === 'int32') return v instanceof Int32Array ? v : null;
    if (t.dtype === 'bool') return v instanceof Uint8Array ? v : null;
    return null;
  }

  /**
   * An output array of a numeric dtype, to be filled by the addon. Large ones may hold the values of a
   * disposed tensor: every kernel writes each element of its output.
   */
  alloc(dtype: DataType, size: number): NumericArray {
    const width = dtype === 'bool' ? 1 : 4;
    if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'bool') throw new Error(`native backend: cannot allocate ${dtype}`);
    if (size * width < MIN_POOLED_BYTES) {
      return dtype === 'float32' ? new Float32Array(size) : dtype === 'int32' ? new Int32Array(size) : new Uint8Array(size);
    }
    const buf = this.buffer(size * width);
    const arr = dtype === 'float32' ? new Float32Array(buf) : dtype === 'int32' ? new Int32Array(buf) : new Uint8Array(buf);
    this.owned.add(arr);
    return arr;
  }

  /** Bytes held for reuse (for tests and diagnostics). */
  get pooled(): number {
    return this.pooledBytes;
  }

  output(shape: number[], dtype: DataType, values: NumericArray): TensorInfo {
    return this.makeTensorInfo(shape, dtype, values);
  }
}

/** Storage dtypes that the addon handles (bool is one byte per element, as in tfjs). */
export function isNumeric(dtype: DataType): dtype is 'float32' | 'int32' | 'bool' {
  return dtype === 'float32' || dtype === 'int32' || dtype === 'bool';
}
