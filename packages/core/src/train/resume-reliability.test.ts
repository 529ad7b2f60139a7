import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf } from '../tf.js';
import { UserError } from '../errors.js';
import { llamaConfig } from '../model/config.js';
import { loadModel } from '../model/load.js';
import { ByteTokenizer } from '../data/tokenizer.js';
import type { RawTensor } from '../io/safetensors.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors-fs.js';
import { loadCheckpointFiles, saveCheckpoint } from '../io/checkpoint.js';
import { defaultAdamW } from './adamw.js';
import { continueRun, runPaths, startRun, truncateMetrics, type RunSpec } from './run.js';

const config = llamaConfig({ vocab: 256, hidden: 8, ffn: 16, layers: 1, heads: 2, maxPositions: 16 });
const text = 'resume me exactly once per step, please. '.repeat(20);
const spec = (steps: number, every: number): RunSpec => ({
  totalSteps: steps,
  valFraction: 0.1,
  evalEvery: 0,
  checkpointEvery: every,
  corpus: 'test',
  trainer: { batchSize: 1, seqLen: 8, accumulation: 1, schedule: { kind: 'cosine', lr: 1e-2, warmup: 1, total: steps }, adamw: defaultAdamW, clipNorm: 1, seed: 3, evalBatches: 1 },
});
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'es-resume-'));
const loggedSteps = (dir: string) =>
  fs.readFileSync(runPaths(dir).metrics, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { step: number }).step);

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('kill and resume', () => {
  it('a run stopped between checkpoints (as kill -9 leaves it) resumes with each step logged once', async () => {
    const dir = tmp();
    // Checkpoints at 3 and 6; stopping after 5 leaves steps 4-5 logged past the checkpoint, then a torn line.
    await startRun({ outDir: dir, text, tokenizer: new ByteTokenizer(), config, spec: spec(8, 3), stopAfter: 5 });
    fs.appendFileSync(runPaths(dir).metrics, '{"step": 6, "lo');
    expect(loggedSteps.bind(null, dir)).toThrow();
    await continueRun({ outDir: dir, text });
    expect(loggedSteps(dir)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // Resume cut the log back to step 3 and then went on; the same holds for a second interruption.
    const again = tmp();
    await startRun({ outDir: again, text, tokenizer: new ByteTokenizer(), config, spec: spec(8, 3), stopAfter: 4 });
    await continueRun({ outDir: again, text, stopAfter: 7 });
    await continueRun({ outDir: again, text });
    expect(loggedSteps(again)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('a kill between the two renames of a checkpoint save (checkpoint/ renamed aside) resumes from that checkpoint', async () => {
    const dir = tmp();
    await startRun({ outDir: dir, text, tokenizer: new ByteTokenizer(), config, spec: spec(6, 3), stopAfter: 4 });
    const ckpt = runPaths(dir).checkpoint;
    fs.renameSync(ckpt, `${ckpt}.old-0a1b2c`); // as writeDirAtomic leaves it after its first rename
    fs.mkdirSync(`${ckpt}.tmp-3d4e5f`); // and a half-written new one
    const hint = `(an interrupted save left the previous checkpoint in ${ckpt}.old-0a1b2c; train --resume ${dir} restores it)`;
    // The run directory and its checkpoint path say the same, whichever loader reads them (eval goes through loadModel).
    expect(() => loadCheckpointFiles(dir)).toThrow(`found no config.json ${hint}`);
    expect(() => loadModel(dir)).toThrow(`found no config.json ${hint}`);
    expect(() => loadModel(ckpt)).toThrow(`found nothing at that path ${hint}`);
    expect(() => loadCheckpointFiles(ckpt)).toThrow(`found nothing at that path ${hint}`);
    // A kill while a plot or metrics.jsonl was being replaced leaves a temporary file that resume removes.
    fs.writeFileSync(path.join(dir, 'loss.svg.tmp-0123456789ab'), '<svg');
    fs.writeFileSync(path.join(dir, 'metrics.jsonl.tmp-ba9876543210'), '');
    await continueRun({ outDir: dir, text });
    expect(fs.readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
    expect(loggedSteps(dir)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('checkpoint')).sort()).toEqual(['checkpoint']);
    const straight = tmp();
    await startRun({ outDir: straight, text, tokenizer: new ByteTokenizer(), config, spec: spec(6, 3) });
    expect(fs.readFileSync(path.join(ckpt, 'model.safetensors')).equals(fs.readFileSync(path.join(runPaths(straight).checkpoint, 'model.safetensors')))).toBe(true);
  });

  it('a new run with a sequence longer than the config allows is refused before it writes anything', async () => {
    const dir = path.join(tmp(), 'run');
    const short = { ...config, max_position_embeddings: 4 };
    await expect(startRun({ outDir: dir, text, tokenizer: new ByteTokenizer(), config: short, spec: spec(2, 1) })).rejects.toThrow(
      "sequence length (--seq): expected at most the config's max_position_embeddings (4), found 8",
    );
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('truncateMetrics keeps only steps up to the checkpoint and leaves an exact log untouched', () => {
    const file = path.join(tmp(), 'metrics.jsonl');
    fs.writeFileSync(file, [1, 2, 3].map((step) => JSON.stringify({ step })).join('\n') + '\n');
    const before = fs.statSync(file).mtimeMs;
    truncateMetrics(file, 3);
    expect(fs.statSync(file).mtimeMs).toBe(before);
    truncateMetrics(file, 1);
    expect(fs.readFileSync(file, 'utf8')).toBe('{"step":1}\n');
  });

  it('a new run refuses a directory holding anything, such as a stale metrics.jsonl', async () => {
    const dir = tmp();
    fs.writeFileSync(runPaths(dir).metrics, '{"step":1}\n');
    await expect(startRun({ outDir: dir, text, tokenizer: new ByteTokenizer(), config, spec: spec(1, 1) })).rejects.toThrowError(
      /--out .*: expected a new or empty run directory \(this one has no checkpoint to resume from\), found 1 entries \(metrics\.jsonl\)/,
    );
  });
});

describe('non-finite values', () => {
  it('refuses NaN weights on load with the tensor name, loads them with allowNonfinite', async () => {
    const dir = tmp();
    await startRun({ outDir: dir, text, tokenizer: new ByteTokenizer(), config, spec: spec(1, 1) });
    const file = path.join(runPaths(dir).checkpoint, 'model.safetensors');
    const tensors = readSafetensors(file).tensors;
    tensors['lm_head.weight'].data[5] = Infinity;
    writeSafetensors(file, tensors, { format: 'pt' });
    expect(() => loadModel(runPaths(dir).checkpoint)).toThrowError(UserError);
    expect(() => loadModel(runPaths(dir).checkpoint)).toThrowError(/tensor "lm_head\.weight" element 5: expected a finite number \(pass --allow-nonfinite.*found Infinity/);
    const model = loadModel(runPaths(dir).checkpoint, { allowNonfinite: true });
    expect(model.params['lm_head.weight'].dataSync()[5]).toBe(Infinity);
    tf.dispose(Object.values(model.params));
  });

  it('refuses a negative second moment and a resume on another corpus', async () => {
    const dir = tmp();
    await startRun({ outDir: dir, text, tokenizer: new ByteTokenizer(), config, spec: spec(2, 1), stopAfter: 1 });
    await expect(continueRun({ outDir: dir, text: text + text })).rejects.toThrowError(/resume corpus: expected a training split of \d+ tokens/);
    const file = path.join(runPaths(dir).checkpoint, 'optimizer.safetensors');
    const moments = readSafetensors(file).tensors;
    moments['v.model.norm.weight'].data[0] = -1;
    writeSafetensors(file, moments, { format: 'pt' });
    await expect(continueRun({ outDir: dir, text })).rejects.toThrowError(/"v\.model\.norm\.weight" element 0: expected a second moment >= 0, found -1/);
  });

  it('refuses a missing, extra, mis-shaped or integer moment, naming the tensor, and leaves the checkpoint as it was', async () => {
    const dir = tmp();
    await startRun({ outDir: dir, text, tokenizer: new ByteTokenizer(), config, spec: spec(2, 1), stopAfter: 1 });
    const file = path.join(runPaths(dir).checkpoint, 'optimizer.safetensors');
    const clean = readSafetensors(file).tensors;
    const v = clean['v.model.norm.weight'];
    const cases: Array<[string, Record<string, RawTensor>, RegExp]> = [
      ['missing', Object.fromEntries(Object.entries(clean).filter(([k]) => k !== 'v.model.norm.weight')), /optimizer\.safetensors: tensor "v\.model\.norm\.weight": expected the second moment of weight "model\.norm\.weight" \(every weight has both\), found no such tensor$/],
      ['extra', { ...clean, 'm.model.extra.weight': v }, /optimizer\.safetensors: tensor "m\.model\.extra\.weight": expected only tensors "m\.<weight>" and "v\.<weight>" of the model's weights, found a tensor of no weight$/],
      ['mis-shaped', { ...clean, 'v.model.norm.weight': { ...v, shape: [2, 4] } }, /tensor "v\.model\.norm\.weight": expected shape \[8\] \(its weight's\), found \[2,4\]$/],
      ['integer', { ...clean, 'v.model.norm.weight': { dtype: 'I32', shape: v.shape, data: new Int32Array(v.data.length) } }, /tensor "v\.model\.norm\.weight": expected a floating-point moment \(F32, or F16\/BF16\/F64\), found an integer tensor \(I32 as read\)$/],
    ];
    for (const [what, moments, message] of cases) {
      writeSafetensors(file, moments, { format: 'pt' });
      const written = fs.readFileSync(file);
      await expect(continueRun({ outDir: dir, text }), what).rejects.toThrowError(message);
      await expect(continueRun({ outDir: dir, text }), what).rejects.toThrowError(UserError);
      expect(fs.readFileSync(file).equals(written), what).toBe(true);
      expect(loggedSteps(dir), what).toEqual([1]);
    }
  });

  it('a checkpoint written with some moments left out gets zeros for them: it resumes like AdamW starting them at zero', async () => {
    const dir = tmp();
    await startRun({ outDir: dir, text, tokenizer: new ByteTokenizer(), config, spec: spec(2, 1), stopAfter: 1 });
    const ckpt = runPaths(dir).checkpoint;
    const files = loadCheckpointFiles(ckpt);
    const kept = Object.fromEntries(Object.entries(files.optimizer!).filter(([k]) => !k.endsWith('model.norm.weight')));
    saveCheckpoint(ckpt, { config: files.config, params: files.params, optimizer: kept, trainerState: files.trainerState, tokenizer: new ByteTokenizer() });
    const written = readSafetensors(path.join(ckpt, 'optimizer.safetensors')).tensors;
    expect(Object.keys(written).sort()).toEqual(Object.keys(files.optimizer!).sort());
    expect(Array.from(written['v.model.norm.weight'].data)).toEqual(new Array(8).fill(0));
    await continueRun({ outDir: dir, text });
    expect(loggedSteps(dir)).toEqual([1, 2]);
  });

  it('refuses a sampler RNG state that the seed and the batches drawn do not give (it would resume on other batches)', async () => {
    const dir = tmp();
    await startRun({ outDir: dir, text, tokenizer: new ByteTokenizer(), config, spec: spec(3, 2), stopAfter: 2 });
    const file = path.join(runPaths(dir).checkpoint, 'trainer_state.json');
    const state = JSON.parse(fs.readFileSync(file, 'utf8'));
    const saved = state.sampler.rng;
    state.sampler.rng = [(saved[0] ^ 1) >>> 0, ...saved.slice(1)];
    fs.writeFileSync(file, JSON.stringify(state));
    await expect(continueRun({ outDir: dir, text })).rejects.toThrowError(
      new RegExp(`"sampler\\.rng": expected \\[${saved.join(',')}\\] \\(the state after 2 batches from seed 3\\), found \\[${state.sampler.rng.join(',')}\\]$`),
    );
    state.sampler.rng = saved;
    fs.writeFileSync(file, JSON.stringify(state));
    await continueRun({ outDir: dir, text });
    expect(loggedSteps(dir)).toEqual([1, 2, 3]);
  });

  it('takes an Adam step count above the trainer step (warm moments from another run) and refuses one below it', async () => {
    const dir = tmp();
    await startRun({ outDir: dir, text, tokenizer: new ByteTokenizer(), config, spec: spec(3, 2), stopAfter: 2 });
    const file = path.join(runPaths(dir).checkpoint, 'trainer_state.json');
    const state = JSON.parse(fs.readFileSync(file, 'utf8'));
    fs.writeFileSync(file, JSON.stringify({ ...state, optimizerStep: 1 }));
    await expect(continueRun({ outDir: dir, text })).rejects.toThrowError(/"optimizerStep": expected at least the trainer step \(2\), found 1$/);
    fs.writeFileSync(file, JSON.stringify({ ...state, optimizerStep: 7 }));
    await continueRun({ outDir: dir, text });
    expect(loggedSteps(dir)).toEqual([1, 2, 3]);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).optimizerStep).toBe(8);
  });

  it('never writes a checkpoint whose weights went non-finite', async () => {
    const dir = tmp();
    await startRun({ outDir: dir, text, tokenizer: new ByteTokenizer(), config, spec: spec(2, 1), stopAfter: 1 });
    const file = path.join(runPaths(dir).checkpoint, 'optimizer.safetensors');
    const moments = readSafetensors(file).tensors;
    // A huge first moment keeps the loss finite at the next step but makes the update overflow the weights.
    moments['m.model.norm.weight'].data.fill(3e38);
    moments['v.model.norm.weight'].data.fill(0);
    writeSafetensors(file, moments, { format: 'pt' });
    const before = fs.readFileSync(path.join(runPaths(dir).checkpoint, 'model.safetensors'));
    await expect(continueRun({ outDir: dir, text })).rejects.toThrowError(/^eval loss at step 2: expected a finite number, found NaN \(weight "model\.norm\.weight" holds NaN or Inf; step 2 diverged: lower the learning rate or check the data\)$/);
    expect(fs.readFileSync(path.join(runPaths(dir).checkpoint, 'model.safetensors'))).toEqual(before);
  });
});
