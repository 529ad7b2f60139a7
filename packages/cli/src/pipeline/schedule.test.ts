import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { learningRate, tf, UserError } from '@efficientscale/core';
import { layoutStages } from './layout.js';
import { parsePlan } from './plan.js';
import { runPipeline } from './run.js';
import { planCurve, stageSpec } from './spec.js';
import { writeTestPlan } from './test-plans.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'es-pipeline-schedule-'));
const model = { hidden: 16, layers: 1, heads: 2, ffn: 32 };

/** A 3-stage plan (dense → grow → train → upcycle → train) and its baseline, 50 steps in all. */
function plan(name: string, extra: object = {}) {
  const dir = path.join(root, name);
  const file = writeTestPlan(dir, {
    batch: 2,
    seq: 16,
    lr: 0.01,
    evalsPerStage: 2,
    evalBatches: 1,
    checkpointsPerStage: 1,
    stages: [
      { type: 'train', name: 'dense', model, steps: 20 },
      { type: 'grow', hidden: 32, heads: 4, ffn: 64, layers: 2 },
      { type: 'train', name: 'grown', steps: 15 },
      { type: 'upcycle', experts: 4, topK: 2 },
      { type: 'train', name: 'moe', steps: 15 },
      { type: 'baseline' },
    ],
    ...extra,
  });
  return parsePlan(JSON.parse(fs.readFileSync(file, 'utf8')), 'plan.json', dir);
}

const lrsOf = (file: string) => fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; lr: number });

function refusal(p: ReturnType<typeof plan>): string {
  try {
    layoutStages(p);
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).not.toContain('\n');
    return (err as Error).message;
  }
  throw new Error('the plan was accepted');
}

describe('the plan-wide LR schedule', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('gives every step of a 3-stage pipeline the LR of one wsd curve over all 50 steps (warmup 2%, decay 10%, to 0), carried through grow and upcycle; the baseline gets the same kind over its own steps', async () => {
    const p = plan('one-curve');
    const result = await runPipeline(p, { log: () => {} });
    expect(result.complete).toBe(true);
    const layout = layoutStages(p);
    const curve = { kind: 'wsd' as const, lr: 0.01, warmup: 1, total: 50, decayFraction: 5 / 49, minRatio: 0 };
    const steps = layout.filter((s) => s.stage.type === 'train').flatMap((s) => lrsOf(path.join(s.dir, 'metrics.jsonl')));
    expect(steps.map((s) => s.step)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    // metrics.jsonl logs the LR that step `step` (1-based) ran with: learningRate at 0-based step − 1.
    for (const s of steps) expect(s.lr).toBe(learningRate(curve, s.step - 1));
    // The shape: warmup of 1 step, peak through both transforms (after steps 20 and 35) and the decay's
    // first step (46), then down towards 0 over the last 5.
    expect(steps.filter((s) => s.lr === 0.01).map((s) => s.step)).toEqual(Array.from({ length: 46 }, (_, i) => i + 1));
    expect(steps.at(-1)!.lr).toBeCloseTo(0.01 / 5, 12);
    const baseline = lrsOf(path.join(layout[5].dir, 'metrics.jsonl'));
    expect(baseline.map((s) => s.lr)).toEqual(steps.map((s) => s.lr));
    // The report measures, after each transform, the tokens until the pipeline is back on the baseline's curve.
    expect(result.report!.catchUp.map((c) => [c.stage, c.atTokens])).toEqual([['2 grow', 640], ['4 upcycle', 1120]]);
    for (const c of result.report!.catchUp) expect(Number.isFinite(c.finalGap)).toBe(true);
  });

  it('keeps the per-stage schedule available: each continuing stage runs its own curve from its peak', () => {
    const p = plan('per-stage', { schedule: { kind: 'per-stage' } });
    const layout = layoutStages(p);
    const grown = stageSpec(p, layout[2], 'corpus').trainer.schedule;
    expect(grown).toEqual({ kind: 'cosine', lr: 0.01, warmup: 20, total: 35, minRatio: 0.1 });
  });

  it('a stage\'s lr sets its peak on the plan\'s curve; its own schedule fields are refused under a plan-wide schedule', () => {
    const p = plan('stage-lr');
    p.stages[2] = { ...p.stages[2], lr: 0.02 } as typeof p.stages[2];
    const layout = layoutStages(p);
    expect(stageSpec(p, layout[2], 'corpus').trainer.schedule).toEqual({ ...planCurve(p.schedule, 0.02, 50) });
    const withWarmup = plan('stage-warmup');
    withWarmup.stages[0] = { ...withWarmup.stages[0], warmup: 3 } as typeof withWarmup.stages[0];
    expect(refusal(withWarmup)).toBe('stages[0] (train).warmup: expected nothing (the plan\'s "schedule" (wsd) is one curve over every stage; set the plan\'s "schedule": {"kind": "per-stage"} to give stages their own), found 3');
    expect(refusal(plan('too-long', { schedule: { kind: 'wsd', warmup: 0.5, decay: 0.6 } }))).toBe('plan "schedule": expected warmup + decay at most 1 (fractions of the pipeline\'s steps), found 0.5 + 0.6');
  });

  it('cosine and constant plan curves: warmup as a fraction of the steps, cosine down to minRatio', () => {
    expect(planCurve({ kind: 'cosine', warmup: 0.1, decay: 0.1, minRatio: 0.05 }, 1, 200)).toEqual({ kind: 'cosine', lr: 1, warmup: 20, total: 200, minRatio: 0.05 });
    expect(planCurve({ kind: 'constant', warmup: 0.02, decay: 0.1, minRatio: 0 }, 1, 200)).toEqual({ kind: 'constant', lr: 1, warmup: 4 });
    const wsd = planCurve({ kind: 'wsd', warmup: 0.02, decay: 0.1, minRatio: 0 }, 1, 1000);
    const lrs = Array.from({ length: 1000 }, (_, i) => learningRate(wsd, i));
    // The last warmup step (19) reaches the peak; the decay starts from it at step 900.
    expect(lrs.filter((x) => x === 1).length).toBe(900 - 19 + 1);
    expect(lrs.findIndex((x, i) => i > 20 && x < 1)).toBe(901);
  });
});
