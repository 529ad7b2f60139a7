import { tf } from '../tf.js';
import { crossEntropyRows } from '../ops/fused.js';

/** Mean next-token cross-entropy in nats. logits: [batch, seq, vocab]; targets: [batch, seq] int32. */
export function crossEntropy(logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const [b, s, v] = logits.shape;
    return tf.mean(crossEntropyRows(tf.reshape(logits, [b * s, v]) as tf.Tensor2D, tf.reshape(targets, [b * s]) as tf.Tensor1D)) as tf.Scalar;
  });
}
