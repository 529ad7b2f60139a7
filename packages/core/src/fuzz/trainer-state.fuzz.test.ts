import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf } from '../tf.js';
import { llamaConfig } from '../model/config.js';
import { ByteTokenizer } from '../data/tokenizer.js';
import { loadCheckpointFiles, saveCheckpoint, type LoadedCheckpoint } from '../io/checkpoint.js';
import { encodeSafetensors, type RawTensor } from '../io/safetensors.js';
import { readSafetensors } from '../io/safetensors-fs.js';
import { writeDirAtomic } from '../io/atomic.js';
import { checkpointTokenizerFiles } from '../hf/tokenizer-files.js';
import { assertFinite } from '../io/nonfinite.js';
import { continueRun, runPaths, startRun, type RunSpec } from '../train/run.js';
import { defaultAdamW } from '../train/adamw.js';
import { checkTrainerState } from '../io/trainer-state.js';
import { FUZZ_SEED, classify, fuzzRuns, fuzzTimeout, jsonValue, newTally, report } from './fuzz-util.js';

const RUNS = fuzzRuns(1000);

const config = llamaConfig({ vocab: 256, hidden: 8, ffn: 16, layers: 1, heads: 2, maxPositions: 16 });
const text = 'a small corpus for resuming, again and again. '.repeat(20);
const spec: RunSpec = {
  totalSteps: 3,
  valFraction: 0.1,
  evalEvery: 0,
  checkpointEvery: 2,
  corpus: 'fuzz',
  trainer: { batchSize: 1, seqLen: 8, accumulation: 1, schedule: { kind: 'cosine', lr: 1e-2, warmup: 1, total: 3 }, adamw: defaultAdamW, clipNorm: 1, seed: 5, evalBatches: 1 },
};
let root: string;
let clean: LoadedCheckpoint;
/** model.safetensors after resuming the unmutated checkpoint to step 3, as the fuzzed cases do. */
let cleanResumed: Buffer;

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'es-fuzz-state-'));
  const run = path.join(root, 'run');
  await startRun({ outDir: run, text, tokenizer: new ByteTokenizer(), config, spec, stopAfter: 2 });
  clean = loadCheckpointFiles(runPaths(run).checkpoint);
  const again = path.join(root, 'clean-resume');
  saveCheckpoint(path.join(again, 'checkpoint'), { config, params: clean.params, optimizer: clean.optimizer, trainerState: clean.trainerState, tokenizer: new ByteTokenizer() });
  await continueRun({ outDir: again, text, stopAfter: 3 });
  cleanResumed = fs.readFileSync(path.join(again, 'checkpoint', 'model.safetensors'));
});

/**
 * Fields that choose what the run does: a hand-edited spec or tokenizer is a different run, not a corrupt
 * one, and an Adam step above the trainer step is what a run started from warm moments stores.
 */
const SETTINGS = new Set(['spec', 'tokenizer', 'optimizerStep']);
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Every path into the stored state, so a mutation can hit any field at any depth. */
function paths(value: unknown, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== 'object') return [prefix];
  return [prefix, ...Object.entries(value).flatMap(([k, v]) => paths(v, [...prefix, k]))];
}

function setAt(root: Record<string, unknown>, p: string[], value: unknown): void {
  let o: Record<string, unknown> = root;
  for (const k of p.slice(0, -1)) {
    o = o[k] as Record<string, unknown>;
    if (o === null || typeof o !== 'object') return; // an earlier mutation replaced the parent
  }
  if (value === '<delete>') delete o[p[p.length - 1]];
  else o[p[p.length - 1]] = value;
}

const stateMutation = fc.tuple(fc.nat(), fc.oneof(jsonValue, fc.constant('<delete>'), fc.constant('<step+1>')));
/** What can go wrong with optimizer.safetensors: a value, a name, a shape, a type, a tensor too many or too few. */
const OPTIMIZER_MUTATIONS = ['none', 'none', 'nan', 'negative', 'rename', 'reshape', 'transpose', 'drop', 'drop-pair', 'extra', 'int'] as const;
const optimizerMutation = fc.tuple(fc.nat(), fc.constantFrom(...OPTIMIZER_MUTATIONS));

/** Writes the case's files as they are (saveCheckpoint would complete missing moments with zeros). */
function writeCase(dir: string, optimizer: Record<string, RawTensor>, state: unknown): boolean {
  try {
    writeDirAtomic(dir, {
      'config.json': JSON.stringify(config),
      'model.safetensors': encodeSafetensors(clean.params, { format: 'pt' }),
      'optimizer.safetensors': encodeSafetensors(optimizer, { format: 'pt' }),
      'trainer_state.json': JSON.stringify(state),
      ...checkpointTokenizerFiles(new ByteTokenizer(), config),
    });
    return true;
  } catch {
    return false; // a shape the encoder refuses (data length ≠ shape) cannot reach a file this way
  }
}

describe('trainer_state.json / optimizer.safetensors fuzz', () => {
  it('every mutated resume is refused with one UserError line, or resumes bit-identical to a clean resume', async () => {
    const runs = RUNS;
    const tally = newTally();
    const started = performance.now();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(stateMutation, { maxLength: 3 }), optimizerMutation, async (stateMutations, [which, opt]) => {
        const state = structuredClone(clean.trainerState!) as Record<string, unknown>;
        const all = paths(state).filter((p) => p.length > 0);
        let touchesSettings = false;
        for (const [i, value] of stateMutations) {
          const p = all[i % all.length];
          if (value === '<step+1>') setAt(state, ['step'], (state.step as number) + 1);
          else setAt(state, p, value);
          if (value !== '<step+1>' && SETTINGS.has(p[0])) touchesSettings = true;
        }
        const optimizer = Object.fromEntries(Object.entries(clean.optimizer!).map(([k, t]) => [k, { ...t, data: t.data.slice() }]));
        const keys = Object.keys(optimizer).sort();
        const key = keys[which % keys.length];
        if (opt === 'nan') optimizer[key].data[0] = NaN;
        if (opt === 'negative') optimizer[key.replace(/^m\./, 'v.')].data[0] = -1;
        if (opt === 'rename') optimizer[`m.${key}`] = optimizer[key];
        if (opt === 'reshape') optimizer[key] = { ...optimizer[key], shape: [optimizer[key].data.length] };
        if (opt === 'drop') delete optimizer[key];
        if (opt === 'drop-pair') {
          delete optimizer[key];
          delete optimizer[key.startsWith('m.') ? `v.${key.slice(2)}` : `m.${key.slice(2)}`];
        }
        if (opt === 'transpose') optimizer[key] = { ...optimizer[key], shape: [...optimizer[key].shape].reverse() };
        if (opt === 'extra') optimizer[`${key[0]}.model.extra.weight`] = optimizer[key];
        if (opt === 'int') optimizer[key] = { dtype: 'I32', shape: optimizer[key].shape, data: Int32Array.from(optimizer[key].data, (x) => Math.round(x * 1e6)) };
        // A state the trainer_state.json validator (which continueRun runs first) refuses stops here, in
        // memory; every optimizer mutation and every state it accepts goes on to a real resume from disk.
        let refusal: unknown;
        if (opt === 'none') {
          try {
            checkTrainerState(state, 'trainer_state.json');
          } catch (err) {
            refusal = err;
          }
        }
        if (refusal !== undefined) {
          classify(tally, () => {
            throw refusal;
          });
          return;
        }
        const dir = path.join(root, `case-${n++}`);
        if (!writeCase(path.join(dir, 'checkpoint'), optimizer, state)) return;
        const before = performance.now();
        let outcome: unknown;
        try {
          await continueRun({ outDir: dir, text, stopAfter: 3 });
          outcome = 'accepted';
        } catch (err) {
          outcome = err;
        }
        const ms = performance.now() - before;
        classify(tally, () => {
          if (outcome !== 'accepted') throw outcome;
          assertFinite(readSafetensors(path.join(dir, 'checkpoint', 'model.safetensors')).tensors, 'resumed weights', '');
          // A resume that went ahead from a corrupted (not re-specified) state must be the clean resume, bit for bit.
          if (!touchesSettings) {
            expect(fs.readFileSync(path.join(dir, 'checkpoint', 'model.safetensors')).equals(cleanResumed), `differs from a clean resume: ${JSON.stringify(stateMutations)}`).toBe(true);
            tally.sameAsClean++;
          }
          return 'accepted';
        });
        tally.slowestMs = Math.max(tally.slowestMs, ms);
        expect(ms).toBeLessThan(5000);
        fs.rmSync(dir, { recursive: true, force: true });
      }),
      { numRuns: runs, seed: FUZZ_SEED },
    );
    report('trainer state', runs, tally, (performance.now() - started) / 1000);
    expect(tally.accepted).toBeGreaterThan(0);
    expect(tally.refused).toBeGreaterThan(0);
    expect(tally.sameAsClean).toBeGreaterThan(0);
  }, fuzzTimeout(RUNS, 1000, 300_000));
});
