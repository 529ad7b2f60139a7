import { tf } from '../tf.js';

/**
 * Mean next-token cross-entropy in nats. logits: [batch, seq, vocab]; targets: [batch, seq] int32.
 * Target log-probabilities are picked with a one-hot product rather than a gather: the gather's
 * gradient (UnsortedSegmentSum over batch·seq·vocab segments) is quadratic on the stock cpu backend.
 */
export function crossEntropy(logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const [b, s, v] = logits.shape;
    const flat = tf.reshape(logits, [b * s, v]) as tf.Tensor2D;
    const logProbs = tf.sub(flat, tf.logSumExp(flat, -1, true));
    const oneHot = tf.oneHot(tf.reshape(targets, [b * s]), v);
    return tf.neg(tf.div(tf.sum(tf.mul(logProbs, oneHot)), b * s)) as tf.Scalar;
  });
}
