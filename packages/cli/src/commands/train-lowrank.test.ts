import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { llamaConfig, readSafetensors } from '@efficientscale/core/node';
import { cli } from './test-util.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-train-lowrank-'));
const corpus = path.join(tmp, 'corpus.txt');
const configFile = path.join(tmp, 'config.json');
const quick = ['--config', configFile, '--corpus', corpus, '--batch', '2', '--seq', '16', '--backend', 'cpu', '--json'];

const weightNames = (dir: string) => Object.keys(readSafetensors(path.join(dir, 'checkpoint', 'model.safetensors')).tensors).sort();
const optimizerNames = (dir: string) => Object.keys(readSafetensors(path.join(dir, 'checkpoint', 'optimizer.safetensors')).tensors).sort();
const savedConfig = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint', 'config.json'), 'utf8'));
const metrics = (dir: string) => fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

beforeAll(() => {
  fs.writeFileSync(corpus, 'It was the best of times, it was the worst of times, it was the age of wisdom.\n'.repeat(60));
  fs.writeFileSync(configFile, JSON.stringify(llamaConfig({ vocab: 256, hidden: 16, ffn: 32, layers: 2, heads: 2, maxPositions: 64 })));
});

describe('efficientscale train --ffn lowrank', () => {
  it('trains a low-rank model from scratch whose checkpoint resumes and evaluates', async () => {
    const dense = path.join(tmp, 'dense');
    const low = path.join(tmp, 'low');
    const d = await cli('train', ...quick, '--steps', '2', '--out', dense);
    const r = await cli('train', ...quick, '--steps', '2', '--out', low, '--ffn', 'lowrank', '--fraction', '0.32');
    expect(r.code, r.stderr).toBe(0);
    const config = savedConfig(low);
    expect(config.efficientscale.ffn_kinds).toEqual(['dense', 'lowrank']);
    // 0.32 · 3·16·32 / (3·(16+32)) = 3.41 → rank 3, stored resolved.
    expect(config.efficientscale.ffn_options.lowrank).toEqual({ layer_ranks: { 1: { gate_proj: 3, up_proj: 3, down_proj: 3 } } });
    const names = weightNames(low);
    expect(names).toContain('model.layers.1.mlp.up_proj.weight_u');
    expect(names).not.toContain('model.layers.1.mlp.up_proj.weight');
    expect(names).toContain('model.layers.0.mlp.up_proj.weight');
    const saved = 3 * 16 * 32 - 3 * 3 * (16 + 32);
    expect(JSON.parse(d.stdout).params - JSON.parse(r.stdout).params).toBe(saved);

    const resumed = await cli('train', '--resume', low, '--steps', '4', '--corpus', corpus, '--backend', 'cpu', '--json');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).steps).toBe(4);
    expect(metrics(low).map((m) => m.step)).toEqual([1, 2, 3, 4]);
    const e = await cli('eval', low, '--corpus', corpus, '--batch', '2', '--seq', '16', '--batches', '1', '--backend', 'cpu', '--json');
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout).eval_loss).toBeCloseTo(JSON.parse(resumed.stdout).eval_loss, 0);
  });

  it('--self-guided anneals over a share of the steps and drops W: the checkpoint after it is a plain low-rank one', async () => {
    const dir = path.join(tmp, 'guided');
    const r = await cli('train', ...quick, '--steps', '6', '--lr', '0.01', '--out', dir, '--ffn', 'lowrank', '--rank', '4', '--self-guided', '0.5', '--no-keep-first-dense');
    expect(r.code, r.stderr).toBe(0);
    const config = savedConfig(dir);
    expect(config.efficientscale.ffn_kinds).toEqual(['lowrank', 'lowrank']);
    expect(config.efficientscale.ffn_options.lowrank).toEqual({ layer_ranks: { 0: { gate_proj: 4, up_proj: 4, down_proj: 4 }, 1: { gate_proj: 4, up_proj: 4, down_proj: 4 } } });
    expect(weightNames(dir).filter((n) => n.includes('mlp') && n.endsWith('.weight'))).toEqual([]);
    expect(optimizerNames(dir).filter((n) => n.includes('mlp') && n.endsWith('.weight'))).toEqual([]);
    const m = metrics(dir);
    expect(m.map((x) => x.step)).toEqual([1, 2, 3, 4, 5, 6]);
    // The guide's dense weights run (and count) for steps 1..3, not after they are dropped.
    expect(m[3].flops - m[2].flops).toBeLessThan(m[1].flops - m[0].flops);
    // The logged parameter count is the model's as it is: with W up to step 3, without it after.
    expect(m[3].params).toBe(JSON.parse(r.stdout).params);
    expect(m[1].params - m[3].params).toBe(2 * 3 * 16 * 32);
    expect(m[5].loss).toBeLessThan(m[0].loss);
    const e = await cli('eval', dir, '--corpus', corpus, '--batch', '2', '--seq', '16', '--batches', '1', '--backend', 'cpu', '--json');
    expect(e.code, e.stderr).toBe(0);
    const stochastic = path.join(tmp, 'stochastic');
    const s = await cli('train', ...quick, '--steps', '4', '--out', stochastic, '--ffn', 'lowrank', '--rank', '4', '--self-guided', '0.5', '--guide-stochastic');
    expect(s.code, s.stderr).toBe(0);
    expect(savedConfig(stochastic).efficientscale.ffn_options.lowrank).toEqual({ layer_ranks: { 1: { gate_proj: 4, up_proj: 4, down_proj: 4 } } });
  });

  it('refuses low-rank flags without --ffn lowrank, a missing or doubled rank, and a rank at break-even', async () => {
    const out = (name: string) => ['--out', path.join(tmp, name)];
    const stray = await cli('train', ...quick, '--steps', '1', ...out('x1'), '--fraction', '0.3');
    expect(stray.code).toBe(1);
    expect(stray.stderr).toMatch(/--fraction: expected --ffn lowrank beside it, found no --ffn/);
    const none = await cli('train', ...quick, '--steps', '1', ...out('x2'), '--ffn', 'lowrank');
    expect(none.stderr).toMatch(/--ffn lowrank: expected exactly one of --rank, --fraction, found 0/);
    const guided = await cli('train', ...quick, '--steps', '1', ...out('x3'), '--ffn', 'lowrank', '--rank', '2', '--self-guided', '1.5');
    expect(guided.stderr).toMatch(/--self-guided: expected a fraction of the steps in \(0, 1\], found 1.5/);
    const even = await cli('train', ...quick, '--steps', '1', ...out('x4'), '--ffn', 'lowrank', '--rank', '11');
    expect(even.code).toBe(1);
    expect(even.stderr).toMatch(/break-even rank 10\.67/);
    const lone = await cli('train', ...quick, '--steps', '1', ...out('x5'), '--ffn', 'lowrank', '--rank', '2', '--guide-stochastic');
    expect(lone.stderr).toMatch(/--guide-stochastic: expected --self-guided f beside it, found none/);
    for (const x of ['x1', 'x2', 'x3', 'x5']) expect(fs.existsSync(path.join(tmp, x, 'checkpoint'))).toBe(false);
  });
});
