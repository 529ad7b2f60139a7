import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ByteTokenizer, disposeModel, forward, initParams, llamaConfig, loadModel, saveModel, tf } from '@efficientscale/core/node';
import { upcycle } from '@efficientscale/moe';
import { growDepth } from '@efficientscale/progressive';
import { cli } from './test-util.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-stream-'));
const dense = path.join(tmp, 'dense');
const ids = [[3, 14, 15, 9, 2, 6, 5, 35, 8, 9]];

function logits(dir: string): Float32Array {
  const model = loadModel(dir);
  const out = tf.tidy(() => forward(model.config, model.params, tf.tensor2d(ids, [1, ids[0].length], 'int32')).dataSync() as Float32Array);
  disposeModel(model);
  return out;
}

const maxGap = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

beforeAll(async () => {
  await tf.setBackend('cpu');
  const config = llamaConfig({ vocab: 256, hidden: 16, ffn: 24, layers: 3, heads: 4, kvHeads: 2 });
  const params = initParams(config, 11, 0.2);
  saveModel(dense, config, params, new ByteTokenizer());
  tf.dispose(Object.values(params));
});

describe('--stream: transforms tensor by tensor, sharded output', () => {
  it('grow --depth-method copy --stream adds zero-output copies: same logits, the layers where they belong, shards of at most --shard-mb', async () => {
    const out = path.join(tmp, 'deep');
    const r = await cli('grow', dense, '--out', out, '--layers', '5', '--depth-method', 'copy', '--stream', '--shard-mb', '0.004', '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ mode: 'stream', tensors: 3 + 5 * 9, dtype: 'F32' });
    expect(report.depth.newLayers).toEqual([{ index: 1, source: 0 }, { index: 4, source: 2 }]);
    expect(report.maxLogitGap).toBeUndefined(); // not measured when streamed
    expect(report.shards).toBeGreaterThan(2);
    expect(report.paramsAfter).toBeGreaterThan(report.paramsBefore);
    const index = JSON.parse(fs.readFileSync(path.join(out, 'model.safetensors.index.json'), 'utf8'));
    for (const shard of new Set(Object.values(index.weight_map) as string[])) {
      // One tensor over the limit may get a shard alone; otherwise the limit holds (header aside).
      const size = fs.statSync(path.join(out, shard)).size;
      const tensors = Object.values(index.weight_map).filter((s) => s === shard).length;
      if (tensors > 1) expect(size).toBeLessThan(0.004 * 2 ** 20 + 4096);
    }
    expect(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).num_hidden_layers).toBe(5);
    expect(fs.existsSync(path.join(out, 'tokenizer.json'))).toBe(true);
    expect(maxGap(logits(out), logits(dense))).toBeLessThan(1e-5);
  });

  it('upcycle --stream of the sharded, grown checkpoint is a Mixtral whose logits equal the dense ones, and the config upcycle gives', async () => {
    const out = path.join(tmp, 'moe');
    const r = await cli('upcycle', path.join(tmp, 'deep'), '--out', out, '--experts', '4', '--top-k', '2', '--stream', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ shards: 1, experts: 4, topK: 2, mode: 'stream' });
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ architectures: ['MixtralForCausalLM'], model_type: 'mixtral', num_local_experts: 4, num_experts_per_tok: 2, num_hidden_layers: 5 });
    expect(maxGap(logits(out), logits(dense))).toBeLessThan(1e-5);
    const deep = loadModel(path.join(tmp, 'deep'));
    const inMemory = upcycle(deep.config, deep.params, { experts: 4, topK: 2 });
    expect(config).toEqual({ ...inMemory.config, torch_dtype: 'float32' });
    tf.dispose(Object.values(inMemory.params));
    disposeModel(deep);
    const moe = loadModel(out);
    expect(moe.params['model.layers.4.block_sparse_moe.experts.3.w2.weight'].shape).toEqual([16, 24]);
    expect(moe.params['model.layers.0.mlp.up_proj.weight']).toBeUndefined();
    expect(fs.readFileSync(path.join(out, 'tokenizer.json'), 'utf8')).toBe(fs.readFileSync(path.join(dense, 'tokenizer.json'), 'utf8'));
    disposeModel(moe);
  });

  it('refuses a non-dense source for upcycling, fewer layers, a non-empty --out and k-means under --stream, writing nothing', async () => {
    const a = await cli('upcycle', path.join(tmp, 'moe'), '--out', path.join(tmp, 'again'), '--experts', '2', '--top-k', '1', '--stream');
    expect(a.stderr).toMatch(/upcycle input: expected a dense model, found a model that already has MoE layers/);
    const b = await cli('grow', dense, '--out', path.join(tmp, 'fewer'), '--layers', '2', '--stream');
    expect(b.stderr).toMatch(/layers: expected at least the current 3 layers \(growth never removes layers\), found 2/);
    const c = await cli('grow', dense, '--out', path.join(tmp, 'deep'), '--layers', '4', '--stream');
    expect(c.stderr).toMatch(/--out .*deep: expected a new or empty directory, found \d+ entries/);
    const d = await cli('upcycle', dense, '--out', path.join(tmp, 'km'), '--experts', '2', '--top-k', '1', '--router-init', 'kmeans', '--stream');
    expect(d.stderr).toMatch(/--router-init kmeans: expected no --stream \(k-means clusters every layer's FFN inputs from a forward pass of the whole model\), found --stream/);
    for (const r of [a, b, c, d]) expect(r.code).toBe(1);
    expect(fs.readdirSync(tmp).sort()).toEqual(['deep', 'dense', 'moe']);
  });

  it('grow --stream writes the same weights as growDepth copy (exact) in memory', () => {
    const source = loadModel(dense);
    const grown = growDepth(source.config, source.params, { layers: 5, method: 'copy', exact: true });
    const streamed = loadModel(path.join(tmp, 'deep'));
    expect(Object.keys(streamed.params).sort()).toEqual(Object.keys(grown.params).sort());
    for (const [name, t] of Object.entries(grown.params)) expect(streamed.params[name].dataSync(), name).toEqual(t.dataSync());
    tf.dispose(Object.values(grown.params));
    disposeModel(source);
    disposeModel(streamed);
  });
});
