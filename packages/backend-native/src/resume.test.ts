/**
 * The native backend keeps training deterministic: N steps straight and N/2 + checkpoint + resume + N/2
 * give bit-identical weights, as on cpu (multi-threaded kernels split work the same way every time).
 * core is imported by path, as in training-step.test.ts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ByteTokenizer, defaultAdamW, llamaConfig, continueRun, startRun, tf as coreTf, type RunSpec } from '../../core/src/node.js';
import { registration } from './test-util.js';

const config = llamaConfig({ vocab: 256, hidden: 128, ffn: 344, layers: 2, heads: 4, kvHeads: 2, maxPositions: 64 });
const text = 'Grow models instead of training them from scratch; predict a bigger run before paying for it. '.repeat(80);
const spec = (steps: number): RunSpec => ({
  totalSteps: steps,
  valFraction: 0.1,
  evalEvery: 3,
  checkpointEvery: 2,
  corpus: 'test',
  trainer: {
    batchSize: 8,
    seqLen: 64,
    accumulation: 2,
    schedule: { kind: 'cosine', lr: 3e-3, warmup: 2, total: steps },
    adamw: defaultAdamW,
    clipNorm: 1,
    seed: 3,
    evalBatches: 2,
  },
});

describe.skipIf(!registration.ok)('resume on native', () => {
  it('N steps straight equal N/2 + checkpoint + resume + N/2, bit for bit', async () => {
    await coreTf.setBackend('native');
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'es-native-resume-'));
    const [a, b] = [path.join(root, 'a'), path.join(root, 'b')];
    const tokenizer = new ByteTokenizer();
    const straight = await startRun({ outDir: a, text, tokenizer, config, spec: spec(8) });
    await startRun({ outDir: b, text, tokenizer, config, spec: spec(8), stopAfter: 4 });
    const resumed = await continueRun({ outDir: b, text });
    expect(resumed.trainLoss).toBe(straight.trainLoss);
    const weights = (dir: string) => fs.readFileSync(path.join(dir, 'checkpoint', 'model.safetensors'));
    expect(weights(b).equals(weights(a))).toBe(true);
  });
});
