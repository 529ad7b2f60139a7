import { getFfnKind, tf, type FfnContext } from '@efficientscale/core';

/** One SwiGLU expert in Mixtral's naming: w2(silu(w1 x) · w3 x). */
export interface ExpertWeights {
  w1: tf.Tensor2D;
  w2: tf.Tensor2D;
  w3: tf.Tensor2D;
}

const asDense: Record<string, keyof ExpertWeights> = { 'mlp.gate_proj.weight': 'w1', 'mlp.up_proj.weight': 'w3', 'mlp.down_proj.weight': 'w2' };

/**
 * An expert is core's dense SwiGLU FFN under Mixtral's names, so it runs the same (fused) kernels as a
 * dense layer. The dense kind reads nothing but its three weights from the context.
 */
export function expertForward(x: tf.Tensor2D, w: ExpertWeights): tf.Tensor2D {
  const ctx = { param: (suffix: string) => w[asDense[suffix]] } as unknown as FfnContext;
  return getFfnKind('dense').forward(ctx, x).y;
}

/** The token·k assignments sorted by expert (a counting sort), and where each one landed. */
export function groupByExpert(selected: Int32Array, experts: number): { order: Int32Array; position: Int32Array; counts: Int32Array } {
  const counts = new Int32Array(experts);
  for (const e of selected) counts[e]++;
  const next = new Int32Array(experts);
  for (let e = 1; e < experts; e++) next[e] = next[e - 1] + counts[e - 1];
  const order = new Int32Array(selected.length); // sorted row → assignment (token·k + slot)
  const position = new Int32Array(selected.length); // assignment → sorted row
  for (let i = 0; i < selected.length; i++) {
    const row = next[selected[i]]++;
    order[row] = i;
    position[i] = row;
  }
  return { order, position, counts };
}

/**
 * Rows of x in expert order, each token k times: a gather whose backward is a gather too (each token
 * sums its k rows' gradients) instead of tfjs's segment sum and its broadcasting select, slow on CPUs.
 */
function spreadRows(x: tf.Tensor2D, rowToken: tf.Tensor1D, position: tf.Tensor1D, k: number): tf.Tensor2D {
  const [tokens, hidden] = x.shape;
  const spread = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    (args[1] as tf.GradSaveFunc)([position]);
    return {
      value: tf.gather(args[0] as tf.Tensor, rowToken),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.sum(tf.reshape(tf.gather(dy, saved[0]), [tokens, k, hidden]), 1),
    };
  });
  return spread(x) as tf.Tensor2D;
}

/** Rows reordered by a permutation; the gradient is the inverse permutation (a gather, not a scatter). */
function permuteRows(x: tf.Tensor2D, permutation: tf.Tensor1D, inverse: tf.Tensor1D): tf.Tensor2D {
  const permute = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    (args[1] as tf.GradSaveFunc)([inverse]);
    return { value: tf.gather(args[0] as tf.Tensor, permutation), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.gather(dy, saved[0]) };
  });
  return permute(x) as tf.Tensor2D;
}

/**
 * Grouped dispatch: one gather puts the rows of each expert's tokens in one contiguous block, each expert
 * runs once on its block (experts nobody picked do not run), one gather puts the results back in
 * token order and each token sums its k results, weighted. Work scales with k, not E.
 * x: [tokens, hidden], selected/weights: [tokens, k]. No scatter, forward or backward.
 */
export function dispatch(x: tf.Tensor2D, selected: Int32Array, weights: tf.Tensor2D, experts: ExpertWeights[]): tf.Tensor2D {
  return tf.tidy(() => {
    const [tokens, hidden] = x.shape;
    const k = weights.shape[1];
    const { order, position, counts } = groupByExpert(selected, experts.length);
    const orderT = tf.tensor1d(order, 'int32');
    const positionT = tf.tensor1d(position, 'int32');
    const grouped = spreadRows(x, tf.tensor1d(order.map((i) => Math.floor(i / k)), 'int32'), positionT, k);
    const used = experts.map((_, e) => e).filter((e) => counts[e] > 0);
    const blocks = used.length > 1 ? tf.split(grouped, used.map((e) => counts[e])) : [grouped];
    const outputs = blocks.map((block, j) => expertForward(block as tf.Tensor2D, experts[used[j]]));
    const results = outputs.length > 1 ? tf.concat(outputs, 0) : outputs[0];
    const byToken = tf.reshape(permuteRows(results as tf.Tensor2D, positionT, orderT), [tokens, k, hidden]);
    return tf.sum(tf.mul(byToken, tf.reshape(weights, [tokens, k, 1])), 1) as tf.Tensor2D;
  });
}
