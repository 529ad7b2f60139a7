import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initParams, llamaConfig, saveModel, tf, toRaw, writeSafetensors } from '@efficientscale/core/node';
import { cli } from './test-util.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-nonfinite-'));
const dir = path.join(tmp, 'model');
const input = path.join(tmp, 'tokens.safetensors');

beforeAll(async () => {
  await tf.setBackend('cpu');
  const config = llamaConfig({ vocab: 16, hidden: 8, ffn: 16, layers: 1, heads: 2, maxPositions: 8 });
  const params = initParams(config, 1);
  const poisoned = tf.fill([8], NaN);
  saveModel(dir, config, { ...params, 'model.norm.weight': poisoned }, null);
  tf.dispose([poisoned, ...Object.values(params)]);
  const tokens = tf.tensor2d([[1, 2, 3]], [1, 3], 'int32');
  writeSafetensors(input, { input_ids: toRaw(tokens) });
  tokens.dispose();
});

describe('--allow-nonfinite', () => {
  it('forward refuses NaN weights by name, and loads them with --allow-nonfinite', async () => {
    const out = path.join(tmp, 'logits.safetensors');
    const refused = await cli('forward', dir, '--input', input, '--out', out, '--backend', 'cpu');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr.trim()).toMatch(/tensor "model\.norm\.weight" element 0: expected a finite number \(pass --allow-nonfinite.*found NaN$/);
    expect(refused.stderr.trim()).not.toContain('\n');
    const allowed = await cli('forward', dir, '--input', input, '--out', out, '--backend', 'cpu', '--allow-nonfinite');
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stderr.trim()).toBe('warning: logits hold NaN or Inf (weight "model.norm.weight" holds NaN or Inf); written as they are (--allow-nonfinite)');
    expect(fs.existsSync(out)).toBe(true);
  });
});
