/**
 * Turning a token stream into training and evaluation batches. Training windows are drawn at
 * random positions from a seeded RNG whose state is saved with the checkpoint, so a resumed run
 * sees exactly the batches the uninterrupted run would have seen.
 */
import { mismatch } from '../errors.js';
import { createRng, restoreRng, type Rng, type RngState } from './rng.js';

export interface Batch {
  /** [batchSize * seqLen] token ids, row-major. */
  inputs: Int32Array;
  /** The inputs shifted by one token: targets[b, t] is the token after inputs[b, t]. */
  targets: Int32Array;
}

export interface SamplerOptions {
  batchSize: number;
  seqLen: number;
  seed: number;
}

export interface SamplerState {
  rng: RngState;
  /** Batches drawn so far (informational; the RNG state alone determines what comes next). */
  drawn: number;
}

function checkPositiveInteger(what: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) throw mismatch(what, 'a positive integer', String(value));
}

/**
 * Splits off the last `valFraction` of the tokens for validation. A contiguous tail (rather than
 * random windows) keeps validation text unseen by training, since training windows never cross it.
 */
export function splitTrainVal(ids: Int32Array, valFraction: number): { train: Int32Array; val: Int32Array } {
  if (!(valFraction >= 0 && valFraction < 1)) throw mismatch('validation fraction', 'a number in [0, 1)', String(valFraction));
  const trainLength = ids.length - Math.floor(ids.length * valFraction);
  return { train: ids.subarray(0, trainLength), val: ids.subarray(trainLength) };
}

/** Fewest corpus tokens whose held-out split (the last `valFraction`, as splitTrainVal cuts it) holds one evaluation batch. */
export function minCorpusTokens(valFraction: number, batchSize: number, seqLen: number): number {
  if (!(valFraction > 0)) return Infinity;
  const need = batchSize * seqLen + 1;
  let n = Math.ceil(need / valFraction);
  while (Math.floor(n * valFraction) < need) n++;
  while (Math.floor((n - 1) * valFraction) >= need) n--;
  return n;
}

/**
 * Refuses a corpus too small for one held-out batch (its loss would be the mean of nothing: NaN), naming
 * the minimum size. `corpusTokens` is the whole corpus, tokenized.
 */
export function assertHeldOutBatch(corpusTokens: number, valFraction: number, batchSize: number, seqLen: number, corpus: string): void {
  const min = minCorpusTokens(valFraction, batchSize, seqLen);
  if (corpusTokens >= min) return;
  const held = `${Number((valFraction * 100).toPrecision(4))}%`;
  const expected = Number.isFinite(min)
    ? `at least ${min} tokens, so that its held-out ${held} holds one batch of ${batchSize} × ${seqLen} + 1 tokens`
    : 'a held-out fraction above 0 to evaluate on';
  throw mismatch(`corpus ${corpus}`, expected, `${corpusTokens} tokens`);
}

/** Copies the window starting at `start` into row `row` of the batch. */
function fillRow(batch: Batch, ids: Int32Array, row: number, start: number, seqLen: number): void {
  batch.inputs.set(ids.subarray(start, start + seqLen), row * seqLen);
  batch.targets.set(ids.subarray(start + 1, start + seqLen + 1), row * seqLen);
}

function emptyBatch(batchSize: number, seqLen: number): Batch {
  return { inputs: new Int32Array(batchSize * seqLen), targets: new Int32Array(batchSize * seqLen) };
}

/** Draws batches of random windows of seqLen + 1 tokens (inputs and their next-token targets). */
export class BatchSampler {
  private rng: Rng;
  private drawn = 0;

  constructor(
    private readonly ids: Int32Array,
    private readonly options: SamplerOptions,
  ) {
    checkPositiveInteger('batch size', options.batchSize);
    checkPositiveInteger('sequence length', options.seqLen);
    if (ids.length < options.seqLen + 1) {
      throw mismatch('training corpus', `at least seqLen + 1 = ${options.seqLen + 1} tokens`, `${ids.length} tokens`);
    }
    this.rng = createRng(options.seed);
  }

  next(): Batch {
    const { batchSize, seqLen } = this.options;
    const batch = emptyBatch(batchSize, seqLen);
    const starts = this.ids.length - seqLen; // windows [start, start + seqLen] that fit
    for (let row = 0; row < batchSize; row++) fillRow(batch, this.ids, row, this.rng.nextInt(starts), seqLen);
    this.drawn++;
    return batch;
  }

  get state(): SamplerState {
    return { rng: this.rng.state(), drawn: this.drawn };
  }

  /** A sampler that continues exactly where the one that produced `state` left off. */
  static restore(ids: Int32Array, options: SamplerOptions, state: SamplerState): BatchSampler {
    const sampler = new BatchSampler(ids, options);
    sampler.rng = restoreRng(state?.rng);
    if (!Number.isSafeInteger(state.drawn) || state.drawn < 0) throw mismatch('sampler state drawn', 'a non-negative integer', String(state.drawn));
    sampler.drawn = state.drawn;
    return sampler;
  }
}

/**
 * Fixed batches for a held-out loss: up to `maxBatches` full batches of windows whose targets do
 * not overlap (window k starts at a multiple of seqLen), spread evenly over all of `ids` so a
 * limited number of batches still samples the whole split. Same input → same batches.
 */
export function evalBatches(ids: Int32Array, batchSize: number, seqLen: number, maxBatches: number): Batch[] {
  checkPositiveInteger('batch size', batchSize);
  checkPositiveInteger('sequence length', seqLen);
  checkPositiveInteger('number of evaluation batches', maxBatches);
  const windows = Math.floor((ids.length - 1) / seqLen);
  const batchCount = Math.min(maxBatches, Math.floor(windows / batchSize));
  if (batchCount <= 0) {
    throw mismatch('evaluation tokens', `at least batchSize × seqLen + 1 = ${batchSize * seqLen + 1} tokens for one batch`, `${ids.length} tokens`);
  }
  const needed = batchCount * batchSize;
  const batches: Batch[] = [];
  for (let b = 0; b < batchCount; b++) {
    const batch = emptyBatch(batchSize, seqLen);
    for (let row = 0; row < batchSize; row++) {
      const window = Math.floor(((b * batchSize + row) * windows) / needed);
      fillRow(batch, ids, row, window * seqLen, seqLen);
    }
    batches.push(batch);
  }
  return batches;
}
