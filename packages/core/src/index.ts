export { tf } from './tf.js';
export type { Tensor, NamedTensors } from './tf.js';
export { UserError, mismatch } from './errors.js';
