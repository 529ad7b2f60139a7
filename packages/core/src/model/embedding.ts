import { tf } from '../tf.js';

/**
 * Embedding lookup: a gather forward; the backward is oneHot(ids)ᵀ·dy, a matrix product.
 * tfjs's own gather gradient (UnsortedSegmentSum) costs vocab × tokens × hidden on the stock cpu
 * backend with a slow constant; the product costs the same multiply-adds as the LM head's forward pass,
 * which every step pays anyway, and runs at BLAS speed on the native backend.
 */
export function embeddingLookup(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  // customGrad's typing wants a variadic signature; the arguments are (table, ids, save).
  const lookup = tf.customGrad(((t: tf.Tensor, i: tf.Tensor, save: tf.GradSaveFunc) => {
    save([i]);
    return {
      value: tf.gather(t, i),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const oneHot = tf.oneHot(saved[0] as tf.Tensor1D, (t as tf.Tensor2D).shape[0]);
        return [tf.matMul(oneHot, dy as tf.Tensor2D, true, false), tf.zerosLike(saved[0])];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return lookup(table, ids) as tf.Tensor2D;
}
