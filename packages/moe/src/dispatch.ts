import { tf } from '@efficientscale/core';

/** One SwiGLU expert in Mixtral's naming: w2(silu(w1 x) · w3 x). */
export interface ExpertWeights {
  w1: tf.Tensor2D;
  w2: tf.Tensor2D;
  w3: tf.Tensor2D;
}

export function expertForward(x: tf.Tensor2D, w: ExpertWeights): tf.Tensor2D {
  return tf.tidy(() => {
    const gate = tf.matMul(x, w.w1, false, true);
    const up = tf.matMul(x, w.w3, false, true);
    return tf.matMul(tf.mul(tf.mul(gate, tf.sigmoid(gate)), up), w.w2, false, true) as tf.Tensor2D;
  });
}

/**
 * Grouped dispatch: for each expert, gather the token rows routed to it, run it once on that group,
 * scale by the routing weight and scatter-add back (unsortedSegmentSum). Work scales with k, not E;
 * experts nobody picked do not run. x: [tokens, hidden], selected/weights: [tokens, k].
 */
export function dispatch(x: tf.Tensor2D, selected: Int32Array, weights: tf.Tensor2D, experts: ExpertWeights[]): tf.Tensor2D {
  return tf.tidy(() => {
    const [tokens, hidden] = x.shape;
    const k = weights.shape[1];
    const rowsOf: number[][] = experts.map(() => []);
    for (let i = 0; i < selected.length; i++) rowsOf[selected[i]].push(i); // i = token·k + slot
    const flatWeights = tf.reshape(weights, [-1]);
    const parts: tf.Tensor2D[] = [];
    const targets: number[] = [];
    experts.forEach((w, e) => {
      const slots = rowsOf[e];
      if (slots.length === 0) return;
      const tokenIdx = slots.map((i) => Math.floor(i / k));
      const y = expertForward(tf.gather(x, tf.tensor1d(tokenIdx, 'int32')) as tf.Tensor2D, w);
      const wRows = tf.reshape(tf.gather(flatWeights, tf.tensor1d(slots, 'int32')), [-1, 1]);
      parts.push(tf.mul(y, wRows) as tf.Tensor2D);
      targets.push(...tokenIdx);
    });
    if (parts.length === 0) return tf.zeros([tokens, hidden]) as tf.Tensor2D;
    return tf.unsortedSegmentSum(tf.concat(parts, 0), tf.tensor1d(targets, 'int32'), tokens) as tf.Tensor2D;
  });
}
