import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { copyOutput, initParams, llamaConfig, mapValues, saveCheckpoint, tf, toRaw, transformCheckpoint, weightTable, type ModelConfig, type Params, type RawTensor, type TransformPlan } from '@efficientscale/core/node';
import { planGrow } from '@efficientscale/progressive';
import { planUpcycle } from '@efficientscale/moe';
import { planDense, planLowRank, toLowRank } from '@efficientscale/lowrank';

// The property behind --stream: a plan run in memory and run tensor by tensor writes the same bytes, for
// every transform, random models (GQA, head dims, FFN sizes, tied heads), bf16 or float32 sources and
// sources with or without AdamW moments.

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'es-stream-identity-'));
let cases = 0;

const modelArb = fc.record({
  vocab: fc.integer({ min: 8, max: 40 }),
  headDim: fc.constantFrom(2, 4),
  kvHeads: fc.integer({ min: 1, max: 2 }),
  rep: fc.constantFrom(1, 2),
  ffn: fc.integer({ min: 4, max: 16 }).map((f) => 2 * f),
  layers: fc.integer({ min: 1, max: 3 }),
  tied: fc.boolean(),
  bf16: fc.boolean(),
  moments: fc.boolean(),
  seed: fc.integer({ min: 0, max: 10_000 }),
});
type Model = typeof modelArb extends fc.Arbitrary<infer T> ? T : never;

/** bf16 sources hold values exact in bf16 (the top half of each float32), as a bf16 checkpoint read back does. */
const asBf16 = (t: RawTensor): RawTensor => ({ ...t, data: new Float32Array(new Uint32Array((t.data as Float32Array).slice().buffer).map((b) => b & 0xffff0000).buffer) });

function writeSource(m: Model, transform: (c: ModelConfig, p: Params) => { config: ModelConfig; params: Params } = (config, params) => ({ config, params })): string {
  const heads = m.kvHeads * m.rep;
  const base = llamaConfig({ vocab: m.vocab, hidden: heads * m.headDim, ffn: m.ffn, layers: m.layers, heads, kvHeads: m.kvHeads, tied: m.tied, maxPositions: 16 });
  const init = initParams(base, m.seed, 0.3);
  const { config, params } = transform(base, init);
  const dir = path.join(root, `case-${++cases}`, 'src');
  const raw = mapValues(params, toRaw);
  const weights = m.bf16 ? mapValues(raw, asBf16) : raw;
  const optimizer = m.moments ? Object.fromEntries(Object.entries(raw).flatMap(([n, t]) => [[`m.${n}`, t], [`v.${n}`, { ...t, data: (t.data as Float32Array).map((x) => x * x) }]])) : undefined;
  saveCheckpoint(dir, { config: m.bf16 ? { ...config, torch_dtype: 'bfloat16' } : config, params: weights, optimizer, tokenizer: null });
  if (m.bf16) rewriteAsBf16(dir);
  tf.dispose([...Object.values(init), ...(params !== init ? Object.values(params) : [])]);
  return dir;
}

/** Re-writes model.safetensors with BF16 tensors (a copy plan storing BF16, so the source is what a bf16 checkpoint is). */
function rewriteAsBf16(dir: string): void {
  const tmp = `${dir}-bf16`;
  transformCheckpoint(dir, tmp, ({ config }) => ({ config, outputs: copyAll(config, 'BF16'), report: {} }), { stream: true });
  fs.copyFileSync(path.join(tmp, 'model.safetensors'), path.join(dir, 'model.safetensors'));
  fs.rmSync(tmp, { recursive: true });
}

function copyAll(config: ModelConfig, dtype: 'BF16'): TransformPlan['outputs'] {
  return weightTable(config).map((w) => ({ ...copyOutput(w.name, w.name, w.shape), dtype }));
}

/** Runs `plan` both ways (the same shard limit, sharded in most cases) and compares every file byte for byte. */
function sameBytes(src: string, plan: (config: ModelConfig) => TransformPlan): void {
  const dir = path.dirname(src);
  const shardBytes = [512, 4096, 2 ** 31][cases % 3];
  const memory = transformCheckpoint(src, path.join(dir, 'memory'), ({ config }) => plan(config), { shardBytes });
  const streamed = transformCheckpoint(src, path.join(dir, 'streamed'), ({ config }) => plan(config), { shardBytes, stream: true });
  const files = (d: string) => fs.readdirSync(path.join(dir, d)).sort();
  expect(files('streamed')).toEqual(files('memory'));
  for (const f of files('memory')) expect(fs.readFileSync(path.join(dir, 'streamed', f)).equals(fs.readFileSync(path.join(dir, 'memory', f))), f).toBe(true);
  expect(streamed).toMatchObject({ dtype: memory.dtype, resumable: memory.resumable, tensors: memory.tensors });
  fs.rmSync(dir, { recursive: true });
}

const runs = { numRuns: 12 };

describe('in memory and --stream write the same bytes (fast-check)', () => {
  it('grow: width (fpi, aki, lossless) then depth (every method), chained', () => {
    fc.assert(
      fc.property(modelArb, fc.constantFrom('fpi' as const, 'aki' as const, 'lossless' as const), fc.constantFrom('zero' as const, 'random' as const, 'copy' as const, 'interpolate' as const, 'stack' as const), fc.boolean(), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 2 }), (m, widthMethod, depthMethod, wider, extraFfn, extraLayers) => {
        const src = writeSource(m);
        const hidden = m.kvHeads * m.rep * m.headDim;
        sameBytes(src, (config) => planGrow(config, { hidden: wider ? 2 * hidden : undefined, ffn: m.ffn + extraFfn, widthMethod, layers: m.layers + extraLayers, depthMethod, seed: m.seed }));
      }),
      runs,
    );
  });

  it('upcycle: random or zero routers, noise, drop-upcycling, granularity, chosen layers, moments copied or reset', () => {
    fc.assert(
      fc.property(modelArb, fc.integer({ min: 1, max: 4 }), fc.constantFrom('random' as const, 'zero' as const), fc.constantFrom(0, 0.05), fc.constantFrom(0, 0.5), fc.constantFrom(1, 2), fc.constantFrom('all' as const, 'even' as const), fc.boolean(), (m, experts, routerInit, noise, dropFraction, granularity, layers, resetOptimizer) => {
        const src = writeSource(m);
        sameBytes(src, (config) => planUpcycle(config, { experts, topK: 1, routerInit, noise, dropFraction, granularity, layers, seed: m.seed, resetOptimizer }));
      }),
      runs,
    );
  });

  it('lowrank (rank or fraction, shared V) and export --dense of a low-rank source', () => {
    fc.assert(
      fc.property(modelArb.filter((m) => m.layers >= 2), fc.integer({ min: 1, max: 6 }), fc.boolean(), fc.boolean(), (m, rank, shareGateUpV, byFraction) => {
        const src = writeSource(m);
        sameBytes(src, (config) => planLowRank(config, byFraction ? { fraction: 0.3, shareGateUpV } : { rank, shareGateUpV, force: true, seed: m.seed }));
        const lowSrc = writeSource(m, (config, params) => toLowRank(config, params, { rank, force: true, shareGateUpV }));
        sameBytes(lowSrc, (config) => planDense(config));
      }),
      runs,
    );
  });
});
