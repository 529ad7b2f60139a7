import { beforeAll, describe, expect, it } from 'vitest';
import { tf, UserError } from '@efficientscale/core';
import { layoutStages } from './layout.js';
import { parsePlan } from './plan.js';

const model = { hidden: 16, layers: 1, heads: 2, ffn: 32 };
const valid = {
  out: '/tmp/unused',
  batch: 2,
  seq: 16,
  stages: [
    { type: 'train', model, steps: 4 },
    { type: 'grow', hidden: 32, heads: 4, ffn: 64, layers: 2 },
    { type: 'train', steps: 4 },
    { type: 'upcycle', experts: 4, topK: 2 },
    { type: 'train', steps: 4 },
    { type: 'baseline' },
  ],
};

/** The one-line message a plan is refused with. */
function refusal(plan: unknown): string {
  try {
    layoutStages(parsePlan(plan, 'plan.json'));
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('the plan was accepted');
}

const withStages = (...stages: unknown[]) => ({ ...valid, stages });

describe('plan validation', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('accepts a dense → grow → upcycle plan and works out each stage\'s size and cost', () => {
    const layout = layoutStages(parsePlan(valid, 'plan.json'));
    expect(layout.map((p) => p.stage.type)).toEqual(['train', 'grow', 'train', 'upcycle', 'train', 'baseline']);
    expect(layout[1].params).toBeGreaterThan(layout[0].params);
    expect(layout[3].params).toBeGreaterThan(layout[2].params);
    // Upcycling to 4 experts top-2 doubles the FFN's active parameters, not quadruples them.
    expect(layout[3].activeParams).toBeLessThan(layout[3].params);
    expect(layout.map((p) => p.startStep)).toEqual([0, 4, 4, 8, 8, 0]);
    expect(layout[5].steps).toBe(12);
    expect(layout[5].config).toEqual(layout[4].config);
    expect(layout[5].flops).toBeGreaterThan(layout[4].flops * 2.9);
  });

  it('gives a baseline with "match": "flops" as many steps as the pipeline\'s training FLOPs buy at the final size', () => {
    const matched = layoutStages(parsePlan({ ...valid, stages: [...valid.stages.slice(0, -1), { type: 'baseline', match: 'flops' }] }, 'plan.json'));
    const pipelineFlops = matched.slice(0, -1).reduce((n, p) => n + p.flops, 0);
    const baseline = matched.at(-1)!;
    const stepFlops = baseline.flops / baseline.steps;
    // The nearest whole step: within half a step's FLOPs of the pipeline's, and fewer steps than equal tokens.
    expect(Math.abs(baseline.flops - pipelineFlops)).toBeLessThanOrEqual(stepFlops / 2);
    expect(baseline.steps).toBeLessThan(12);
    expect(baseline.config).toEqual(matched[4].config);
    // "tokens" is the default.
    const byTokens = layoutStages(parsePlan({ ...valid, stages: [...valid.stages.slice(0, -1), { type: 'baseline', match: 'tokens' }] }, 'plan.json'));
    expect(byTokens.at(-1)!.steps).toBe(12);
  });

  it('passes an upcycle stage\'s loss coefficients into the upcycled config (default as without them)', () => {
    const stages = (extra: object) => withStages({ type: 'train', model, steps: 4 }, { type: 'upcycle', experts: 4, topK: 2, ...extra }, { type: 'train', steps: 4 });
    const set = layoutStages(parsePlan(stages({ auxLossCoef: 0.02, zLossCoef: 0.001 }), 'plan.json'));
    expect(set[1].config.router_aux_loss_coef).toBe(0.02);
    expect(set[1].config.efficientscale?.ffn_options?.moe?.router_z_loss_coef).toBe(0.001);
    expect(set[2].config).toEqual(set[1].config);
    const plain = layoutStages(parsePlan(stages({}), 'plan.json'));
    expect(plain[1].config.router_aux_loss_coef).toBe(0.001);
    expect(plain[1].config.efficientscale).toBeUndefined();
  });

  it.each([
    [{ ...valid, batch: 0 }, 'plan.json: "batch": expected a positive integer, found 0'],
    [{ ...valid, out: undefined }, 'plan.json: "out": expected an output directory, found nothing (missing)'],
    [withStages({ type: 'train', model, steps: 4 }, { type: 'grwo' }), 'plan.json: "stages[1].type": expected a stage whose "type" is one of train|grow|upcycle|lowrank|baseline, found "grwo"'],
    [withStages({ type: 'train', model, steps: 4 }, { type: 'upcycle', experts: 4, topk: 2 }), 'plan.json: "stages[1]": expected only the fields this stage type knows (see the README\'s plan format), found unknown field "topk"'],
    [withStages({ type: 'train', model, steps: 4 }, { type: 'upcycle', experts: '8', topK: 2 }), 'plan.json: "stages[1].experts": expected a positive integer, found "8"'],
    [withStages({ type: 'train', model, steps: 4 }, { type: 'upcycle', experts: 4, topK: 2, auxLossCoef: -0.01 }), 'plan.json: "stages[1].auxLossCoef": expected a number >= 0, found -0.01'],
    [withStages({ type: 'train', model, steps: 4 }, { type: 'upcycle', experts: 4, topK: 2, zLossCoef: '0.001' }), 'plan.json: "stages[1].zLossCoef": expected a number >= 0, found "0.001"'],
    [withStages({ type: 'train', model, steps: 4, schedule: 'linear' }), 'plan.json: "stages[0].schedule": expected one of cosine|wsd|constant, found "linear"'],
    [withStages({ type: 'grow', layers: 2 }), 'stages[0]: expected a train stage (the model to start from), found a grow stage'],
    [withStages({ type: 'train', steps: 4 }), 'stages[0] (train): expected exactly one of "preset", "model", "config", "from"'],
    [withStages({ type: 'train', model, steps: 4, tokens: 100 }), 'stages[0] (train): expected at most one of "steps" and "tokens", found both'],
    [withStages({ type: 'train', model, steps: 4 }, { type: 'train', preset: 'tiny', steps: 4 }), 'stages[1] (train).preset: expected nothing'],
    [withStages({ type: 'train', model, steps: 4 }, { type: 'baseline' }, { type: 'train', steps: 4 }), 'stages[1] (baseline): expected the last stage'],
    [withStages({ type: 'train', model, steps: 4 }, { type: 'baseline', tokens: 64, match: 'flops' }), 'stages[1] (baseline): expected at most one of "tokens" and "match", found both'],
    [withStages({ type: 'train', model, steps: 4 }, { type: 'baseline', match: 'compute' }), 'plan.json: "stages[1].match": expected one of tokens|flops, found "compute"'],
    [
      withStages({ type: 'train', model, steps: 4 }, { type: 'upcycle', experts: 4, topK: 2 }, { type: 'grow', layers: 2 }),
      'stages[2] (grow): expected a dense model before it (progressive grows dense SwiGLU FFNs only; grow before upcycle or lowrank), found a model with moe FFNs (made by stages[1] (upcycle))',
    ],
    [withStages({ type: 'train', model, steps: 4 }, { type: 'upcycle', experts: 4, topK: 2 }, { type: 'upcycle', experts: 2, topK: 1 }), 'stages[2] (upcycle): expected a dense model before it, found a model that already has MoE layers'],
    [withStages({ type: 'train', model, steps: 4 }, { type: 'upcycle', experts: 2, topK: 3 }), 'stages[1] (upcycle): upcycle topK: expected at most the number of experts (2), found 3'],
    [withStages({ type: 'train', model, steps: 4 }, { type: 'grow', hidden: 8 }), 'stages[1] (grow): '],
    [{ ...withStages({ type: 'train', preset: 'tiny', steps: 4 }), seq: 4096 }, 'plan "seq": expected at most the model\'s max_position_embeddings (256), found 4096'],
  ])('refuses a bad plan with one line (%#)', (plan, message) => {
    expect(refusal(plan)).toContain(message);
  });
});
