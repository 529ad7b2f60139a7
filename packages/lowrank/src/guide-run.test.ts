import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf, llamaConfig, loadModel, disposeModel, forward, startRun, continueRun, ByteTokenizer, defaultAdamW, Trainer, splitTrainVal, type RunSpec } from '@efficientscale/core/node';
import { lowrankConfig, selfGuidedBetweenSteps, guideWeightsFromFactors, guideAlpha } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-guide-run-'));
const text = 'pack my box with five dozen liquor jugs. '.repeat(40);
const guided = lowrankConfig(llamaConfig({ vocab: 256, hidden: 16, ffn: 32, layers: 2, heads: 2, maxPositions: 32 }), {
  rank: 4,
  self_guided: true,
  guide_fraction: 0.5,
});
const spec: RunSpec = {
  totalSteps: 8,
  valFraction: 0.1,
  evalEvery: 0,
  checkpointEvery: 1,
  corpus: 'test',
  trainer: {
    batchSize: 2, seqLen: 16, accumulation: 1, schedule: { kind: 'cosine', lr: 1e-2, warmup: 1, total: 8 },
    adamw: defaultAdamW, clipNorm: 1, seed: 5, evalBatches: 1,
  },
};
const losses = (dir: string) => fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).loss as number);
const run = (outDir: string, stopAfter?: number) =>
  startRun({ outDir, text, tokenizer: new ByteTokenizer(), config: guided, spec, stopAfter, betweenSteps: selfGuidedBetweenSteps });

describe('self-guided training in core\'s run loop', () => {
  it('starts with W = U·V (the guided model is the low-rank function at step 0)', () => {
    const { train, val } = splitTrainVal(new ByteTokenizer().encode(text), 0.1);
    const trainer = Trainer.fresh(guided, train, val, spec.trainer);
    selfGuidedBetweenSteps(trainer, spec);
    expect(trainer.config.efficientscale?.ffn_options?.lowrank).toMatchObject({ guide_steps: 4, guide_alpha: expect.closeTo(0.8536, 3) });
    const tokens = tf.tensor2d([[112, 97, 99, 107]], [1, 4], 'int32');
    const lowOnly = { ...trainer.config, efficientscale: { ...trainer.config.efficientscale, ffn_options: { lowrank: { rank: 4 } } } };
    const low: Record<string, tf.Tensor> = {};
    for (const [n, t] of Object.entries(trainer.params)) if (!/mlp\.\w+\.weight$/.test(n) || n.includes('layers.0')) low[n] = t;
    const a = forward(trainer.config, trainer.params, tokens);
    const b = forward(lowOnly, low, tokens);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0])).toBeLessThan(1e-5);
    const w = guideWeightsFromFactors(trainer.config, trainer.params);
    expect(Object.keys(w).sort()).toEqual(['model.layers.1.mlp.down_proj.weight', 'model.layers.1.mlp.gate_proj.weight', 'model.layers.1.mlp.up_proj.weight']);
    tf.dispose([a, b, tokens, ...Object.values(w)]);
    trainer.dispose();
  });

  it('a run stopped while guided, or after W is dropped, resumes to the uninterrupted run\'s losses and weights', async () => {
    const whole = path.join(tmp, 'whole');
    await run(whole);
    for (const stop of [2, 5]) {
      const dir = path.join(tmp, `stop${stop}`);
      await run(dir, stop);
      const mid = loadModel(path.join(dir, 'checkpoint'));
      const o = mid.config.efficientscale?.ffn_options?.lowrank;
      // Before step 4 the checkpoint carries W and the schedule; from step 4 on it is plain low-rank.
      if (stop < 4) expect(o).toMatchObject({ self_guided: true, guide_steps: 4 });
      else expect(o).toEqual({ layer_ranks: { 1: { gate_proj: 4, up_proj: 4, down_proj: 4 } } });
      expect('model.layers.1.mlp.up_proj.weight' in mid.params).toBe(stop < 4);
      disposeModel(mid);
      const before = tf.memory().numTensors;
      await continueRun({ outDir: dir, text, betweenSteps: selfGuidedBetweenSteps });
      expect(tf.memory().numTensors).toBe(before);
      expect(losses(dir)).toEqual(losses(whole));
    }
    const a = loadModel(path.join(whole, 'checkpoint'));
    const b = loadModel(path.join(tmp, 'stop2', 'checkpoint'));
    expect(Object.keys(a.params).sort()).toEqual(Object.keys(b.params).sort());
    for (const n of Object.keys(a.params)) expect(Array.from(b.params[n].dataSync())).toEqual(Array.from(a.params[n].dataSync()));
    disposeModel(a);
    disposeModel(b);
    const l = losses(whole);
    expect(l[7]).toBeLessThan(l[0]);
  });

  it('the stochastic variant runs one branch per step, the dense one about as often as the cosine α says, then drops W', () => {
    const { train, val } = splitTrainVal(new ByteTokenizer().encode(text), 0.1);
    const config = lowrankConfig(llamaConfig({ vocab: 256, hidden: 8, ffn: 16, layers: 2, heads: 2, maxPositions: 32 }), { rank: 2, self_guided: true, guide_fraction: 0.5, guide_stochastic: true });
    const trainer = Trainer.fresh(config, train, val, spec.trainer);
    const drawn: number[] = [];
    for (let done = 0; done < 100; done++) {
      trainer.state = { ...trainer.state, step: done }; // the hook reads only the step count: no training needed
      selfGuidedBetweenSteps(trainer, { totalSteps: 200 });
      drawn.push(trainer.config.efficientscale?.ffn_options?.lowrank?.guide_alpha as number);
    }
    expect(new Set(drawn)).toEqual(new Set([0, 1]));
    const expected = drawn.reduce((a, _, k) => a + guideAlpha(k + 1, 100), 0); // 49.5
    const dense = drawn.reduce((a, b) => a + b, 0);
    expect(Math.abs(dense - expected)).toBeLessThan(15);
    expect(drawn.slice(0, 20).reduce((a, b) => a + b, 0)).toBeGreaterThan(drawn.slice(80).reduce((a, b) => a + b, 0) + 10);
    trainer.state = { ...trainer.state, step: 100 };
    selfGuidedBetweenSteps(trainer, { totalSteps: 200 });
    expect(trainer.config.efficientscale?.ffn_options?.lowrank).toEqual({ layer_ranks: { 1: { gate_proj: 2, up_proj: 2, down_proj: 2 } } });
    expect('model.layers.1.mlp.up_proj.weight' in trainer.params).toBe(false);
    trainer.dispose();
  });
});
