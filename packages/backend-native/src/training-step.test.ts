/**
 * A training step of core's Llama-style model gives the same loss and gradients on 'native' as on
 * 'cpu' (within 1e-4 relative), and leaves no tensors behind.
 *
 * core is imported by path, not as a package dependency: core loads this package (optionally) to
 * offer the backend, and a dependency back would make a cycle.
 */
import { describe, expect, it } from 'vitest';
import { Trainer, crossEntropy, forwardWithAux, initParams, llamaConfig, tf as coreTf, type Params } from '../../core/src/index.js';
import { registration, tf, values } from './test-util.js';

const config = llamaConfig({ vocab: 64, hidden: 32, ffn: 48, layers: 2, heads: 4, kvHeads: 2, maxPositions: 64 });
const batch = 3, seq = 16;
const tokens = Int32Array.from(values(7, 4000, 0, 64, true));

function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < want.length; i++) {
    num += (got[i] - want[i]) ** 2;
    den += want[i] ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}

function lossAndGrads(backend: 'cpu' | 'native') {
  tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const params: Params = initParams(config, 0);
  const names = Object.keys(params);
  const inputs = tf.tensor2d(tokens.subarray(0, batch * seq), [batch, seq], 'int32');
  const targets = tf.tensor2d(tokens.subarray(1, batch * seq + 1), [batch, seq], 'int32');
  const f = (...ws: tf.Tensor[]) => {
    const p = Object.fromEntries(names.map((n, i) => [n, ws[i]])) as Params;
    const { logits, auxLoss } = forwardWithAux(config, p, inputs as tf.Tensor2D);
    return tf.add(crossEntropy(logits, targets as tf.Tensor2D), auxLoss) as tf.Scalar;
  };
  const { value, grads } = tf.tidy(() => tf.valueAndGrads(f)(names.map((n) => params[n])));
  const out = {
    loss: value.dataSync()[0],
    grads: Object.fromEntries(names.map((n, i) => [n, Float32Array.from(grads[i].dataSync())])),
  };
  tf.dispose([value, ...grads, inputs, targets, ...Object.values(params)]);
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

function trainerLosses(backend: 'cpu' | 'native', steps: number) {
  tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const trainer = Trainer.fresh(config, tokens, tokens.subarray(0, 200), {
    batchSize: batch, seqLen: seq, accumulation: 1, seed: 0, evalBatches: 1, clipNorm: 1,
    schedule: { kind: 'cosine', lr: 1e-3, warmup: 0, total: 10, minRatio: 0.1 },
    adamw: { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.01 },
  });
  const losses = Array.from({ length: steps }, () => trainer.step().loss);
  tf.dispose(Object.values(trainer.vars));
  trainer.optimizer.dispose();
  return { losses, leaked: tf.memory().numTensors - before };
}

describe.skipIf(!registration.ok)('training step on native vs cpu', () => {
  it('core uses the same tfjs-core instance as this package', () => {
    expect(coreTf.engine()).toBe(tf.engine());
  });

  it('gives the same loss and gradients within 1e-4 relative', () => {
    const want = lossAndGrads('cpu');
    const got = lossAndGrads('native');
    expect(Math.abs(got.loss - want.loss) / Math.abs(want.loss)).toBeLessThan(1e-4);
    const names = Object.keys(want.grads);
    expect(Object.keys(got.grads)).toEqual(names);
    for (const n of names) {
      const e = relErr(got.grads[n], want.grads[n]);
      expect(e, `gradient of ${n}: relative error ${e}`).toBeLessThan(1e-4);
    }
  });

  it('runs the trainer (forward, backward, clip, AdamW) to the same losses, leaving no tensors', () => {
    const want = trainerLosses('cpu', 3);
    const got = trainerLosses('native', 3);
    for (let i = 0; i < want.losses.length; i++) {
      expect(Math.abs(got.losses[i] - want.losses[i]) / want.losses[i], `step ${i + 1}`).toBeLessThan(1e-4);
    }
    expect(got.leaked).toBe(want.leaked);
  });
});
