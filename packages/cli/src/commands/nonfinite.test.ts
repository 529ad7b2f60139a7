import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { llamaConfig, readSafetensors, tf, writeSafetensors } from '@efficientscale/core/node';
import { cli } from './test-util.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-nonfinite-'));
const corpus = path.join(tmp, 'corpus.txt');
const configFile = path.join(tmp, 'config.json');
const run = path.join(tmp, 'run');
/** A checkpoint whose weights are all finite but whose layer 1 FFN overflows float32 (its input norm scales by 3e38). */
const overflowing = path.join(tmp, 'overflowing');
const input = path.join(tmp, 'in.safetensors');
const quick = ['--corpus', corpus, '--backend', 'cpu'];

beforeAll(async () => {
  await tf.setBackend('cpu');
  fs.writeFileSync(corpus, 'It was the best of times, it was the worst of times.\n'.repeat(60));
  fs.writeFileSync(configFile, JSON.stringify(llamaConfig({ vocab: 256, hidden: 16, ffn: 32, layers: 2, heads: 2, maxPositions: 32 })));
  const r = await cli('train', '--config', configFile, ...quick, '--batch', '2', '--seq', '8', '--steps', '1', '--out', run, '--json');
  expect(r.code, r.stderr).toBe(0);
  fs.cpSync(path.join(run, 'checkpoint'), overflowing, { recursive: true });
  const file = path.join(overflowing, 'model.safetensors');
  const weights = readSafetensors(file).tensors;
  weights['model.layers.1.post_attention_layernorm.weight'].data.fill(3e38);
  writeSafetensors(file, weights, { format: 'pt' });
  writeSafetensors(input, { input_ids: { dtype: 'I32', shape: [1, 4], data: new Int32Array([73, 116, 32, 119]) } });
});

/** Exit 1 and one error line (besides the line naming the backend). */
function oneLine(r: { code: number; stderr: string }): string {
  expect(r.code, r.stderr).toBe(1);
  const lines = r.stderr.trim().split('\n').filter((l) => l.trim() !== '' && !l.startsWith('backend: ') && !/^(training |step \d)/.test(l));
  expect(lines, r.stderr).toHaveLength(1);
  return lines[0];
}

const LAYER_1_FFN = "the output of layer 1's FFN (model.layers.1.mlp) went non-finite first";

describe('a non-finite result is an error naming the first layer whose output went non-finite', () => {
  it('eval', async () => {
    const line = oneLine(await cli('eval', overflowing, ...quick, '--batch', '1', '--seq', '8', '--batches', '1'));
    expect(line).toMatch(/^error: eval loss: expected a finite number, found (NaN|-?Infinity) \(/);
    expect(line).toContain(LAYER_1_FFN);
  });

  it('generate', async () => {
    const line = oneLine(await cli('generate', overflowing, '--prompt', 'It was', '--tokens', '3', '--backend', 'cpu'));
    expect(line).toBe(`error: next-token logits: expected finite numbers, found NaN or Inf (${LAYER_1_FFN})`);
  });

  it('forward, writing nothing', async () => {
    const out = path.join(tmp, 'logits.safetensors');
    const line = oneLine(await cli('forward', overflowing, '--input', input, '--out', out, '--backend', 'cpu'));
    expect(line).toBe(`error: logits: expected finite numbers, found NaN or Inf (${LAYER_1_FFN})`);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('train from the overflowing weights fails at step 1 naming the layer', async () => {
    const line = oneLine(await cli('train', '--init-from', overflowing, ...quick, '--batch', '2', '--seq', '8', '--steps', '2', '--out', path.join(tmp, 'from-overflow')));
    expect(line).toBe(`error: training loss at step 1: expected a finite number, found NaN (${LAYER_1_FFN}; lower the learning rate or check the data)`);
  });

  it('train that diverges names the weight the last update broke, or the layer', async () => {
    const line = oneLine(await cli('train', '--config', configFile, ...quick, '--lr', '1e6', '--batch', '2', '--seq', '8', '--steps', '30', '--out', path.join(tmp, 'diverged')));
    expect(line).toMatch(/^error: training loss at step \d+: expected a finite number, found NaN \((weight "[^"]+" holds NaN or Inf|the output of .+ went non-finite first); lower the learning rate or check the data\)$/);
  });

  it('the trained model itself is finite: eval, generate and forward succeed on it', async () => {
    expect((await cli('eval', run, ...quick, '--batch', '1', '--seq', '8', '--batches', '1')).code).toBe(0);
    expect((await cli('generate', run, '--prompt', 'It was', '--tokens', '3', '--backend', 'cpu')).code).toBe(0);
    expect((await cli('forward', run, '--input', input, '--out', path.join(tmp, 'ok.safetensors'), '--backend', 'cpu')).code).toBe(0);
  });
});
