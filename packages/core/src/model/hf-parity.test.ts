import { describe, expect, it } from 'vitest';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tf } from '../tf.js';
import { readSafetensors } from '../io/safetensors-fs.js';
import { parseConfig } from './config.js';
import { forward } from './forward.js';
import { checkParams } from './params.js';
import { fromRaw, mapValues } from './raw.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const reference = path.resolve(here, '../../../../../shared/data/hf-reference');

describe('forward pass matches Hugging Face transformers', () => {
  it('llama-tiny: logits within 1e-4 of transformers', async () => {
    await tf.setBackend('cpu');
    const dir = path.join(reference, 'llama-tiny');
    const config = parseConfig(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'), 'config.json');
    const weights = readSafetensors(path.join(dir, 'model.safetensors')).tensors;
    checkParams(config, weights, 'model.safetensors');
    const ref = readSafetensors(path.join(dir, 'reference.safetensors')).tensors;
    const params = mapValues(weights, fromRaw);
    const ids = fromRaw(ref.input_ids) as tf.Tensor2D;
    const logits = forward(config, params, ids);
    expect(logits.shape).toEqual(ref.logits.shape);
    const got = logits.dataSync();
    const want = ref.logits.data;
    let maxDiff = 0;
    for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
    expect(maxDiff).toBeLessThan(1e-4);
    tf.dispose([logits, ids, ...Object.values(params)]);
  });
});
