/**
 * trainer_state.json, checked field by field before a resume uses any of it: a mutated or
 * hand-edited state is refused with one line naming the field, instead of crashing mid-run or
 * resuming into a run that silently differs from the one that was saved.
 */
import { z } from 'zod';
import { mismatch } from '../errors.js';
import { describeFound } from './read.js';
import { createRng } from '../data/rng.js';

export const TRAINER_STATE_FORMAT = 'efficientscale-trainer-1';

const count = z.number({ error: 'a non-negative integer' }).int({ error: 'a non-negative integer' }).min(0, { error: 'a non-negative integer' }).max(Number.MAX_SAFE_INTEGER);
const positive = (max: number) =>
  z.number({ error: 'a positive integer' }).int({ error: 'a positive integer' }).min(1, { error: 'a positive integer' }).max(max, { error: `a positive integer of at most ${max}` });
const finite = (what: string) => z.number({ error: what }).finite({ error: what });
const nonNegative = finite('a finite number >= 0').min(0, { error: 'a finite number >= 0' });
const positiveNumber = finite('a positive finite number').positive({ error: 'a positive finite number' });
const fraction = finite('a number in [0, 1)').min(0, { error: 'a number in [0, 1)' }).lt(1, { error: 'a number in [0, 1)' });
const u32 = z.number({ error: 'an unsigned 32-bit integer' }).int({ error: 'an unsigned 32-bit integer' }).min(0, { error: 'an unsigned 32-bit integer' }).max(2 ** 32 - 1, { error: 'an unsigned 32-bit integer' });

const warmup = count.optional();
const minRatio = finite('a number in [0, 1]').min(0, { error: 'a number in [0, 1]' }).max(1, { error: 'a number in [0, 1]' }).optional();
const scheduleSchema = z.discriminatedUnion(
  'kind',
  [
    z.object({ kind: z.literal('constant'), lr: positiveNumber, warmup }),
    z.object({ kind: z.literal('cosine'), lr: positiveNumber, warmup: count, total: positive(Number.MAX_SAFE_INTEGER), minRatio }),
    z.object({
      kind: z.literal('wsd'),
      lr: positiveNumber,
      warmup: count,
      total: positive(Number.MAX_SAFE_INTEGER),
      decayFraction: finite('a number in (0, 1]').positive({ error: 'a number in (0, 1]' }).max(1, { error: 'a number in (0, 1]' }).optional(),
      minRatio,
    }),
  ],
  { error: 'a schedule of kind "constant", "cosine" or "wsd"' },
);

const trainerOptionsSchema = z.object({
  batchSize: positive(2 ** 16),
  seqLen: positive(2 ** 20),
  accumulation: positive(2 ** 16),
  schedule: scheduleSchema,
  adamw: z.object({ beta1: fraction, beta2: fraction, eps: positiveNumber, weightDecay: nonNegative }),
  clipNorm: nonNegative,
  seed: count,
  evalBatches: positive(2 ** 16),
});

export const trainerStateSchema = z.looseObject({
  format: z.literal(TRAINER_STATE_FORMAT, { error: `"${TRAINER_STATE_FORMAT}" (a state written by efficientscale train)` }),
  step: count,
  tokens: count,
  flops: nonNegative,
  sampler: z.object({ rng: z.array(u32).length(4, { error: 'four unsigned 32-bit integers' }), drawn: count }),
  optimizerStep: count,
  wallSeconds: nonNegative,
  lastTrainLoss: finite('a finite number or null').nullable(),
  tokenizer: z.looseObject({ kind: z.enum(['byte', 'gpt2', 'tokenizer.json'], { error: '"byte", "gpt2" or "tokenizer.json"' }) }),
  /** Length of the training split when saved; absent in states written before it was recorded. */
  trainTokens: count.optional(),
  spec: z.object({
    totalSteps: positive(Number.MAX_SAFE_INTEGER),
    trainer: trainerOptionsSchema,
    valFraction: fraction,
    evalEvery: count,
    checkpointEvery: count,
    corpus: z.string({ error: 'a string' }),
  }),
});

export type CheckedTrainerState = z.infer<typeof trainerStateSchema>;

function valueAt(root: unknown, path: PropertyKey[]): unknown {
  let v: unknown = root;
  for (const key of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}


/** Validates a parsed trainer_state.json field by field and for internal consistency; `source` names the file. */
export function checkTrainerState(json: unknown, source: string): CheckedTrainerState {
  const result = trainerStateSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const expected = /^(Invalid|Too)/.test(issue.message) ? issue.message.replace(/^Invalid input: expected /, 'a ') : issue.message;
    throw mismatch(`${source}: "${issue.path.map(String).join('.')}"`, expected, describeFound(valueAt(json, issue.path)));
  }
  const s = result.data;
  const t = s.spec.trainer;
  if (s.sampler.rng.every((x) => x === 0)) throw mismatch(`${source}: "sampler.rng"`, 'at least one non-zero word', '[0,0,0,0]');
  // Each step draws `accumulation` batches of batchSize × seqLen tokens: the counters must agree.
  if (s.sampler.drawn !== s.step * t.accumulation) {
    throw mismatch(`${source}: "sampler.drawn"`, `step × accumulation = ${s.step * t.accumulation}`, String(s.sampler.drawn));
  }
  const tokens = s.step * t.batchSize * t.seqLen * t.accumulation;
  if (s.tokens !== tokens) throw mismatch(`${source}: "tokens"`, `step × batch × seq × accumulation = ${tokens}`, String(s.tokens));
  // Adam's step count (its bias correction) is the trainer's, or more when the run started from moments
  // that an earlier run had warmed (a pipeline stage `from` a checkpoint).
  if (!(s.optimizerStep >= s.step)) throw mismatch(`${source}: "optimizerStep"`, `at least the trainer step (${s.step})`, String(s.optimizerStep));
  if (s.step > 0 && s.lastTrainLoss === null) throw mismatch(`${source}: "lastTrainLoss"`, 'a finite number after a step', 'null');
  return s;
}

/**
 * The moments in a checkpoint's optimizer.safetensors: exactly m.<weight> and v.<weight> for every weight
 * (saveCheckpoint writes zeros for the ones a transform could not carry), floating point, shaped like the
 * weight, v >= 0. A missing moment is refused, not recreated at zero: the resume would silently differ.
 */
export function checkOptimizerTensors(
  optimizer: Record<string, { dtype?: string; shape: number[]; data: ArrayLike<number> }>,
  paramShapes: Record<string, number[]>,
  source: string,
): void {
  for (const [key, t] of Object.entries(optimizer)) {
    const dot = key.indexOf('.');
    const kind = key.slice(0, dot);
    const shape = Object.hasOwn(paramShapes, key.slice(dot + 1)) ? paramShapes[key.slice(dot + 1)] : undefined;
    if (dot < 0 || (kind !== 'm' && kind !== 'v') || !shape) throw mismatch(`${source}: tensor ${JSON.stringify(key)}`, 'only tensors "m.<weight>" and "v.<weight>" of the model\'s weights', 'a tensor of no weight');
    // Integer moments would reach tfjs's assign as int32 and throw there; F16/BF16/F64 are read as float32.
    if (t.dtype !== undefined && t.dtype !== 'F32') throw mismatch(`${source}: tensor ${JSON.stringify(key)}`, 'a floating-point moment (F32, or F16/BF16/F64)', `an integer tensor (${t.dtype} as read)`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw mismatch(`${source}: tensor ${JSON.stringify(key)}`, `shape [${shape}] (its weight's)`, `[${t.shape}]`);
    }
    // A negative second moment makes sqrt(v) NaN at the first update.
    if (kind === 'v') {
      for (let i = 0; i < t.data.length; i++) {
        if (t.data[i] < 0) throw mismatch(`${source}: tensor ${JSON.stringify(key)} element ${i}`, 'a second moment >= 0', String(t.data[i]));
      }
    }
  }
  for (const weight of Object.keys(paramShapes)) {
    for (const kind of ['m', 'v']) {
      const key = `${kind}.${weight}`;
      if (!Object.hasOwn(optimizer, key)) {
        throw mismatch(`${source}: tensor ${JSON.stringify(key)}`, `the ${kind === 'm' ? 'first' : 'second'} moment of weight ${JSON.stringify(weight)} (every weight has both)`, 'no such tensor');
      }
    }
  }
}

/** Longest sampler history replayed on resume (RNG draws; about a second); longer runs skip the check. */
export const MAX_SAMPLER_REPLAY = 2 ** 27;

/**
 * The sampler's RNG state is a function of the seed, the training split's length and the batches drawn:
 * replaying those draws (RNG only, no batches) must give the stored state. A mutated or hand-edited
 * `sampler.rng` would otherwise resume into batches the saved run never saw, silently.
 */
export function checkSamplerReplay(
  state: { sampler: { rng: readonly number[]; drawn: number }; spec: { trainer: { seed: number; batchSize: number; seqLen: number } } },
  trainTokens: number,
  source: string,
): void {
  const { seed, batchSize, seqLen } = state.spec.trainer;
  const draws = state.sampler.drawn * batchSize;
  // Too long to replay, or a corpus the sampler itself refuses (too short, or past nextInt's 2^32 range).
  if (draws > MAX_SAMPLER_REPLAY || trainTokens < seqLen + 1 || trainTokens - seqLen > 2 ** 32) return;
  const rng = createRng(seed);
  const starts = trainTokens - seqLen;
  for (let i = 0; i < draws; i++) rng.nextInt(starts);
  const expected = Array.from(rng.state());
  const found = state.sampler.rng;
  if (expected.some((w, i) => w !== found[i])) {
    throw mismatch(`${source}: "sampler.rng"`, `[${expected}] (the state after ${state.sampler.drawn} batches from seed ${seed})`, `[${found}]`);
  }
}
