import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ByteTokenizer, countParams, defaultAdamW, llamaConfig, loadCheckpointFiles, loadModel, disposeModel, initParams, saveModel, continueRun, startRun, tf, UserError, type RunSpec } from '@efficientscale/core/node';
import { growCheckpoint } from './grow-checkpoint.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const text = 'the quick brown fox jumps over the lazy dog. '.repeat(30);
const spec: RunSpec = {
  totalSteps: 3,
  valFraction: 0.1,
  evalEvery: 0,
  checkpointEvery: 3,
  corpus: 'test',
  trainer: { batchSize: 2, seqLen: 16, accumulation: 1, schedule: { kind: 'constant', lr: 1e-2 }, adamw: defaultAdamW, clipNorm: 1, seed: 1, evalBatches: 1 },
};
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'es-grow-'));

describe('growCheckpoint', () => {
  it('grows a trained run with its optimizer state; the grown checkpoint loads and resumes training', async () => {
    const run = tmp();
    const config = llamaConfig({ vocab: 256, hidden: 8, ffn: 16, layers: 1, heads: 2, maxPositions: 32 });
    await startRun({ outDir: run, text, tokenizer: new ByteTokenizer(), config, spec });
    const out = path.join(tmp(), 'grown');
    const report = growCheckpoint(run, out, { hidden: 16, ffn: 24, layers: 3, widthMethod: 'lossless', depthMethod: 'copy', seed: 2 });
    expect(report.exact).toBe(true);
    expect(report.optimizerState).toBe(true);
    expect(report.maxLogitGap).toBeLessThan(1e-4);
    expect(report.paramsBefore).toBe(countParams(config));
    const files = loadCheckpointFiles(out);
    expect(Object.keys(files.optimizer!).length).toBe(2 * Object.keys(files.params).length);
    const model = loadModel(out);
    expect(countParams(model.config)).toBe(report.paramsAfter);
    expect(model.config.num_hidden_layers).toBe(3);
    disposeModel(model);
    const resumed = await continueRun({ outDir: path.join(tmp(), 'continued'), from: out, text, totalSteps: 6 });
    expect(resumed.steps).toBe(6);
    expect(Number.isFinite(resumed.trainLoss)).toBe(true);
    expect(resumed.params).toBe(report.paramsAfter);
  });

  it('refuses a non-empty --out and writes nothing on a bad request', () => {
    const dir = tmp();
    const config = llamaConfig({ vocab: 32, hidden: 8, ffn: 8, layers: 1, heads: 2 });
    const src = path.join(dir, 'src');
    const params = initParams(config, 1);
    saveModel(src, config, params, null);
    tf.dispose(Object.values(params));
    const busy = path.join(dir, 'busy');
    fs.mkdirSync(busy);
    fs.writeFileSync(path.join(busy, 'x'), '1');
    expect(() => growCheckpoint(src, busy, { layers: 2 })).toThrow(/--out .*busy: expected a new or empty directory/);
    const out = path.join(dir, 'out');
    const before = tf.memory().numTensors;
    expect(() => growCheckpoint(src, out, { hidden: 4 })).toThrow(UserError);
    expect(() => growCheckpoint(src, out, {})).toThrow(/expected at least one of/);
    expect(fs.existsSync(out)).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
    const ok = growCheckpoint(src, out, { layers: 2 });
    expect(ok.optimizerState).toBe(false);
    expect(ok.depth!.method).toBe('zero');
    expect(ok.maxLogitGap).toBeLessThan(1e-5);
  });
});
