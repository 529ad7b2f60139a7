/**
 * The MoE layer with its routing kept on the device: top-k, the counting sort and the grouped expert
 * products are kernels (device-kernels.ts), every shape is static (N = tokens·k rows whatever the
 * routing), and nothing is read back to the host. Used where the host reads tensors only asynchronously
 * (webgpu); the host path (dispatch.ts) stays where reading the router is free (cpu, native), running
 * only the experts that got tokens. Same function, same gradients (tested against each other).
 */
import { swiglu, tf } from '@efficientscale/core';
import { moeKernelNames as K } from './device-kernels.js';
import type { ExpertWeights } from './dispatch.js';
import type { RoutingMode } from './moe-config.js';

const run = (name: string, inputs: tf.NamedTensorMap, attrs: Record<string, unknown>) =>
  tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];

export interface DeviceRouting {
  /** [tokens, k] int32 */
  selected: tf.Tensor2D;
  order: tf.Tensor1D;
  position: tf.Tensor1D;
  offsets: tf.Tensor1D;
}

/**
 * The same data as a new tensor with no history: gradients do not flow through it (the choice of
 * experts has none, as on the host path, where it is a plain array). The new tensor holds its own
 * reference to the data (as tfjs's reshape does): without it, disposing it freed the source's data, and
 * disposing the source then left tf.memory().numTensors one too high per MoE layer and step.
 */
const detached = <T extends tf.Tensor>(t: T) => {
  tf.backend().incRef(t.dataId);
  return tf.engine().makeTensorFromDataId(t.dataId, t.shape, t.dtype) as T;
};

export function routeOnDevice(logits: tf.Tensor2D, k: number, experts: number, capacity: number): DeviceRouting {
  const selected = run(K.topK, { logits: detached(logits) }, { k }) as tf.Tensor2D;
  const [order, position, offsets] = run(K.groupByExpert, { selected }, { experts, capacity }) as tf.Tensor1D[];
  return { selected, order, position, offsets };
}

/** Weights of the selected experts, [tokens, k], differentiable in the logits (as routingWeights). */
export function routingWeightsOnDevice(logits: tf.Tensor2D, selected: tf.Tensor2D, mode: RoutingMode): tf.Tensor2D {
  return tf.tidy(() => {
    const [tokens, experts] = logits.shape;
    const k = selected.shape[1];
    const idx = tf.reshape(tf.add(tf.mul(tf.reshape(tf.range(0, tokens, 1, 'int32'), [tokens, 1]), tf.scalar(experts, 'int32')), selected), [-1]);
    if (mode === 'topk-softmax') return tf.softmax(tf.reshape(tf.gather(tf.reshape(logits, [-1]), idx), [tokens, k])) as tf.Tensor2D;
    return tf.reshape(tf.gather(tf.reshape(tf.softmax(logits), [-1]), idx), [tokens, k]) as tf.Tensor2D;
  });
}

/** Each expert's share of the assignments [E] (as expertLoad) and the load-balancing loss (as loadBalancingLoss). */
export function loadOnDevice(logits: tf.Tensor2D, selected: tf.Tensor2D): { share: tf.Tensor1D; balance: tf.Scalar } {
  return tf.tidy(() => {
    const [tokens, experts] = logits.shape;
    const counts = tf.sum(tf.cast(tf.equal(tf.reshape(selected, [-1, 1]), tf.range(0, experts, 1, 'int32').reshape([1, experts])), 'float32'), 0);
    const share = tf.div(counts, Math.max(selected.size, 1)) as tf.Tensor1D;
    const balance = tf.mul(experts, tf.sum(tf.mul(tf.div(counts, tokens), tf.mean(tf.softmax(logits), 0)))) as tf.Scalar;
    return { share, balance };
  });
}

const withZeroRow = (x: tf.Tensor) => tf.concat([x, tf.zeros([1, x.shape[1]!])], 0);

/** Rows of x in expert order (row r is token order[r]/k; unused rows read a zero row); backward a gather too. */
function spreadRows(x: tf.Tensor2D, rowToken: tf.Tensor1D, position: tf.Tensor1D, k: number): tf.Tensor2D {
  const [tokens, hidden] = x.shape;
  const spread = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    (args[1] as tf.GradSaveFunc)([position]);
    return {
      value: tf.gather(withZeroRow(args[0] as tf.Tensor), rowToken),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.sum(tf.reshape(tf.gather(withZeroRow(dy), saved[0]), [tokens, k, hidden]), 1),
    };
  });
  return spread(x) as tf.Tensor2D;
}

/** Expert results back in assignment order (dropped assignments read a zero row); backward a gather by order. */
function unsortRows(x: tf.Tensor2D, position: tf.Tensor1D, order: tf.Tensor1D): tf.Tensor2D {
  const permute = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    (args[1] as tf.GradSaveFunc)([order]);
    return { value: tf.gather(withZeroRow(args[0] as tf.Tensor), position), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.gather(withZeroRow(dy), saved[0]) };
  });
  return permute(x) as tf.Tensor2D;
}

const grouped = (x: tf.Tensor, w: tf.Tensor, offsets: tf.Tensor) => run(K.groupedMatMul, { x, w, offsets }, { transposeW: false }) as tf.Tensor2D;

/**
 * Grouped dispatch on the device (as dispatch()): rows in expert order, each expert's SwiGLU on its block
 * through grouped products over the stacked expert weights, results back in token order, weighted sum.
 */
export function dispatchOnDevice(x: tf.Tensor2D, routing: DeviceRouting, weights: tf.Tensor2D, experts: ExpertWeights[]): tf.Tensor2D {
  return tf.tidy(() => {
    const [tokens, hidden] = x.shape;
    const k = weights.shape[1];
    const rowToken = tf.floorDiv(routing.order, tf.scalar(k, 'int32')) as tf.Tensor1D; // N (unused rows) → tokens: the zero row
    const rows = spreadRows(x, rowToken, routing.position, k);
    const stack = (key: keyof ExpertWeights) => tf.stack(experts.map((e) => e[key]));
    const gate = grouped(rows, stack('w1'), routing.offsets);
    const up = grouped(rows, stack('w3'), routing.offsets);
    const act = swiglu(gate, up);
    const results = grouped(act, stack('w2'), routing.offsets);
    const byToken = tf.reshape(unsortRows(results, routing.position, routing.order), [tokens, k, hidden]);
    return tf.sum(tf.mul(byToken, tf.reshape(weights, [tokens, k, 1])), 1) as tf.Tensor2D;
  });
}
