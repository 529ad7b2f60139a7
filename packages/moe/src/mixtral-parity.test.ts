import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkParams, forward, fromRaw, loadModel, mapValues, parseConfig, readSafetensors, saveModel, tf } from '@efficientscale/core/node';
import './index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = path.resolve(here, '../../../../shared/data/hf-reference/mixtral-tiny');

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Mixtral compatibility', () => {
  it('mixtral-tiny: logits within 1e-4 of transformers', () => {
    const config = parseConfig(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'), 'config.json');
    const weights = readSafetensors(path.join(dir, 'model.safetensors')).tensors;
    checkParams(config, weights, 'model.safetensors');
    const ref = readSafetensors(path.join(dir, 'reference.safetensors')).tensors;
    const params = mapValues(weights, fromRaw);
    const ids = fromRaw(ref.input_ids) as tf.Tensor2D;
    const logits = forward(config, params, ids);
    expect(logits.shape).toEqual(ref.logits.shape);
    const got = logits.dataSync();
    let maxDiff = 0;
    for (let i = 0; i < ref.logits.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - ref.logits.data[i]));
    expect(maxDiff).toBeLessThan(1e-4);
    tf.dispose([logits, ids, ...Object.values(params)]);
  });

  it('a checkpoint we write keeps Mixtral weight names and the config fields transformers reads', () => {
    const model = loadModel(dir);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'moe-save-'));
    saveModel(path.join(out, 'ckpt'), model.config, model.params, null);
    const again = loadModel(path.join(out, 'ckpt'));
    const cfg = JSON.parse(fs.readFileSync(path.join(out, 'ckpt', 'config.json'), 'utf8'));
    expect(cfg.architectures).toEqual(['MixtralForCausalLM']);
    expect(cfg.model_type).toBe('mixtral');
    expect(cfg.num_local_experts).toBe(4);
    expect(cfg.num_experts_per_tok).toBe(2);
    expect(cfg.router_aux_loss_coef).toBe(0.001);
    const names = Object.keys(again.params);
    expect(names).toContain('model.layers.1.block_sparse_moe.gate.weight');
    expect(names).toContain('model.layers.1.block_sparse_moe.experts.3.w2.weight');
    expect(names.sort()).toEqual(Object.keys(model.params).sort());
    tf.dispose([...Object.values(model.params), ...Object.values(again.params)]);
    fs.rmSync(out, { recursive: true, force: true });
  });
});
