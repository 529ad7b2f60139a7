import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { llamaConfig, loadModel, readSafetensors, tf } from '@efficientscale/core/node';
import { cli } from './test-util.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-upcycle-'));
const corpus = path.join(tmp, 'corpus.txt');
const configFile = path.join(tmp, 'config.json');
const run = path.join(tmp, 'run');
const quick = ['--corpus', corpus, '--batch', '2', '--seq', '16', '--backend', 'cpu'];

beforeAll(async () => {
  fs.writeFileSync(corpus, 'It was the best of times, it was the worst of times, it was the age of wisdom.\n'.repeat(60));
  fs.writeFileSync(configFile, JSON.stringify(llamaConfig({ vocab: 256, hidden: 16, ffn: 32, layers: 2, heads: 2, maxPositions: 64 })));
  const r = await cli('train', '--config', configFile, ...quick, '--steps', '3', '--out', run, '--json');
  expect(r.code, r.stderr).toBe(0);
});

describe('efficientscale upcycle', () => {
  it('writes a Mixtral checkpoint with optimizer state that eval reads and train --resume continues', async () => {
    const out = path.join(tmp, 'moe');
    const r = await cli('upcycle', run, '--out', out, '--experts', '4', '--top-k', '2', '--router-init', 'kmeans', '--corpus', corpus, '--backend', 'cpu', '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ experts: 4, topK: 2, mixtral: true, optimizer: 'copied', layers: [0, 1] });
    expect(report.maxAbsLogitDiff).toBeLessThan(1e-4);
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ architectures: ['MixtralForCausalLM'], model_type: 'mixtral', num_local_experts: 4, num_experts_per_tok: 2 });
    const opt = readSafetensors(path.join(out, 'optimizer.safetensors')).tensors;
    expect(opt['m.model.layers.1.block_sparse_moe.experts.3.w1.weight'].shape).toEqual([32, 16]);

    const dense = await cli('eval', run, ...quick, '--batches', '2', '--json');
    const moe = await cli('eval', out, ...quick, '--batches', '2', '--json');
    expect(moe.code, moe.stderr).toBe(0);
    expect(JSON.parse(moe.stdout).eval_loss).toBeCloseTo(JSON.parse(dense.stdout).eval_loss, 4);
    // eval shows each MoE layer's expert load; a dense checkpoint has none.
    const shares = JSON.parse(moe.stdout).expert_load;
    expect(Object.keys(shares)).toEqual(['0', '1']);
    for (const s of Object.values(shares) as number[][]) expect(s.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(JSON.parse(dense.stdout).expert_load).toBeUndefined();
    const text = await cli('eval', out, ...quick, '--batches', '1');
    expect(text.stdout).toMatch(/layer 1: busiest of 4 experts \d+\.\d% of the tokens, idlest \d+\.\d%/);

    const resumed = await cli('train', '--resume', out, '--out', path.join(tmp, 'moe-run'), '--steps', '5', '--corpus', corpus, '--backend', 'cpu', '--json');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).steps).toBe(5);
    // the resumed steps (4 and 5) log every MoE layer's per-expert token shares.
    const records = fs.readFileSync(path.join(tmp, 'moe-run', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(records.map((r) => r.step)).toEqual([4, 5]);
    for (const r of records) expect(Object.values(r.ffn_metrics.expert_load).map((s) => (s as number[]).length)).toEqual([4, 4]);
    expect(resumed.stderr).toMatch(/experts max \d+% min \d+%/);
    const trained = loadModel(path.join(tmp, 'moe-run', 'checkpoint'));
    expect(trained.params['model.layers.0.block_sparse_moe.gate.weight'].shape).toEqual([4, 16]);
    tf.dispose(Object.values(trained.params));
  });

  it('upcycles chosen layers into fine-grained experts and prints a one-line summary', async () => {
    const out = path.join(tmp, 'fine');
    const r = await cli('upcycle', run, '--out', out, '--experts', '2', '--top-k', '1', '--granularity', '4', '--layers', '1', '--reset-optimizer', '--backend', 'cpu');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/upcycled layers 1 to 8 experts \(top-4, ffn 8\)/);
    expect(r.stdout).toMatch(/load-balancing coefficient 0\.001; max \|Δlogit\|/);
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
    expect(config.efficientscale.ffn_kinds).toEqual(['dense', 'moe']);
    expect(config.router_aux_loss_coef).toBe(0.001);
    expect(config.efficientscale.ffn_options.moe).toEqual({ expert_intermediate_size: 8 });
  });

  it('writes --aux-loss-coef and --z-loss-coef into the config and keeps the function', async () => {
    const out = path.join(tmp, 'coef');
    const r = await cli('upcycle', run, '--out', out, '--experts', '4', '--top-k', '2', '--aux-loss-coef', '0.02', '--z-loss-coef', '1e-3', '--backend', 'cpu', '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ auxLossCoef: 0.02, zLossCoef: 0.001, mixtral: true });
    expect(report.maxAbsLogitDiff).toBeLessThan(1e-4);
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
    expect(config.router_aux_loss_coef).toBe(0.02);
    expect(config.efficientscale.ffn_options.moe).toEqual({ router_z_loss_coef: 0.001 });
    const text = await cli('upcycle', run, '--out', path.join(tmp, 'coef-text'), '--experts', '4', '--top-k', '2', '--aux-loss-coef', '0.02', '--z-loss-coef', '1e-3', '--backend', 'cpu');
    expect(text.stdout).toMatch(/load-balancing coefficient 0\.02, router z-loss 0\.001; max \|Δlogit\|/);
  });

  it('refuses impossible options with one line', async () => {
    const bad = await cli('upcycle', run, '--out', path.join(tmp, 'x'), '--experts', '2', '--top-k', '3', '--backend', 'cpu');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/topK: expected at most the number of experts \(2\), found 3/);
    const again = await cli('upcycle', path.join(tmp, 'moe'), '--out', path.join(tmp, 'y'), '--experts', '2', '--top-k', '1', '--backend', 'cpu');
    expect(again.stderr).toMatch(/expected a dense model/);
    const layers = await cli('upcycle', run, '--out', path.join(tmp, 'z'), '--experts', '2', '--top-k', '1', '--layers', 'odd', '--backend', 'cpu');
    expect(layers.code).toBe(2);
    for (const [flag, value] of [['--aux-loss-coef', '-0.1'], ['--z-loss-coef', 'x']]) {
      const coef = await cli('upcycle', run, '--out', path.join(tmp, 'c'), '--experts', '2', '--top-k', '1', flag, value, '--backend', 'cpu');
      expect(coef.code).toBe(2);
      // one line saying what was expected and found (and commander's hint where help is)
      expect(coef.stderr.trim().split('\n').filter((l) => l !== '(run with --help for usage)')).toHaveLength(1);
      expect(coef.stderr).toContain(`error: option '${flag} <c>' argument '${value}' is invalid. Expected a non-negative number, found "${value}".`);
      expect(fs.existsSync(path.join(tmp, 'c'))).toBe(false);
    }
  });
});
