/**
 * Checks a plan's stage order and works out every stage's architecture, parameters, steps, tokens and
 * FLOPs before anything trains: each transform's plan gives the next architecture from the config alone
 * (ranks picked by energy read the spectra of a fresh initialisation), so a grow of an MoE model or an
 * upcycle of one is refused up front with the stage named.
 */
import * as path from 'node:path';
import { countParams, dimsOf, ffnKinds, flopsPerToken, initParams, mismatch, tf, UserError, type ModelConfig } from '@efficientscale/core';
import { initialConfig } from './model.js';
import { planReadsWeights, stagePlan } from './transforms.js';
import type { Plan, Stage, TrainStage } from './plan.js';

export interface PlannedStage {
  index: number;
  stage: Stage;
  /** "3 upcycle" (or the stage's own name). */
  label: string;
  /** The stage's own directory under the plan's output. */
  dir: string;
  /** Architecture after this stage (what a train stage trains). */
  config: ModelConfig;
  params: number;
  /** Parameters in matrix products per token (an MoE counts its active experts only). */
  activeParams: number;
  /** Optimizer steps, tokens and training FLOPs of this stage (0 for transforms). */
  steps: number;
  tokens: number;
  flops: number;
  /** The global step the stage starts from (the step counter carries across stages; the baseline starts at 0). */
  startStep: number;
  /** Steps of the LR curve this stage is part of: the pipeline's training steps (the baseline: its own). */
  scheduleSteps: number;
}

export const trains = (s: Stage) => s.type === 'train' || s.type === 'baseline';
const where = (i: number, s: Stage) => `stages[${i}] (${s.type})`;
const madeBy = (i: number | undefined, stages: readonly Stage[]) => (i === undefined ? 'the starting model' : where(i, stages[i]));

function stepsOf(i: number, s: { steps?: number; tokens?: number }, tokensPerStep: number, what: string): number {
  if (s.steps !== undefined && s.tokens !== undefined) throw mismatch(`stages[${i}] (${what})`, 'at most one of "steps" and "tokens"', 'both');
  if (s.steps !== undefined) return s.steps;
  if (s.tokens !== undefined) return Math.max(1, Math.ceil(s.tokens / tokensPerStep));
  throw mismatch(`stages[${i}] (${what})`, 'one of "steps" or "tokens"', 'neither');
}

/** Under a plan-wide schedule a stage has no schedule of its own (only its peak \`lr\`). */
function checkStageSchedules(plan: Plan): void {
  if (plan.schedule.kind === 'per-stage') return;
  if (plan.schedule.kind === 'wsd' && plan.schedule.warmup + plan.schedule.decay > 1) {
    throw mismatch('plan "schedule"', 'warmup + decay at most 1 (fractions of the pipeline\'s steps)', `${plan.schedule.warmup} + ${plan.schedule.decay}`);
  }
  plan.stages.forEach((s, i) => {
    if (!trains(s)) return;
    const field = (['schedule', 'warmup', 'minRatio'] as const).find((k) => (s as TrainStage)[k] !== undefined);
    if (field) {
      throw mismatch(`${where(i, s)}.${field}`, `nothing (the plan's "schedule" (${plan.schedule.kind}) is one curve over every stage; set the plan's "schedule": {"kind": "per-stage"} to give stages their own)`, JSON.stringify((s as TrainStage)[field]));
    }
  });
}

/** Static checks of the order of stages, before any tensor is made. */
function checkOrder(stages: readonly Stage[]): void {
  if (stages[0].type !== 'train') throw mismatch('stages[0]', 'a train stage (the model to start from)', `a ${stages[0].type} stage`);
  stages.forEach((s, i) => {
    if (s.type === 'baseline' && stages.slice(i + 1).some((t) => t.type !== 'baseline')) {
      throw mismatch(where(i, s), 'the last stage (or one of the last, after every other stage: a baseline trains the final architecture)', `stage ${i} of ${stages.length}`);
    }
    if (s.type === 'train' && i > 0) {
      const field = (['preset', 'model', 'config', 'from'] as const).find((k) => (s as TrainStage)[k] !== undefined);
      if (field) throw mismatch(`${where(i, s)}.${field}`, 'nothing (a later train stage continues from the previous stage\'s checkpoint)', `"${field}"`);
      if (s.warmup !== undefined) throw mismatch(`${where(i, s)}.warmup`, 'nothing (a continuing stage starts at its peak learning rate: the step counter carries on)', String(s.warmup));
    }
  });
  // Our trainer continues a run's moments and data position; an external trainer leaves neither.
  let external: number | undefined;
  stages.forEach((s, i) => {
    if (s.type !== 'train') return;
    if (s.trainer === undefined && external !== undefined) {
      throw mismatch(`${where(i, s)}.trainer`, `an external trainer too (${where(external, stages[external])} trained with one, leaving no optimizer state or data position to continue)`, 'none');
    }
    if (s.trainer !== undefined) external = i;
  });
  const names = stages.map((s, i) => s.name ?? `${i}`);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw mismatch('stage names', 'each name once', `"${twice}" twice`);
}

/** FFN kinds the next transform accepts, with the stage that made the model otherwise. */
function checkKinds(i: number, s: Stage, config: ModelConfig, lastTransform: number | undefined, stages: readonly Stage[]): void {
  const kinds = ffnKinds(config);
  if (s.type === 'grow' && kinds.some((k) => k !== 'dense')) {
    const kind = kinds.find((k) => k !== 'dense');
    throw mismatch(where(i, s), 'a dense model before it (progressive grows dense SwiGLU FFNs only; grow before upcycle or lowrank)', `a model with ${kind} FFNs (made by ${madeBy(lastTransform, stages)})`);
  }
  if (s.type === 'upcycle' && kinds.includes('moe')) {
    throw mismatch(where(i, s), 'a dense model before it', `a model that already has MoE layers (made by ${madeBy(lastTransform, stages)})`);
  }
}

/** Every stage's architecture and cost, in plan order. Throws a one-line UserError for a plan that cannot run. */
export function layoutStages(plan: Plan): PlannedStage[] {
  checkOrder(plan.stages);
  checkStageSchedules(plan);
  const tokensPerStep = plan.batch * plan.seq * plan.accumulation;
  const first = initialConfig(plan, plan.stages[0] as TrainStage);
  const maxPositions = dimsOf(first).maxPositions;
  if (plan.seq > maxPositions) throw mismatch('plan "seq"', `at most the model's max_position_embeddings (${maxPositions})`, String(plan.seq));
  let model: { config: ModelConfig } = { config: first };
  const out: PlannedStage[] = [];
  let step = 0;
  let lastTransform: number | undefined;
  plan.stages.forEach((s, i) => {
    let steps = 0;
    let startStep = step;
    if (s.type === 'train') {
      steps = stepsOf(i, s, tokensPerStep, 'train');
      step += steps;
    } else if (s.type === 'baseline') {
      const pipeline = out.filter((p) => p.stage.type !== 'baseline');
      const trained = pipeline.reduce((n, p) => n + p.steps, 0);
      if (trained === 0) throw mismatch(where(i, s), 'a train stage before it (the baseline trains on the same tokens)', 'none');
      if (s.tokens !== undefined && s.match !== undefined) throw mismatch(where(i, s), 'at most one of "tokens" and "match"', 'both');
      if (s.match === 'flops') {
        // As many steps of the final architecture as the pipeline's training FLOPs buy (the nearest step).
        const pipelineFlops = pipeline.reduce((n, p) => n + p.flops, 0);
        steps = Math.max(1, Math.round(pipelineFlops / (tokensPerStep * flopsPerToken(model.config, plan.seq).trainPerToken)));
      } else steps = s.tokens !== undefined ? Math.max(1, Math.ceil(s.tokens / tokensPerStep)) : trained;
      startStep = 0;
    } else {
      checkKinds(i, s, model.config, lastTransform, plan.stages);
      // k-means routers change the router's values, not the architecture: plan them as random ones.
      const stage = s.type === 'upcycle' && s.routerInit === 'kmeans' ? { ...s, routerInit: 'random' as const } : s;
      const params = planReadsWeights(stage) ? initParams(model.config, plan.seed) : undefined;
      try {
        model = { config: stagePlan(stage, { config: model.config, params }).config };
      } catch (err) {
        if (err instanceof UserError) throw new UserError(`${where(i, s)}: ${err.message}`);
        throw err;
      } finally {
        if (params) tf.dispose(Object.values(params));
      }
      lastTransform = i;
    }
    const per = flopsPerToken(model.config, plan.seq);
    const name = s.name ?? s.type;
    out.push({
      index: i,
      stage: s,
      label: `${i + 1} ${name}`,
      dir: path.resolve(plan.out, `${String(i + 1).padStart(2, '0')}-${name}`),
      config: model.config,
      params: countParams(model.config),
      activeParams: per.activeMatmulParams,
      steps,
      tokens: steps * tokensPerStep,
      flops: steps * tokensPerStep * per.trainPerToken,
      startStep,
      scheduleSteps: steps,
    });
  });
  const pipelineSteps = out.filter((p) => p.stage.type !== 'baseline').reduce((n, p) => n + p.steps, 0);
  for (const p of out) if (p.stage.type !== 'baseline') p.scheduleSteps = pipelineSteps;
  return out;
}
