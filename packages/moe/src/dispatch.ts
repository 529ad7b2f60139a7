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

export interface Grouping {
  /** Sorted row → assignment (token·k + slot); only the kept assignments. */
  order: Int32Array;
  /** Assignment → sorted row; a dropped assignment points one past the last row (a zero row). */
  position: Int32Array;
  /** Kept assignments per expert. */
  counts: Int32Array;
  dropped: number;
}

/**
 * The token·k assignments sorted by expert (a counting sort), and where each one landed. With a capacity,
 * an expert keeps at most that many: first choices of all tokens before second choices (as Switch and
 * GShard do), in token order within a slot; the rest are dropped (the token keeps its residual).
 */
export function groupByExpert(selected: Int32Array, experts: number, k = 1, capacity = Infinity): Grouping {
  const tokens = selected.length / k;
  const counts = new Int32Array(experts);
  const kept = new Uint8Array(selected.length);
  for (let slot = 0; slot < k; slot++) {
    for (let t = 0; t < tokens; t++) {
      const i = t * k + slot;
      if (counts[selected[i]] < capacity) {
        counts[selected[i]]++;
        kept[i] = 1;
      }
    }
  }
  const next = new Int32Array(experts);
  for (let e = 1; e < experts; e++) next[e] = next[e - 1] + counts[e - 1];
  const rows = experts > 0 ? next[experts - 1] + counts[experts - 1] : 0;
  const order = new Int32Array(rows);
  const position = new Int32Array(selected.length);
  for (let i = 0; i < selected.length; i++) {
    if (!kept[i]) {
      position[i] = rows;
      continue;
    }
    const row = next[selected[i]]++;
    order[row] = i;
    position[i] = row;
  }
  return { order, position, counts, dropped: selected.length - rows };
}

/** x with one zero row appended: where dropped assignments read from. */
const withZeroRow = (x: tf.Tensor, dropped: number) => (dropped > 0 ? tf.concat([x, tf.zeros([1, x.shape[1]!])], 0) : x);

/**
 * Rows of x in expert order, each token k times: a gather whose backward is a gather too (each token
 * sums its k rows' gradients) instead of tfjs's segment sum and its broadcasting select, slow on CPUs.
 */
function spreadRows(x: tf.Tensor2D, rowToken: tf.Tensor1D, position: tf.Tensor1D, k: number, dropped: number): tf.Tensor2D {
  const [tokens, hidden] = x.shape;
  const spread = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    (args[1] as tf.GradSaveFunc)([position]);
    return {
      value: tf.gather(args[0] as tf.Tensor, rowToken),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.sum(tf.reshape(tf.gather(withZeroRow(dy, dropped), saved[0]), [tokens, k, hidden]), 1),
    };
  });
  return spread(x) as tf.Tensor2D;
}

/**
 * Expert results back in assignment order (dropped assignments get zeros). Each kept row lands in exactly
 * one place, so the gradient is a gather by the inverse map, not a scatter.
 */
function unsortRows(x: tf.Tensor2D, position: tf.Tensor1D, order: tf.Tensor1D, dropped: number): tf.Tensor2D {
  const permute = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    (args[1] as tf.GradSaveFunc)([order]);
    return { value: tf.gather(withZeroRow(args[0] as tf.Tensor, dropped), position), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.gather(dy, saved[0]) };
  });
  return permute(x) as tf.Tensor2D;
}

/**
 * Grouped dispatch: one gather puts the rows of each expert's tokens in one contiguous block, each expert
 * runs once on its block (experts nobody picked do not run), one gather puts the results back in
 * token order and each token sums its k results, weighted. Work scales with k, not E.
 * x: [tokens, hidden], selected/weights: [tokens, k]. No scatter, forward or backward. `capacity`: most
 * assignments an expert takes (see groupByExpert); default all.
 */
export function dispatch(x: tf.Tensor2D, selected: Int32Array, weights: tf.Tensor2D, experts: ExpertWeights[], capacity = Infinity): tf.Tensor2D {
  return tf.tidy(() => {
    const [tokens, hidden] = x.shape;
    const k = weights.shape[1];
    const { order, position, counts, dropped } = groupByExpert(selected, experts.length, k, capacity);
    const orderT = tf.tensor1d(order, 'int32');
    const positionT = tf.tensor1d(position, 'int32');
    const used = experts.map((_, e) => e).filter((e) => counts[e] > 0);
    if (used.length === 0) return tf.zeros([tokens, hidden]) as tf.Tensor2D;
    const grouped = spreadRows(x, tf.tensor1d(order.map((i) => Math.floor(i / k)), 'int32'), positionT, k, dropped);
    const blocks = used.length > 1 ? tf.split(grouped, used.map((e) => counts[e])) : [grouped];
    const outputs = blocks.map((block, j) => expertForward(block as tf.Tensor2D, experts[used[j]]));
    const results = outputs.length > 1 ? tf.concat(outputs, 0) : outputs[0];
    const byToken = tf.reshape(unsortRows(results as tf.Tensor2D, positionT, orderT, dropped), [tokens, k, hidden]);
    return tf.sum(tf.mul(byToken, tf.reshape(weights, [tokens, k, 1])), 1) as tf.Tensor2D;
  });
}
