import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tf } from '../tf.js';
import { UserError } from '../errors.js';
import { readSafetensors } from '../io/safetensors-fs.js';
import { llamaConfig, type ModelConfig } from '../model/config.js';
import { forward } from '../model/forward.js';
import { initParams, type Params } from '../model/params.js';
import { disposeModel, loadModel } from '../model/load.js';
import { fromRaw } from '../model/raw.js';
import { writeHfDir, type DiskDType, type DiskTensor } from './test-dirs.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const reference = path.resolve(here, '../../../../../shared/data/hf-reference');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'es-hf-load-'));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Weights on a k/128 grid (|k| ≤ 128): exact in float16 and bfloat16, so every encoding must load identically. */
function gridWeights(config: ModelConfig, seed: number): Record<string, Float32Array> {
  const params = initParams(config, seed, 0.3);
  const out: Record<string, Float32Array> = {};
  for (const [name, t] of Object.entries(params)) {
    out[name] = (t.dataSync() as Float32Array).map((v) => Math.max(-128, Math.min(128, Math.round(v * 128))) / 128);
    // Norm weights are 1 in initParams: perturb them so a wrong norm shows.
    if (name.endsWith('norm.weight')) out[name] = out[name].map((_, i) => 1 + ((i % 5) - 2) / 16);
  }
  tf.dispose(Object.values(params));
  return out;
}

const onDisk = (w: Record<string, Float32Array>, config: ModelConfig, dtype: DiskDType): Record<string, DiskTensor> => {
  const shapes = initShapes(config);
  return Object.fromEntries(Object.entries(w).map(([n, data]) => [n, { dtype, shape: shapes[n], data }]));
};

function initShapes(config: ModelConfig): Record<string, number[]> {
  const p = initParams(config, 0);
  const shapes = Object.fromEntries(Object.entries(p).map(([n, t]) => [n, [...t.shape]]));
  tf.dispose(Object.values(p));
  return shapes;
}

function logitsOf(config: ModelConfig, params: Params, ids: number[]): Float32Array {
  return tf.tidy(() => forward(config, params, tf.tensor2d(ids, [1, ids.length], 'int32')).dataSync() as Float32Array);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('loading a Hugging Face directory', () => {
  // Explicit head_dim (12 ≠ hidden/heads = 8), GQA, tied embeddings, top-level rope_theta (transformers 4 style).
  const config: ModelConfig = {
    ...llamaConfig({ vocab: 32, hidden: 16, ffn: 24, layers: 2, heads: 2, kvHeads: 1, tied: true }),
    head_dim: 12,
    rope_theta: 500,
    rope_parameters: undefined,
    torch_dtype: 'bfloat16',
  };
  delete config.rope_parameters;
  const weights = gridWeights(config, 3);
  const ids = [1, 5, 9, 2, 31, 0, 7];

  it('float32, float16 and bfloat16, single file or sharded, load to the same float32 weights and logits', () => {
    const root = tmp();
    const variants: Array<[DiskDType, number]> = [['F32', 1], ['F16', 1], ['BF16', 1], ['BF16', 3], ['F16', 2]];
    let first: Float32Array | undefined;
    for (const [dtype, shards] of variants) {
      const dir = path.join(root, `${dtype}-${shards}`);
      writeHfDir(dir, config, onDisk(weights, config, dtype), shards);
      const model = loadModel(dir);
      expect(Object.keys(model.params).sort()).toEqual(Object.keys(weights).sort());
      expect(model.params['lm_head.weight']).toBeUndefined();
      for (const [name, w] of Object.entries(weights)) {
        expect(model.params[name].dtype).toBe('float32');
        expect(Array.from(model.params[name].dataSync())).toEqual(Array.from(w));
      }
      const logits = logitsOf(model.config, model.params, ids);
      first ??= logits;
      expect(maxAbsDiff(logits, first)).toBe(0);
      disposeModel(model);
    }
  });

  it('rope_theta at the top level and in rope_parameters give the same model', () => {
    const root = tmp();
    const v5: ModelConfig = { ...config, rope_theta: undefined, rope_parameters: { rope_type: 'default', rope_theta: 500 } };
    const other: ModelConfig = { ...config, rope_theta: 10000 };
    const out: Float32Array[] = [];
    for (const [i, c] of [config, v5, other].entries()) {
      writeHfDir(path.join(root, String(i)), c, onDisk(weights, config, 'F32'));
      const model = loadModel(path.join(root, String(i)));
      out.push(logitsOf(model.config, model.params, ids));
      disposeModel(model);
    }
    expect(maxAbsDiff(out[0], out[1])).toBe(0);
    expect(maxAbsDiff(out[0], out[2])).toBeGreaterThan(1e-4); // the theta is really used
  });

  it('a tied model whose file still carries lm_head.weight loads without it; an untied one needs it', () => {
    const root = tmp();
    writeHfDir(path.join(root, 'tied'), config, { ...onDisk(weights, config, 'F32'), 'lm_head.weight': { dtype: 'F32', shape: [32, 16], data: weights['model.embed_tokens.weight'] } });
    const model = loadModel(path.join(root, 'tied'));
    expect(model.params['lm_head.weight']).toBeUndefined();
    disposeModel(model);
    writeHfDir(path.join(root, 'untied'), { ...config, tie_word_embeddings: false }, onDisk(weights, config, 'F32'));
    expect(() => loadModel(path.join(root, 'untied'))).toThrowError(/weight "lm_head\.weight" of shape \[32,16\].*no such weight/);
  });

  it('refuses a shard that lacks a tensor its index names, and a wrong shape, before reading any data', () => {
    const root = tmp();
    const dir = path.join(root, 'sharded');
    writeHfDir(dir, config, onDisk(weights, config, 'BF16'), 2);
    const indexFile = path.join(dir, 'model.safetensors.index.json');
    const index = JSON.parse(fs.readFileSync(indexFile, 'utf8'));
    index.weight_map['model.norm.weight'] = index.weight_map['model.norm.weight'].endsWith('1-of-00002.safetensors') ? 'model-00002-of-00002.safetensors' : 'model-00001-of-00002.safetensors';
    fs.writeFileSync(indexFile, JSON.stringify(index));
    expect(() => loadModel(dir)).toThrowError(UserError);
    expect(() => loadModel(dir)).toThrowError(/tensor "model\.norm\.weight" \(listed in model\.safetensors\.index\.json\).*no such tensor/);
    const bad = path.join(root, 'bad-shape');
    writeHfDir(bad, { ...config, intermediate_size: 20 }, onDisk(weights, config, 'F32'));
    expect(() => loadModel(bad)).toThrowError(/expected shape \[20,16\]/);
    const before = tf.memory().numTensors;
    expect(() => loadModel(bad)).toThrow();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the transformers fixture llama-tiny, as written and re-sharded, matches transformers\' logits within 1e-4', () => {
    const src = path.join(reference, 'llama-tiny');
    const ref = readSafetensors(path.join(src, 'reference.safetensors')).tensors;
    const fixture = readSafetensors(path.join(src, 'model.safetensors')).tensors;
    const sharded = path.join(tmp(), 'llama-sharded');
    const fixtureConfig = JSON.parse(fs.readFileSync(path.join(src, 'config.json'), 'utf8'));
    writeHfDir(sharded, fixtureConfig, Object.fromEntries(Object.entries(fixture).map(([n, t]) => [n, { dtype: 'F32', shape: t.shape, data: t.data as Float32Array }])), 4);
    for (const dir of [src, sharded]) {
      const model = loadModel(dir);
      const ids = fromRaw(ref.input_ids) as tf.Tensor2D;
      const logits = forward(model.config, model.params, ids);
      expect(logits.shape).toEqual(ref.logits.shape);
      expect(maxAbsDiff(logits.dataSync(), ref.logits.data)).toBeLessThan(1e-4);
      tf.dispose([logits, ids]);
      disposeModel(model);
    }
  });
});
