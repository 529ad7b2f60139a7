/**
 * The pipeline plan: a JSON file naming the run's settings and its stages. Validated with zod before
 * anything runs; a bad plan is refused with one line naming the field, what was expected and what was
 * found. Unknown fields are refused too (a misspelt option must not silently fall back to a default).
 */
import * as path from 'node:path';
import { z } from 'zod';
import { backendNames, mismatch, presets, readJsonObject, tokenizerKinds } from '@efficientscale/core/node';
import { depthMethods, widthMethods } from '@efficientscale/progressive';
import { TRAINER_FIELDS, unknownFields } from './trainer-template.js';

const intIn = (min: number, what: string) => z.number({ error: what }).int({ error: what }).min(min, { error: what }).max(Number.MAX_SAFE_INTEGER, { error: what });
const positiveInt = intIn(1, 'a positive integer');
const count = intIn(0, 'a non-negative integer');
const positive = z.number({ error: 'a positive number' }).positive({ error: 'a positive number' }).finite({ error: 'a positive number' });
const unit = (what: string, min: number, max: number) => z.number({ error: what }).min(min, { error: what }).max(max, { error: what });
const oneOf = <T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: `one of ${values.join('|')}` });
const stageName = z.string({ error: 'a short name of letters, digits and dashes' }).regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,39}$/, { error: 'a short name of letters, digits and dashes' });

/**
 * Learning-rate settings of a stage that trains. `lr` is the stage's peak; the other three are its own
 * schedule, allowed only when the plan's schedule is "per-stage".
 */
const lrFields = {
  lr: positive.optional(),
  schedule: oneOf(['cosine', 'wsd', 'constant'] as const).optional(),
  /** Warmup steps; only a stage that starts from step 0 (the first train stage, the baseline) warms up. */
  warmup: count.optional(),
  minRatio: unit('a number in [0, 1]', 0, 1).optional(),
};

export const scheduleKinds = ['wsd', 'cosine', 'constant', 'per-stage'] as const;

/**
 * One LR curve over the whole pipeline's steps (warmup and decay as fractions of them), carried through
 * every transform: warm up once, no restart after grow/upcycle/lowrank. The baseline gets the same kind
 * over its own steps. "per-stage": each train stage runs its own schedule from its first step (its
 * `schedule`, `warmup`, `minRatio`).
 */
const planScheduleSchema = z.strictObject({
  kind: oneOf(scheduleKinds),
  /** Fraction of the steps spent warming up linearly from 0. */
  warmup: unit('a fraction in [0, 1)', 0, 0.999999).default(0.02),
  /** wsd: fraction of the steps of the final linear decay. */
  decay: unit('a fraction in [0, 1]', 0, 1).default(0.1),
  /** wsd and cosine decay to minRatio × the peak. */
  minRatio: unit('a number in [0, 1]', 0, 1).default(0),
});
export type PlanSchedule = z.infer<typeof planScheduleSchema>;
export const defaultPlanSchedule: PlanSchedule = { kind: 'wsd', warmup: 0.02, decay: 0.1, minRatio: 0 };

const modelShape = z.strictObject({
  hidden: positiveInt,
  layers: positiveInt,
  heads: positiveInt,
  kvHeads: positiveInt.optional(),
  ffn: positiveInt,
  maxPositions: positiveInt.optional(),
});

/** A train stage run by an existing trainer instead of ours: a command template and, optionally, where its log is. */
const externalTrainer = z.strictObject({
  command: z
    .string({ error: 'a command line (with {input}, {output}, {steps}, {tokens}, {lr})' })
    .min(1, { error: 'a command line (with {input}, {output}, {steps}, {tokens}, {lr})' })
    .refine((s) => unknownFields(s).length === 0, { error: `a command whose {fields} are among ${TRAINER_FIELDS.map((f) => `{${f}}`).join(', ')}` }),
  log: z
    .string({ error: 'a path to the trainer\'s log (a trainer_state.json, or a JSONL of step, tokens, loss)' })
    .min(1, { error: 'a path to the trainer\'s log (a trainer_state.json, or a JSONL of step, tokens, loss)' })
    .refine((s) => unknownFields(s).length === 0, { error: `a path whose {fields} are among ${TRAINER_FIELDS.map((f) => `{${f}}`).join(', ')}` })
    .optional(),
});

const trainStage = z.strictObject({
  type: z.literal('train'),
  name: stageName.optional(),
  /** Only the first stage starts a model: one of a preset's model, a shape, or a config.json file. */
  preset: oneOf(Object.keys(presets) as [string, ...string[]]).optional(),
  model: modelShape.optional(),
  config: z.string({ error: 'a path to a config.json' }).optional(),
  /** Or an existing checkpoint: a run/checkpoint directory or a Hugging Face Llama directory, relative to the plan file. */
  from: z.string({ error: 'a path to a checkpoint directory' }).min(1, { error: 'a path to a checkpoint directory' }).optional(),
  /** Train this stage with an existing trainer (torchrun, accelerate, ...) instead of ours. */
  trainer: externalTrainer.optional(),
  steps: positiveInt.optional(),
  tokens: positiveInt.optional(),
  ...lrFields,
});

const growStage = z.strictObject({
  type: z.literal('grow'),
  name: stageName.optional(),
  hidden: positiveInt.optional(),
  heads: positiveInt.optional(),
  kvHeads: positiveInt.optional(),
  ffn: positiveInt.optional(),
  layers: positiveInt.optional(),
  widthMethod: oneOf(widthMethods as unknown as [string, ...string[]]).optional(),
  depthMethod: oneOf(depthMethods as unknown as [string, ...string[]]).optional(),
  /** copy / interpolate / stack: false keeps the new layers' output projections (Bu 2025's copy; the function changes). Default true. */
  depthExact: z.boolean({ error: 'true or false' }).optional(),
  seed: count.optional(),
});

const upcycleStage = z.strictObject({
  type: z.literal('upcycle'),
  name: stageName.optional(),
  experts: positiveInt,
  topK: positiveInt,
  routerInit: oneOf(['random', 'zero', 'kmeans'] as const).optional(),
  noise: unit('a number >= 0', 0, Infinity).optional(),
  dropFraction: unit('a number in [0, 1]', 0, 1).optional(),
  granularity: positiveInt.optional(),
  layers: z.union([z.literal('all'), z.literal('even'), z.array(count).min(1)], { error: '"all", "even" or a list of layer indices' }).optional(),
  seed: count.optional(),
  resetOptimizer: z.boolean({ error: 'true or false' }).optional(),
  /** Load-balancing loss coefficient (router_aux_loss_coef); default the dense config's, else 0.001. */
  auxLossCoef: unit('a number >= 0', 0, Infinity).optional(),
  /** Router z-loss coefficient (efficientscale.ffn_options.moe.router_z_loss_coef); default none. */
  zLossCoef: unit('a number >= 0', 0, Infinity).optional(),
});

const lowrankStage = z.strictObject({
  type: z.literal('lowrank'),
  name: stageName.optional(),
  rank: positiveInt.optional(),
  fraction: unit('a number in (0, 1]', Number.MIN_VALUE, 1).optional(),
  energy: unit('a number in (0, 1]', Number.MIN_VALUE, 1).optional(),
  keepFirstDense: z.boolean({ error: 'true or false' }).optional(),
  shareGateUpV: z.boolean({ error: 'true or false' }).optional(),
});

const baselineStage = z.strictObject({
  type: z.literal('baseline'),
  name: stageName.optional(),
  /** Default: the pipeline's total training tokens. */
  tokens: positiveInt.optional(),
  /** What the baseline gets as much of as the pipeline: its tokens (default) or its training FLOPs (a compute-matched baseline). */
  match: oneOf(['tokens', 'flops'] as const).optional(),
  ...lrFields,
});

/** The pilots' directory inside the plan's out (pipeline --pilots). */
export const PILOTS_DIR = 'pilots';

/**
 * A pilot: a small model the plan trains first, from scratch, to fit the whole-curve law its stages are
 * predicted with (`pipeline --law`). Its schedule kind defaults to the plan's; its LR to the plan's.
 */
const pilotSchema = z.strictObject({
  name: stageName.optional(),
  model: modelShape,
  steps: positiveInt.optional(),
  tokens: positiveInt.optional(),
  schedule: oneOf(['cosine', 'wsd', 'constant'] as const).optional(),
  lr: positive.optional(),
});

export const stageTypes = ['train', 'grow', 'upcycle', 'lowrank', 'baseline'] as const;

const stageSchema = z.discriminatedUnion('type', [trainStage, growStage, upcycleStage, lowrankStage, baselineStage], {
  error: `a stage whose "type" is one of ${stageTypes.join('|')}`,
});

export const planSchema = z.strictObject({
  $schema: z.string().optional(),
  name: stageName.optional(),
  description: z.string({ error: 'a string' }).optional(),
  /** "embedded" (the Brown Corpus) or a UTF-8 text file, relative to the plan file. */
  corpus: z.string({ error: '"embedded" or a path to a text file' }).default('embedded'),
  tokenizer: oneOf(tokenizerKinds as unknown as [string, ...string[]]).default('byte'),
  backend: oneOf(backendNames as unknown as [string, ...string[]]).default('auto'),
  seed: count.default(0),
  /** Output directory, relative to the current directory (like every --out). */
  out: z.string({ error: 'an output directory' }).min(1, { error: 'an output directory' }),
  /** Batch shape, the same in every stage (the token counters carry across stages). */
  batch: positiveInt.default(8),
  seq: positiveInt.default(64),
  accumulation: positiveInt.default(1),
  /** Default peak learning rate of the stages that train. */
  lr: positive.default(3e-3),
  schedule: planScheduleSchema.default(defaultPlanSchedule),
  evalsPerStage: positiveInt.default(10),
  evalBatches: positiveInt.default(8),
  checkpointsPerStage: positiveInt.default(4),
  stages: z.array(stageSchema, { error: 'a list of stages' }).min(1, { error: 'at least one stage' }),
  pilots: z.array(pilotSchema, { error: 'a list of pilot runs' }).optional(),
});

export type Plan = z.infer<typeof planSchema> & { /** Directory of the plan file (relative paths inside it resolve from there). */ baseDir: string };
export type Stage = Plan['stages'][number];
export type TrainStage = z.infer<typeof trainStage>;
export type GrowStage = z.infer<typeof growStage>;
export type UpcycleStage = z.infer<typeof upcycleStage>;
export type LowrankStage = z.infer<typeof lowrankStage>;
export type BaselineStage = z.infer<typeof baselineStage>;

/** `stages[2].experts` rather than `stages.2.experts`. */
export function fieldPath(keys: readonly PropertyKey[]): string {
  return keys.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i === 0 ? '' : '.'}${String(k)}`)).join('');
}

function valueAt(root: unknown, keys: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const key of keys) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing (missing)';
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : `a list of ${v.length}`;
  if (v !== null && typeof v === 'object') return 'an object';
  return JSON.stringify(v);
}

/** Turns zod's first issue into the project's one-line message. */
function planError(json: unknown, issue: z.core.$ZodIssue, source: string) {
  if (issue.code === 'unrecognized_keys') {
    const where = issue.path.length ? `"${fieldPath(issue.path)}"` : 'plan';
    return mismatch(`${source}: ${where}`, 'only the fields this stage type knows (see the README\'s plan format)', `unknown field "${issue.keys[0]}"`);
  }
  const expected = /^Invalid/.test(issue.message) ? issue.message.replace(/^Invalid (input|option): expected /, '') : issue.message;
  return mismatch(`${source}: "${fieldPath(issue.path)}"`, expected, describe(valueAt(json, issue.path)));
}

/** Validates a parsed plan; `source` names it in errors, `baseDir` resolves its relative paths. */
export function parsePlan(json: unknown, source: string, baseDir = '.'): Plan {
  const result = planSchema.safeParse(json);
  if (!result.success) {
    // A misspelt field explains the missing one it stood for: name it first.
    const issues = result.error.issues;
    throw planError(json, issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0], source);
  }
  return { ...result.data, baseDir };
}

/** Reads and validates a plan file. */
export function loadPlan(file: string): Plan {
  return parsePlan(readJsonObject(file), file, path.dirname(file));
}
