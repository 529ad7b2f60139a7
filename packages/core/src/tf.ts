/**
 * The one door to tfjs in this project. Every module imports `tf` from here, never from tfjs directly,
 * so that exactly one copy of tfjs-core is used and gradients are registered before any training.
 *
 * tfjs-core's CommonJS build registers no gradients. Rather than `@tensorflow/tfjs` (which registers them
 * but installs layers, converter, data and webgl too), core registers tfjs-core's own gradient definitions,
 * and its chained ops (`x.add(y)`), vendored with their ops taken from this same tfjs-core
 * (tfjs-gradients.generated.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { installChainedOps, registerTfjsGradients } from './tfjs-gradients.generated.js';
// The chained ops' types: tfjs-core declares them in this module (type-only: erased from the JavaScript).
import type {} from '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';

registerTfjsGradients();
installChainedOps();

export { tf };
export type Tensor = tf.Tensor;
export type NamedTensors = Record<string, tf.Tensor>;

// Production mode: skips tfjs's debug checks and its "install tfjs-node" banner; the project picks and
// reports backends itself (backend.ts).
tf.env().set('PROD', true);
