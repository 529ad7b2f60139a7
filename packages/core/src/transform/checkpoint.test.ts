import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf } from '../tf.js';
import { createRng } from '../data/rng.js';
import { encodeFloats } from '../io/dtypes.js';
import { encodeSafetensors } from '../io/safetensors.js';
import { readSafetensors } from '../io/safetensors-fs.js';
import { OPTIMIZER_FILE, saveCheckpoint } from '../io/checkpoint.js';
import { llamaConfig, type ModelConfig } from '../model/config.js';
import { initParams, layerPrefix, paramShapes, type Params } from '../model/params.js';
import { loadModel } from '../model/load.js';
import { mapValues, toRaw } from '../model/raw.js';
import { residualWriters, weightTable } from '../model/weights.js';
import { writeHfDir, type DiskTensor } from '../hf/test-dirs.js';
import { transformCheckpoint } from './checkpoint.js';
import { applyPlan } from './run.js';
import { chainPlans, copyOutput, elementsOf, type PlanOutput, type TransformPlan } from './plan.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'es-transform-'));
const config = llamaConfig({ vocab: 24, hidden: 8, ffn: 12, layers: 2, heads: 2 });

/** A test plan: one more layer, a copy of the last with its residual writers zero; a seeded random bias on the final norm. */
function deeperPlan(c: ModelConfig, seed = 0): TransformPlan<{ added: number }> {
  const next: ModelConfig = { ...c, num_hidden_layers: c.num_hidden_layers + 1 };
  const last = c.num_hidden_layers - 1;
  const zero = new Set(residualWriters(c, last).map((n) => n.slice(layerPrefix(last).length)));
  const outputs: PlanOutput[] = weightTable(next).map((w) => {
    if (w.layer !== c.num_hidden_layers) {
      if (w.name !== 'model.norm.weight') return copyOutput(w.name, w.name, w.shape);
      return {
        name: w.name,
        shape: w.shape,
        compute: (read) => {
          const rng = createRng(seed, w.name);
          return read(w.name).map((v) => v + 0.01 * rng.normal());
        },
        moment: (read) => read(w.name),
      };
    }
    const suffix = w.name.slice(layerPrefix(w.layer).length);
    const from = layerPrefix(last) + suffix;
    if (zero.has(suffix)) return { name: w.name, shape: w.shape, compute: () => new Float32Array(elementsOf(w.shape)) };
    return copyOutput(from, w.name, w.shape);
  });
  return { config: next, outputs, report: { added: 1 } };
}

/** The source as transformers writes it: bf16 weights (values exact in bf16), sharded in 2, a tokenizer file. */
function bf16Source(dir: string, seed: number): Params {
  const params = initParams(config, seed, 0.5);
  const tensors: Record<string, DiskTensor> = {};
  const rounded: Params = {};
  for (const [name, t] of Object.entries(params)) {
    const bits = new Uint32Array(Float32Array.from(t.dataSync()).buffer).map((b) => b & 0xffff0000);
    const data = new Float32Array(bits.buffer);
    tensors[name] = { dtype: 'BF16', shape: t.shape, data };
    rounded[name] = tf.tensor(data, t.shape);
  }
  tf.dispose(Object.values(params));
  writeHfDir(dir, { ...config, torch_dtype: 'bfloat16' }, tensors, 2);
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), '{"model":{}}');
  return rounded;
}

const filesOf = (dir: string) => Object.fromEntries(fs.readdirSync(dir).sort().map((f) => [f, fs.readFileSync(path.join(dir, f))]));

describe('transformCheckpoint', () => {
  it('in memory and streamed write the same bytes; bf16 stays bf16 (copied tensors byte for byte), the tokenizer travels, the function is kept', () => {
    const root = tmp();
    const src = path.join(root, 'src');
    const params = bf16Source(src, 3);
    const mem = transformCheckpoint(src, path.join(root, 'mem'), ({ config: c }) => deeperPlan(c), { shardBytes: 600 });
    const str = transformCheckpoint(src, path.join(root, 'str'), ({ config: c }) => deeperPlan(c), { shardBytes: 600, stream: true });
    expect(filesOf(path.join(root, 'mem'))).toEqual(filesOf(path.join(root, 'str')));
    expect(mem).toMatchObject({ mode: 'memory', dtype: 'BF16', resumable: false, report: { added: 1 } });
    expect(str.mode).toBe('stream');
    expect(str.probe).toBeUndefined();
    expect(mem.files).toContain('tokenizer.json');
    expect(mem.files.filter((f) => f.startsWith('model-')).length).toBeGreaterThan(1);
    const written = JSON.parse(fs.readFileSync(path.join(root, 'mem', 'config.json'), 'utf8'));
    expect(written).toMatchObject({ num_hidden_layers: 3, torch_dtype: 'bfloat16' });
    // The copied embedding is the source's bf16 bytes.
    const index = JSON.parse(fs.readFileSync(path.join(root, 'mem', 'model.safetensors.index.json'), 'utf8'));
    const file = path.join(root, 'mem', index.weight_map['model.embed_tokens.weight']);
    const header = JSON.parse(fs.readFileSync(file).subarray(8, 8 + Number(fs.readFileSync(file).readBigUInt64LE(0))).toString());
    expect(header['model.embed_tokens.weight'].dtype).toBe('BF16');
    const model = loadModel(path.join(root, 'mem'));
    expect(model.params['model.embed_tokens.weight'].dataSync()).toEqual(params['model.embed_tokens.weight'].dataSync());
    // A zero-output copy and a perturbed final norm: the gap is the norm's noise, small and measured.
    expect(mem.probe!.maxAbsLogitDiff).toBeGreaterThan(0);
    expect(mem.probe!.maxAbsLogitDiff).toBeLessThan(0.5);
    tf.dispose([...Object.values(params), ...Object.values(model.params)]);
  });

  it('maps AdamW moments when the plan does: optimizer.safetensors and trainer_state.json travel, missing moments read as zero', () => {
    const root = tmp();
    const src = path.join(root, 'run', 'checkpoint'); // a run directory resolves to its checkpoint
    const params = initParams(config, 5);
    const optimizer = Object.fromEntries(
      Object.entries(params).flatMap(([n, t]) => (n === 'model.norm.weight' ? [] : [[`m.${n}`, tf.onesLike(t)], [`v.${n}`, tf.fill(t.shape, 2)]])),
    );
    saveCheckpoint(src, { config, params: mapValues(params, toRaw), optimizer: mapValues(optimizer, toRaw), trainerState: { step: 7 }, tokenizer: null });
    const r = transformCheckpoint(path.join(root, 'run'), path.join(root, 'out'), ({ config: c, hasOptimizer }) => {
      expect(hasOptimizer).toBe(true);
      return deeperPlan(c);
    });
    expect(r).toMatchObject({ resumable: true, dtype: 'F32' });
    expect(r.files).toEqual(expect.arrayContaining([OPTIMIZER_FILE, 'trainer_state.json']));
    const moments = readSafetensors(path.join(root, 'out', OPTIMIZER_FILE)).tensors;
    expect(Array.from(moments['v.model.layers.2.self_attn.q_proj.weight'].data)).toEqual(new Array(64).fill(2));
    expect(Array.from(moments['m.model.norm.weight'].data)).toEqual(new Array(8).fill(0)); // the source had none
    // A new weight gets zero moments (where AdamW starts them): every weight has both, as a resume requires.
    expect(Array.from(moments['m.model.layers.2.self_attn.o_proj.weight'].data)).toEqual(new Array(64).fill(0));
    // applyPlan gives the same moments in memory
    const applied = applyPlan(deeperPlan(config), params, optimizer);
    expect(applied.optimizer!['v.model.layers.2.self_attn.q_proj.weight'].dataSync()).toEqual(moments['v.model.layers.2.self_attn.q_proj.weight'].data);
    tf.dispose([...Object.values(params), ...Object.values(optimizer), ...Object.values(applied.params), ...Object.values(applied.optimizer!)]);
  });

  it('refuses a non-empty --out and leaves nothing behind when a computation fails', () => {
    const root = tmp();
    const src = path.join(root, 'src');
    bf16Source(src, 1);
    fs.mkdirSync(path.join(root, 'full'));
    fs.writeFileSync(path.join(root, 'full', 'x'), '');
    expect(() => transformCheckpoint(src, path.join(root, 'full'), ({ config: c }) => deeperPlan(c))).toThrow(/--out .*full: expected a new or empty directory, found 1 entries \(x\)/);
    const failing = (c: ModelConfig): TransformPlan => {
      const p = deeperPlan(c);
      p.outputs[3] = { ...p.outputs[3], compute: () => { throw new Error('boom'); } };
      return p;
    };
    for (const stream of [false, true]) expect(() => transformCheckpoint(src, path.join(root, 'out'), ({ config: c }) => failing(c), { stream })).toThrow('boom');
    expect(fs.readdirSync(root).sort()).toEqual(['full', 'src']);
    const wrongShape = (c: ModelConfig): TransformPlan => ({ ...deeperPlan(c), config: c });
    expect(() => transformCheckpoint(src, path.join(root, 'out'), ({ config: c }) => wrongShape(c))).toThrow(/not a weight of the new config/);
  });
});

describe('plans', () => {
  it('chainPlans runs the second plan on the first one\'s outputs, tensor by tensor', () => {
    const params = initParams(config, 2);
    const twice = chainPlans(deeperPlan(config, 1), deeperPlan(deeperPlan(config).config, 2));
    const direct = applyPlan(deeperPlan(deeperPlan(config).config, 2), applyPlan(deeperPlan(config, 1), params).params);
    const chained = applyPlan(twice, params);
    expect(Object.keys(chained.params).sort()).toEqual(Object.keys(paramShapes(twice.config)).sort());
    for (const [n, t] of Object.entries(direct.params)) expect(chained.params[n].dataSync(), n).toEqual(t.dataSync());
    tf.dispose([...Object.values(params), ...Object.values(direct.params), ...Object.values(chained.params)]);
  });

  it('the weight table names every weight with its role; residualWriters are o_proj and down_proj', () => {
    const table = weightTable(config);
    expect(table.map((w) => w.name)).toEqual(Object.keys(paramShapes(config)));
    expect(table.find((w) => w.name === 'model.embed_tokens.weight')!.role).toBe('embedding');
    expect(table.filter((w) => w.role === 'norm').length).toBe(2 * 2 + 1);
    expect(residualWriters(config, 1)).toEqual(['model.layers.1.self_attn.o_proj.weight', 'model.layers.1.mlp.down_proj.weight']);
  });
});

describe('the streamed writer', () => {
  it('shares saveCheckpoint\'s safetensors layout: a copy plan writes model.safetensors byte for byte', () => {
    const root = tmp();
    const params = initParams(config, 9);
    saveCheckpoint(path.join(root, 'src'), { config, params: mapValues(params, toRaw), tokenizer: null });
    const copy = (c: ModelConfig): TransformPlan => ({ config: c, outputs: weightTable(c).map((w) => copyOutput(w.name, w.name, w.shape)), report: {} });
    transformCheckpoint(path.join(root, 'src'), path.join(root, 'out'), ({ config: c }) => copy(c), { stream: true });
    const bytes = (d: string) => fs.readFileSync(path.join(root, d, 'model.safetensors'));
    expect(bytes('out').equals(bytes('src'))).toBe(true);
    expect(bytes('src').equals(Buffer.from(encodeSafetensors(mapValues(params, toRaw), { format: 'pt' })))).toBe(true);
    tf.dispose(Object.values(params));
  });
});

describe('encodeFloats', () => {
  it('bf16 and f16 round to nearest even; bf16-exact values and NaN survive', () => {
    const values = Float32Array.of(1, -2.5, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 65504, 1e6, 2 ** -24, 2 ** -26, NaN, -0);
    const bf16 = new Uint16Array(encodeFloats(values, 'BF16').slice().buffer);
    expect(Array.from(bf16.slice(0, 4), (b) => b.toString(16))).toEqual(['3f80', 'c020', '3f80', '3f82']); // ties to even
    expect(Number.isNaN(new Float32Array(new Uint32Array([bf16[8] << 16]).buffer)[0])).toBe(true);
    const halves = Float32Array.of(1, -2.5, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 65504, 1e6, 2 ** -24, 2 ** -26, NaN, -0, 3 * 2 ** -25);
    const f16 = new Uint16Array(encodeFloats(halves, 'F16').slice().buffer);
    expect(Array.from(f16, (b) => b.toString(16))).toEqual(['3c00', 'c100', '3c00', '3c02', '7bff', '7c00', '1', '0', '7e00', '8000', '2']);
  });
});
