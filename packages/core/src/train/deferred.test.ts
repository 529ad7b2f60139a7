/**
 * The trainer's device-side path (stepDeferred: clip and update queued, numbers read later), checked on
 * the cpu backend against the synchronous step(): the same losses, gradient norms and weights.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.js';
import { UserError } from '../errors.js';
import { llamaConfig } from '../model/config.js';
import { ByteTokenizer } from '../data/tokenizer.js';
import { splitTrainVal } from '../data/batches.js';
import { Trainer, type TrainerOptions } from './trainer.js';
import { clipByGlobalNorm, clipByGlobalNormOnDevice } from './clip.js';
import { defaultAdamW } from './adamw.js';

const config = llamaConfig({ vocab: 256, hidden: 16, ffn: 40, layers: 2, heads: 4, kvHeads: 2, maxPositions: 64 });
const text = 'the quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. '.repeat(40);
const options = (clipNorm: number, lr = 1e-2): TrainerOptions => ({
  batchSize: 2,
  seqLen: 16,
  accumulation: 2,
  schedule: { kind: 'constant', lr },
  adamw: defaultAdamW,
  clipNorm,
  seed: 7,
  evalBatches: 2,
});

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Trainer.stepDeferred', () => {
  it('gives step()\'s losses, norms and weights (1e-6 relative), clipping or not, and leaves no tensors', async () => {
    const { train, val } = splitTrainVal(new ByteTokenizer().encode(text), 0.1);
    for (const clip of [0.05, 0]) {
      const a = Trainer.fresh(config, train, val, options(clip));
      const b = Trainer.fresh(config, train, val, options(clip));
      let before = 0;
      for (let i = 0; i < 4; i++) {
        if (i === 1) before = tf.memory().numTensors; // after the optimizer made its moments
        const sync = a.step();
        const pending = b.stepDeferred();
        expect(pending.step).toBe(sync.step);
        const later = await pending.read();
        expect(later.loss).toBeCloseTo(sync.loss, 5);
        expect(Math.abs(later.gradNorm - sync.gradNorm) / sync.gradNorm).toBeLessThan(1e-6);
        if (clip > 0) expect(sync.gradNorm).toBeGreaterThan(clip); // the clip really ran
        expect(later.tokens).toBe(sync.tokens);
        expect(later.lr).toBe(sync.lr);
      }
      expect(tf.memory().numTensors).toBe(before);
      for (const [name, v] of Object.entries(a.params)) {
        const [x, y] = [v.dataSync(), b.params[name].dataSync()];
        for (let i = 0; i < x.length; i++) expect(Math.abs(x[i] - y[i]), `${name}[${i}]`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(x[i])));
      }
      expect(await a.evaluateAsync()).toBe(a.evaluate());
      a.dispose();
      b.dispose();
    }
  });

  it('reports a non-finite loss when it is read, in one line', async () => {
    const { train, val } = splitTrainVal(new ByteTokenizer().encode(text), 0.1);
    const t = Trainer.fresh(config, train, val, options(1, 1e30));
    await t.stepDeferred().read();
    let error: unknown;
    try {
      for (let i = 0; i < 5; i++) await t.stepDeferred().read();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UserError);
    expect(String((error as Error).message)).toMatch(/^training loss at step \d+: expected a finite number, found NaN/);
    t.dispose();
  });
});

describe('clipByGlobalNormOnDevice', () => {
  it('scales as clipByGlobalNorm does, leaves small and non-finite norms alone', () => {
    const make = () => ({ a: tf.tensor1d([3, 4]), b: tf.tensor2d([[12]]) }); // norm 13
    for (const max of [1, 13, 20, 0]) {
      const host = clipByGlobalNorm(make(), max);
      const dev = clipByGlobalNormOnDevice(make(), max);
      expect(dev.norm.dataSync()[0]).toBeCloseTo(host.norm, 5);
      for (const k of ['a', 'b']) {
        const [x, y] = [host.grads[k].dataSync(), dev.grads[k].dataSync()];
        x.forEach((v, i) => expect(y[i]).toBeCloseTo(v, 6));
      }
      tf.dispose([...Object.values(host.grads), ...Object.values(dev.grads), dev.norm]);
    }
    const inf = clipByGlobalNormOnDevice({ a: tf.tensor1d([Infinity, 1]) }, 1);
    expect(Array.from(inf.grads.a.dataSync())).toEqual([Infinity, 1]);
    tf.dispose([inf.grads.a, inf.norm]);
  });
});
