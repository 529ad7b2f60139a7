import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ByteTokenizer, forward, fromRaw, initParams, llamaConfig, loadModel, readSafetensors, saveModel, tf, writeSafetensors, type RawTensor } from '@efficientscale/core/node';
import '@efficientscale/moe';
import { cli } from './test-util.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const reference = path.resolve(here, '../../../../../shared/data/hf-reference');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-import-'));
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));

/** A transformers-style shard in bfloat16: each float32's top 16 bits, as torch's bfloat16 truncation of exact values. */
function writeBf16Shard(file: string, tensors: Record<string, RawTensor>): void {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  const bodies: Buffer[] = [];
  let offset = 0;
  for (const name of names) {
    const bits = new Uint32Array(Float32Array.from(tensors[name].data as Float32Array).buffer);
    const body = Buffer.alloc(bits.length * 2);
    bits.forEach((b, i) => body.writeUInt16LE(b >>> 16, i * 2));
    header[name] = { dtype: 'BF16', shape: tensors[name].shape, data_offsets: [offset, offset + body.length] };
    offset += body.length;
    bodies.push(body);
  }
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  fs.writeFileSync(file, Buffer.concat([length, json, ...bodies]));
}

/** tokenizer.json of a 256-entry byte-level vocabulary ("<0x41>" style, as Llama's byte fallback names bytes). */
function byteTokenizerJson(): object {
  const vocab: Record<string, number> = {};
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = b;
  return {
    version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null, pre_tokenizer: null, post_processor: null,
    decoder: { type: 'Sequence', decoders: [{ type: 'ByteFallback' }, { type: 'Fuse' }] },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: true, vocab, merges: [] },
  };
}

/** What transformers reads from a directory: HF config keys that change the function, and weight names by pattern. */
const IGNORED_KEYS = new Set(['transformers_version', 'dtype', 'torch_dtype', 'use_cache', 'initializer_range', 'attention_dropout', 'bos_token_id', 'eos_token_id', 'pad_token_id', 'pretraining_tp', 'output_router_logits', 'router_aux_loss_coef', 'router_jitter_noise', 'sliding_window', 'head_dim']);
const pattern = (name: string) => name.replace(/layers\.\d+\./, 'layers.N.').replace(/experts\.\d+\./, 'experts.E.');
const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** Every weight's shape as transformers' Llama/Mixtral modules create them, from config.json alone. */
function hfShape(name: string, c: Record<string, number>): number[] {
  const headDim = c.head_dim ?? c.hidden_size / c.num_attention_heads;
  const kv = c.num_key_value_heads ?? c.num_attention_heads;
  const table: Record<string, number[]> = {
    'model.embed_tokens.weight': [c.vocab_size, c.hidden_size],
    'lm_head.weight': [c.vocab_size, c.hidden_size],
    'model.norm.weight': [c.hidden_size],
    'model.layers.N.input_layernorm.weight': [c.hidden_size],
    'model.layers.N.post_attention_layernorm.weight': [c.hidden_size],
    'model.layers.N.self_attn.q_proj.weight': [c.num_attention_heads * headDim, c.hidden_size],
    'model.layers.N.self_attn.k_proj.weight': [kv * headDim, c.hidden_size],
    'model.layers.N.self_attn.v_proj.weight': [kv * headDim, c.hidden_size],
    'model.layers.N.self_attn.o_proj.weight': [c.hidden_size, c.num_attention_heads * headDim],
    'model.layers.N.mlp.gate_proj.weight': [c.intermediate_size, c.hidden_size],
    'model.layers.N.mlp.up_proj.weight': [c.intermediate_size, c.hidden_size],
    'model.layers.N.mlp.down_proj.weight': [c.hidden_size, c.intermediate_size],
    'model.layers.N.block_sparse_moe.gate.weight': [c.num_local_experts, c.hidden_size],
    'model.layers.N.block_sparse_moe.experts.E.w1.weight': [c.intermediate_size, c.hidden_size],
    'model.layers.N.block_sparse_moe.experts.E.w3.weight': [c.intermediate_size, c.hidden_size],
    'model.layers.N.block_sparse_moe.experts.E.w2.weight': [c.hidden_size, c.intermediate_size],
  };
  return table[pattern(name)];
}

/** Checks a directory we wrote against the transformers fixture of the same architecture. */
function expectLoadableLike(dir: string, fixture: 'llama-tiny' | 'mixtral-tiny'): void {
  const ours = readJson(path.join(dir, 'config.json'));
  const theirs = readJson(path.join(reference, fixture, 'config.json'));
  expect(ours.architectures).toEqual(theirs.architectures);
  expect(ours.model_type).toBe(theirs.model_type);
  expect(ours.torch_dtype ?? ours.dtype).toBe('float32');
  for (const [key, value] of Object.entries(theirs)) {
    if (!IGNORED_KEYS.has(key)) expect([key, typeOf(ours[key])]).toEqual([key, typeOf(value)]);
  }
  expect(ours.efficientscale?.ffn_kinds ?? []).not.toContain('lowrank');
  const file = readSafetensors(path.join(dir, 'model.safetensors'));
  expect(file.metadata.format).toBe('pt');
  const fixtureNames = Object.keys(readSafetensors(path.join(reference, fixture, 'model.safetensors')).tensors);
  const wanted = new Set(fixtureNames.map(pattern).filter((n) => !(ours.tie_word_embeddings && n === 'lm_head.weight')));
  expect(new Set(Object.keys(file.tensors).map(pattern))).toEqual(wanted);
  for (const [name, t] of Object.entries(file.tensors)) {
    expect(t.dtype).toBe('F32');
    expect([name, t.shape]).toEqual([name, hfShape(name, ours)]);
  }
  const layers = new Set(Object.keys(file.tensors).map((n) => n.match(/layers\.(\d+)\./)?.[1]).filter(Boolean));
  expect(layers.size).toBe(ours.num_hidden_layers);
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('efficientscale import', () => {
  const hf = path.join(tmp, 'hf-bf16');
  const imported = path.join(tmp, 'imported');

  it('copies a sharded bfloat16 directory with tokenizer.json into one float32 checkpoint that generate tokenizes with', async () => {
    const src = path.join(reference, 'llama-tiny');
    const weights = readSafetensors(path.join(src, 'model.safetensors')).tensors;
    fs.mkdirSync(hf);
    const names = Object.keys(weights);
    const weightMap: Record<string, string> = {};
    for (const [s, file] of ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'].entries()) {
      const mine = names.filter((_, i) => i % 2 === s);
      writeBf16Shard(path.join(hf, file), Object.fromEntries(mine.map((n) => [n, weights[n]])));
      for (const n of mine) weightMap[n] = file;
    }
    fs.writeFileSync(path.join(hf, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    fs.writeFileSync(path.join(hf, 'config.json'), JSON.stringify({ ...readJson(path.join(src, 'config.json')), dtype: 'bfloat16' }));
    fs.writeFileSync(path.join(hf, 'tokenizer.json'), JSON.stringify(byteTokenizerJson()));

    const r = await cli('import', hf, '--out', imported, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ architecture: 'LlamaForCausalLM', sourceDtypes: { BF16: names.length }, sharded: true, carried: ['tokenizer.json'] });
    expect(readJson(path.join(imported, 'config.json')).dtype).toBe('float32');
    // Same weights as the bf16 source, and (bf16 rounding aside) still the fixture's model.
    const a = loadModel(hf);
    const b = loadModel(imported);
    for (const n of names) expect(Array.from(b.params[n].dataSync())).toEqual(Array.from(a.params[n].dataSync()));
    const ref = readSafetensors(path.join(src, 'reference.safetensors')).tensors;
    const ids = fromRaw(ref.input_ids) as tf.Tensor2D;
    const logits = forward(b.config, b.params, ids);
    const got = logits.dataSync();
    let gap = 0;
    for (let i = 0; i < got.length; i++) gap = Math.max(gap, Math.abs(got[i] - ref.logits.data[i]));
    expect(gap).toBeGreaterThan(0); // bf16 rounding shows...
    expect(gap).toBeLessThan(0.5); // ...but it is the same model
    tf.dispose([logits, ids, ...Object.values(a.params), ...Object.values(b.params)]);

    const g = await cli('generate', imported, '--prompt', 'AB', '--tokens', '5', '--temperature', '0', '--backend', 'cpu', '--json');
    expect(g.code, g.stderr).toBe(0);
    const out = JSON.parse(g.stdout);
    expect(out.completion_ids).toHaveLength(5);
    // tokenizer.json's byte fallback: "AB" is <0x41><0x42>, and the completion decodes through it.
    expect(out.prompt_ids).toEqual([0x41, 0x42]);
    expect(out.tokenizer).toBe('tokenizer.json');
    // Generation stops after the config's eos_token_id, unless --no-eos.
    const eosDir = path.join(tmp, 'eos');
    fs.cpSync(imported, eosDir, { recursive: true });
    const cfg = readJson(path.join(eosDir, 'config.json'));
    fs.writeFileSync(path.join(eosDir, 'config.json'), JSON.stringify({ ...cfg, eos_token_id: [out.completion_ids[2], 255] }));
    const stop = await cli('generate', eosDir, '--prompt', 'AB', '--tokens', '5', '--temperature', '0', '--backend', 'cpu', '--json');
    expect(JSON.parse(stop.stdout).completion_ids).toEqual(out.completion_ids.slice(0, out.completion_ids.indexOf(out.completion_ids[2]) + 1));
    const on = await cli('generate', eosDir, '--prompt', 'AB', '--tokens', '5', '--temperature', '0', '--no-eos', '--backend', 'cpu', '--json');
    expect(JSON.parse(on.stdout).completion_ids).toEqual(out.completion_ids);
  });

  it('train --tokenizer DIR trains with its tokenizer.json, and generate on the run uses it again', async () => {
    const corpus = path.join(tmp, 'corpus.txt');
    fs.writeFileSync(corpus, 'It was the best of times, it was the worst of times. '.repeat(40));
    const run = path.join(tmp, 'run-tokjson');
    const t = await cli('train', '--tokenizer', imported, '--corpus', corpus, '--steps', '2', '--batch', '2', '--seq', '16', '--out', run, '--backend', 'cpu', '--json');
    expect(t.code, t.stderr).toBe(0);
    expect(JSON.parse(t.stdout).tokenizer).toBe('tokenizer.json');
    const g = await cli('generate', run, '--prompt', 'It', '--tokens', '3', '--backend', 'cpu', '--json');
    expect(g.code, g.stderr).toBe(0);
    expect(JSON.parse(g.stdout)).toMatchObject({ tokenizer: 'tokenizer.json', prompt_ids: [0x49, 0x74] });
    const bad = await cli('train', '--tokenizer', path.join(tmp, 'nope.json'), '--steps', '1', '--out', path.join(tmp, 'run-bad'), '--backend', 'cpu');
    expect(bad.stderr.trim()).toMatch(/nope\.json: expected a JSON file, found no such file$/);
  });

  it('mixtral-tiny imported into shards loads tensor by tensor and matches transformers\' logits within 1e-4', async () => {
    const src = path.join(reference, 'mixtral-tiny');
    const out = path.join(tmp, 'mixtral-sharded');
    const r = await cli('import', src, '--out', out, '--shard-mb', '0.2', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).shards).toBeGreaterThan(3);
    const model = loadModel(out);
    const ref = readSafetensors(path.join(src, 'reference.safetensors')).tensors;
    const ids = fromRaw(ref.input_ids) as tf.Tensor2D;
    const logits = forward(model.config, model.params, ids);
    const got = logits.dataSync();
    let gap = 0;
    for (let i = 0; i < got.length; i++) gap = Math.max(gap, Math.abs(got[i] - ref.logits.data[i]));
    expect(gap).toBeLessThan(1e-4);
    tf.dispose([logits, ids, ...Object.values(model.params)]);
  });

  it('generate samples only ids the tokenizer can decode when the model\'s vocabulary is larger (padded)', async () => {
    const dir = path.join(tmp, 'padded-vocab');
    const config = llamaConfig({ vocab: 320, hidden: 8, ffn: 8, layers: 1, heads: 2 });
    const params = initParams(config, 3, 1);
    saveModel(dir, config, params, new ByteTokenizer());
    tf.dispose(Object.values(params));
    const g = await cli('generate', dir, '--prompt', 'x', '--tokens', '40', '--temperature', '3', '--top-k', '0', '--backend', 'cpu', '--json');
    expect(g.code, g.stderr).toBe(0);
    expect(JSON.parse(g.stdout).completion_ids.every((t: number) => t < 256)).toBe(true);
  });

  it('refuses a non-empty --out and a directory without weights, in one line', async () => {
    const r = await cli('import', hf, '--out', imported);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toMatch(/--out .*: expected a new or empty directory, found \d+ entries/);
    const empty = path.join(tmp, 'no-weights');
    fs.mkdirSync(empty);
    fs.writeFileSync(path.join(empty, 'config.json'), JSON.stringify(llamaConfig({ vocab: 16, hidden: 8, ffn: 8, layers: 1, heads: 2 })));
    const e = await cli('import', empty, '--out', path.join(tmp, 'x'));
    expect(e.stderr.trim().split('\n')).toHaveLength(1);
    expect(e.stderr).toMatch(/model\.safetensors or model\.safetensors\.index\.json, found neither/);
    // NaN weights are refused by name, and nothing is left at --out; --allow-nonfinite copies them.
    const nan = path.join(tmp, 'nan');
    fs.mkdirSync(nan);
    fs.copyFileSync(path.join(imported, 'config.json'), path.join(nan, 'config.json'));
    const weights = readSafetensors(path.join(imported, 'model.safetensors')).tensors;
    const norm = Float32Array.from(weights['model.norm.weight'].data as Float32Array);
    norm[3] = NaN;
    writeSafetensors(path.join(nan, 'model.safetensors'), { ...weights, 'model.norm.weight': { ...weights['model.norm.weight'], data: norm } }, { format: 'pt' });
    const refused = await cli('import', nan, '--out', path.join(tmp, 'nan-out'));
    expect(refused.stderr.trim()).toMatch(/tensor "model\.norm\.weight" element 3: expected a finite number.*found NaN$/);
    expect(fs.existsSync(path.join(tmp, 'nan-out'))).toBe(false);
    expect((await cli('import', nan, '--out', path.join(tmp, 'nan-out'), '--allow-nonfinite')).code).toBe(0);
  });
});

describe('what we write is laid out as transformers expects (config keys, weight names and shapes of its own fixtures)', () => {
  // transformers itself is not run here (no Python on this machine): the fixtures it wrote are the reference.
  it('imported, grown, upcycled and low-rank-exported-dense checkpoints', async () => {
    const imported = path.join(tmp, 'imported');
    expectLoadableLike(imported, 'llama-tiny');
    const grown = path.join(tmp, 'grown');
    const g = await cli('grow', imported, '--out', grown, '--hidden', '96', '--heads', '6', '--kv-heads', '3', '--layers', '3', '--backend', 'cpu', '--json');
    expect(g.code, g.stderr).toBe(0);
    expectLoadableLike(grown, 'llama-tiny');
    const moe = path.join(tmp, 'moe');
    const u = await cli('upcycle', imported, '--out', moe, '--experts', '4', '--top-k', '2', '--backend', 'cpu', '--json');
    expect(u.code, u.stderr).toBe(0);
    expectLoadableLike(moe, 'mixtral-tiny');
    // The KV cache runs MoE FFN slots too: greedy output equals the uncached one.
    const withCache = await cli('generate', moe, '--prompt', 'ABC', '--tokens', '8', '--temperature', '0', '--backend', 'cpu', '--json');
    const without = await cli('generate', moe, '--prompt', 'ABC', '--tokens', '8', '--temperature', '0', '--no-cache', '--backend', 'cpu', '--json');
    expect(withCache.code, withCache.stderr).toBe(0);
    expect(JSON.parse(withCache.stdout).completion_ids).toEqual(JSON.parse(without.stdout).completion_ids);
    expect(JSON.parse(without.stdout).cache).toBe(false);
    const low = path.join(tmp, 'lowrank');
    const l = await cli('lowrank', imported, '--out', low, '--rank', '8', '--backend', 'cpu', '--json');
    expect(l.code, l.stderr).toBe(0);
    const dense = path.join(tmp, 'lowrank-dense');
    const x = await cli('export', low, '--out', dense, '--dense', '--backend', 'cpu', '--json');
    expect(x.code, x.stderr).toBe(0);
    expectLoadableLike(dense, 'llama-tiny');
  });
});
