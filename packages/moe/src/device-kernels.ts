/**
 * Kernels of the MoE dispatch that keeps routing on the device (backends whose tensors the host reads
 * only asynchronously, e.g. webgpu, see moe-ffn.ts). Their exact semantics, a JavaScript implementation
 * of each for the stock `cpu` backend (the reference other backends are tested against, and what lets the
 * device path be checked against the host path on the CPU), and the grouped product's gradient.
 *
 * EsTopK           inputs {logits [T, E] float32}; attrs {k}; output [T, k] int32: each row's k largest
 *                  entries' indices in descending order of value, ties to the lower index (as topKIndices).
 * EsGroupByExpert  inputs {selected [T, k] int32}; attrs {experts, capacity (Infinity: none)}; outputs
 *                  [order [N], position [N], offsets [E + 1]] int32, N = T·k (as groupByExpert): the
 *                  assignments i = t·k + slot sorted by expert, first slots before later ones and tokens
 *                  in order within a slot; an expert keeps at most `capacity`. order[row] = i for the kept
 *                  rows, N past offsets[E]; position[i] = its row, N when dropped; expert e owns rows
 *                  offsets[e] .. offsets[e + 1].
 * EsGroupedMatMul  inputs {x [N, in], w [E, a, b], offsets [E + 1] int32}; attrs {transposeW}; output
 *                  y [N, out]: for a row r of expert e, y_r = x_r · w_eᵀ (w_e [out, in]), or with
 *                  transposeW y_r = x_r · w_e (w_e [in, out]); rows past offsets[E] are 0.
 * EsGroupedMatMulGradW  inputs {x [N, in], dy [N, out], offsets}; attrs {experts}; output
 *                  dw [E, out, in], dw_e = Σ over e's rows of dy_rᵀ · x_r.
 */
import { tf } from '@efficientscale/core';
import { groupByExpert } from './dispatch.js';
import { topKIndices } from './routing.js';

export const moeKernelNames = {
  topK: 'EsTopK',
  groupByExpert: 'EsGroupByExpert',
  groupedMatMul: 'EsGroupedMatMul',
  groupedMatMulGradW: 'EsGroupedMatMulGradW',
} as const;
const K = moeKernelNames;

interface CpuBackendLike {
  data: { get(dataId: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array | Int32Array): tf.TensorInfo;
}
const vals = (b: CpuBackendLike, t: tf.TensorInfo) => b.data.get(t.dataId).values as Float32Array;
const ints = (b: CpuBackendLike, t: tf.TensorInfo) => Int32Array.from(b.data.get(t.dataId).values as ArrayLike<number>);

/** The kernels as pure functions over typed arrays, exported for other backends' tests. */
export const moeReference = {
  topK: (logits: Float32Array, tokens: number, experts: number, k: number) => topKIndices(logits, tokens, experts, k),
  groupByExpert(selected: Int32Array, experts: number, k: number, capacity: number) {
    const g = groupByExpert(selected, experts, k, capacity);
    const n = selected.length;
    const order = new Int32Array(n).fill(n);
    order.set(g.order);
    const position = g.position.map((p) => (p === g.order.length ? n : p)); // dropped: N, not the kept count
    const offsets = new Int32Array(experts + 1);
    for (let e = 0; e < experts; e++) offsets[e + 1] = offsets[e] + g.counts[e];
    return { order, position, offsets };
  },
  groupedMatMul(x: Float32Array, inDim: number, w: Float32Array, wShape: number[], offsets: Int32Array, transposeW: boolean) {
    const [e, a, b] = wShape;
    const out = transposeW ? b : a;
    const n = x.length / inDim;
    const y = new Float32Array(n * out);
    for (let ex = 0; ex < e; ex++) {
      for (let r = offsets[ex]; r < offsets[ex + 1]; r++) {
        for (let c = 0; c < out; c++) {
          let s = 0;
          for (let i = 0; i < inDim; i++) s += x[r * inDim + i] * (transposeW ? w[ex * a * b + i * out + c] : w[ex * a * b + c * inDim + i]);
          y[r * out + c] = s;
        }
      }
    }
    return y;
  },
  groupedMatMulGradW(x: Float32Array, inDim: number, dy: Float32Array, out: number, offsets: Int32Array, experts: number) {
    const dw = new Float32Array(experts * out * inDim);
    for (let ex = 0; ex < experts; ex++) {
      for (let r = offsets[ex]; r < offsets[ex + 1]; r++) {
        for (let j = 0; j < out; j++) {
          const g = dy[r * out + j];
          if (g === 0) continue;
          for (let i = 0; i < inDim; i++) dw[(ex * out + j) * inDim + i] += g * x[r * inDim + i];
        }
      }
    }
    return dw;
  },
};

function register(kernelName: string, fn: (inputs: Record<string, tf.TensorInfo>, b: CpuBackendLike, attrs: Record<string, unknown>) => tf.TensorInfo | tf.TensorInfo[]) {
  if (tf.getKernel(kernelName, 'cpu')) return;
  tf.registerKernel({
    kernelName,
    backendName: 'cpu',
    kernelFunc: ({ inputs, backend, attrs }) => fn(inputs as Record<string, tf.TensorInfo>, backend as unknown as CpuBackendLike, (attrs ?? {}) as Record<string, unknown>),
  });
}

/** Registers the cpu versions and the grouped product's gradient (idempotent). */
export function registerMoeKernels(): void {
  register(K.topK, ({ logits }, b, a) => {
    const [t, e] = logits.shape;
    return b.makeTensorInfo([t, Number(a.k)], 'int32', moeReference.topK(vals(b, logits), t, e, Number(a.k)));
  });
  register(K.groupByExpert, ({ selected }, b, a) => {
    const { order, position, offsets } = moeReference.groupByExpert(ints(b, selected), Number(a.experts), selected.shape[1], Number(a.capacity));
    return [b.makeTensorInfo([order.length], 'int32', order), b.makeTensorInfo([position.length], 'int32', position), b.makeTensorInfo([offsets.length], 'int32', offsets)];
  });
  register(K.groupedMatMul, ({ x, w, offsets }, b, a) => {
    const out = a.transposeW === true ? w.shape[2] : w.shape[1];
    return b.makeTensorInfo([x.shape[0], out], 'float32', moeReference.groupedMatMul(vals(b, x), x.shape[1], vals(b, w), [...w.shape], ints(b, offsets), a.transposeW === true));
  });
  register(K.groupedMatMulGradW, ({ x, dy, offsets }, b, a) =>
    b.makeTensorInfo([Number(a.experts), dy.shape[1], x.shape[1]], 'float32', moeReference.groupedMatMulGradW(vals(b, x), x.shape[1], vals(b, dy), dy.shape[1], ints(b, offsets), Number(a.experts))),
  );
  if (!tf.getGradient(K.groupedMatMul)) {
    tf.registerGradient({
      kernelName: K.groupedMatMul,
      inputsToSave: ['x', 'w', 'offsets'],
      gradFunc: (dy, saved, attrs) => {
        const [x, w, offsets] = saved;
        if ((attrs as { transposeW?: boolean }).transposeW) throw new Error(`${K.groupedMatMul}: no gradient with transposeW`);
        const run = (name: string, inputs: tf.NamedTensorMap, at: Record<string, unknown>) => tf.engine().runKernel(name, inputs, at as tf.NamedAttrMap) as tf.Tensor;
        return {
          x: () => run(K.groupedMatMul, { x: dy as tf.Tensor, w, offsets }, { transposeW: true }),
          w: () => run(K.groupedMatMulGradW, { x, dy: dy as tf.Tensor, offsets }, { experts: w.shape[0] }),
          offsets: () => tf.zerosLike(offsets),
        };
      },
    });
  }
}
