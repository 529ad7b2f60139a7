/**
 * The 'native' tfjs backend: tfjs-backend-cpu's storage (plain typed arrays), so every kernel not
 * ported falls back to the cpu implementation on the same memory, and ported kernels hand those
 * arrays to the addon without copying.
 */
import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from './addon.js';

export type NumericArray = Float32Array | Int32Array | Uint8Array;

export class NativeBackend extends MathBackendCPU {
  constructor(readonly addon: NativeAddon) {
    super();
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

  /** A fresh output array of a numeric dtype, to be filled by the addon. */
  alloc(dtype: DataType, size: number): NumericArray {
    if (dtype === 'float32') return new Float32Array(size);
    if (dtype === 'int32') return new Int32Array(size);
    if (dtype === 'bool') return new Uint8Array(size);
    throw new Error(`native backend: cannot allocate ${dtype}`);
  }

  output(shape: number[], dtype: DataType, values: NumericArray): TensorInfo {
    return this.makeTensorInfo(shape, dtype, values);
  }
}

/** Storage dtypes that the addon handles (bool is one byte per element, as in tfjs). */
export function isNumeric(dtype: DataType): dtype is 'float32' | 'int32' | 'bool' {
  return dtype === 'float32' || dtype === 'int32' || dtype === 'bool';
}
