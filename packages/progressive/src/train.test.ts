import { beforeAll, describe, expect, it } from 'vitest';
import { defaultAdamW, llamaConfig, tf, Trainer, type TrainerOptions } from '@efficientscale/core';
import { growDepth } from './depth.js';
import { growWidth } from './width.js';
import { disposeAll } from './test-util.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const options: TrainerOptions = {
  batchSize: 4,
  seqLen: 16,
  accumulation: 1,
  schedule: { kind: 'constant', lr: 1e-2, warmup: 2 },
  adamw: defaultAdamW,
  clipNorm: 1,
  seed: 3,
  evalBatches: 2,
};
// A repeating pattern a tiny model learns within a few steps.
const ids = Int32Array.from({ length: 2000 }, (_, i) => (i * 7 + (i % 5)) % 24);

describe('a grown model trains', () => {
  it('keeps training after exact width and depth growth with optimizer state carried over: loss falls, no NaN', () => {
    const config = llamaConfig({ vocab: 24, hidden: 8, ffn: 16, layers: 1, heads: 2, maxPositions: 32 });
    const trainer = Trainer.fresh(config, ids, ids.slice(0, 400), options);
    for (let i = 0; i < 5; i++) trainer.step();
    const beforeLoss = trainer.evaluate();
    const w = growWidth(trainer.config, trainer.params, { hidden: 16, ffn: 32, method: 'lossless', seed: 1, optimizer: trainer.optimizer.stateTensors() });
    const g = growDepth(w.config, w.params, { layers: 3, method: 'copy', optimizer: w.optimizer });
    disposeAll(w.params, w.optimizer);
    expect(g.report.maxLogitGap!).toBeLessThan(1e-4);
    trainer.replaceModel(g.config, g.params, g.optimizer);
    disposeAll(g.params, g.optimizer);
    // Function preserved across the swap: the held-out loss is the same model's.
    expect(trainer.evaluate()).toBeCloseTo(beforeLoss, 4);
    const first = trainer.step();
    const tensors = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 8; i++) last = trainer.step();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(Number.isFinite(last.loss)).toBe(true);
    expect(last.loss).toBeLessThan(first.loss);
    expect(trainer.evaluate()).toBeLessThan(beforeLoss);
    trainer.dispose();
  });
});
