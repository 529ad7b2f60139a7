/**
 * The one door to tfjs in this project. Every module imports `tf` from here, never from tfjs directly,
 * so that exactly one copy of tfjs-core is used and gradients are registered before any training.
 *
 * tfjs-core's CommonJS build registers no gradients; `@tensorflow/tfjs` (CommonJS) registers all of
 * them on the same tfjs-core instance (checked: `tf.engine()` is shared), and brings the cpu backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs';

export { tf };
export type Tensor = tf.Tensor;
export type NamedTensors = Record<string, tf.Tensor>;

// Production mode: skips tfjs's debug checks and its "install tfjs-node" banner; the project picks and
// reports backends itself (backend.ts).
tf.env().set('PROD', true);
