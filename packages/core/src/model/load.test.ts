import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf } from '../tf.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors-fs.js';
import { llamaConfig } from './config.js';
import { initParams } from './params.js';
import { disposeModel, loadModel, saveModel } from './load.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('saveModel / loadModel', () => {
  it('round-trip config and weights exactly, and drop the RoPE buffers older checkpoints carry', () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'es-model-')), 'ckpt');
    const config = llamaConfig({ vocab: 32, hidden: 8, ffn: 12, layers: 2, heads: 2, tied: true });
    const params = initParams(config, 5);
    saveModel(dir, config, params, null);
    const file = path.join(dir, 'model.safetensors');
    const withBuffer = readSafetensors(file).tensors;
    withBuffer['model.layers.0.self_attn.rotary_emb.inv_freq'] = { dtype: 'F32', shape: [2], data: Float32Array.from([1, 0.1]) };
    writeSafetensors(file, withBuffer, { format: 'pt' });
    const loaded = loadModel(dir);
    expect(loaded.config).toEqual(config);
    expect(Object.keys(loaded.params).sort()).toEqual(Object.keys(params).sort());
    for (const [name, t] of Object.entries(params)) expect(Array.from(loaded.params[name].dataSync())).toEqual(Array.from(t.dataSync()));
    disposeModel(loaded);
    tf.dispose(Object.values(params));
  });
});
