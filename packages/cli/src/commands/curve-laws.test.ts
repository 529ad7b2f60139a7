import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { llamaConfig } from '@efficientscale/core';
import { cli } from './test-util.js';

// Three short real runs of one small model on the embedded corpus (constant, cosine, WSD), logging the
// held-out loss every 10 steps: what `fit --law annealing` and `predict --schedule` are for.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-curves-'));
const config = path.join(tmp, 'config.json');
const runDir = (schedule: string) => path.join(tmp, schedule);
const STEPS = 300;

beforeAll(async () => {
  fs.writeFileSync(config, JSON.stringify(llamaConfig({ vocab: 256, hidden: 16, ffn: 44, layers: 1, heads: 2, maxPositions: 64 })));
  for (const schedule of ['constant', 'cosine', 'wsd']) {
    const r = await cli('train', '--config', config, '--batch', '4', '--seq', '32', '--steps', String(STEPS), '--lr', '0.01', '--schedule', schedule, '--eval-every', '10', '--eval-batches', '2', '--out', runDir(schedule), '--json');
    expect(r.code, r.stderr).toBe(0);
  }
}, 120_000);

describe('train --eval-every', () => {
  it('logs the held-out loss every n steps and at the last step', () => {
    const records = fs.readFileSync(path.join(runDir('cosine'), 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(records.filter((r) => typeof r.eval_loss === 'number').map((r) => r.step)).toEqual(Array.from({ length: 30 }, (_, i) => 10 * (i + 1)));
  });
});

describe('fit --law annealing|multipower and predict --schedule on run directories', () => {
  const law = path.join(tmp, 'law.json');

  it('fits constant + cosine, writes the law and a plot, and predicts the WSD run it never saw within 3%', async () => {
    const plot = path.join(tmp, 'fit.svg');
    const fit = await cli('fit', runDir('constant'), runDir('cosine'), '--law', 'annealing', '--bootstrap', '10', '--out', law, '--plot', plot, '--json');
    expect(fit.code, fit.stderr).toBe(0);
    const json = JSON.parse(fit.stdout);
    expect(json.law).toBe('annealing');
    expect(json.joint).toBe(false);
    expect(Object.keys(json.params)).toEqual(['L0', 'A', 'alpha', 'C', 'lambda']);
    expect(json.fit.runs.map((r: { name: string }) => r.name)).toEqual(['constant', 'cosine']);
    expect(json.bootstrap.unit).toBe('blocks');
    expect(fs.readFileSync(plot, 'utf8')).toMatch(/^<svg/);

    const wsdPlot = path.join(tmp, 'wsd.svg');
    const p = await cli('predict', '--law', law, '--schedule', runDir('wsd'), '--plot', wsdPlot, '--json');
    expect(p.code, p.stderr).toBe(0);
    const pred = JSON.parse(p.stdout);
    expect(pred.final.step).toBe(STEPS);
    expect(pred.final.interval[0]).toBeLessThanOrEqual(pred.final.loss);
    expect(pred.final.interval[1]).toBeGreaterThanOrEqual(pred.final.loss);
    expect(Math.abs(pred.measured.error)).toBeLessThan(0.03);
    expect(fs.readFileSync(wsdPlot, 'utf8')).toContain('measured');

    const text = await cli('predict', '--law', law, '--schedule', runDir('wsd'));
    expect(text.stdout).toMatch(/^annealing law \(.*law\.json\): the schedule of wsd, 300 steps\npredicted loss at step 300: [\d.]+ \(95% interval [\d.]+ – [\d.]+\)\nmeasured: [\d.]+ \(prediction error [+-]\d+\.\d\d%\)\n$/);
  }, 60_000);

  it('predicts along a named schedule, with the peak LR and warmup of the runs the law was fitted on', async () => {
    const r = await cli('predict', '--law', law, '--schedule', 'wsd', '--steps', '600');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wsd schedule, 600 steps, peak LR 0\.01, 10 warmup steps, down to 0\.1× the peak over the last 20%/);
    const longer = JSON.parse((await cli('predict', '--law', law, '--schedule', 'wsd', '--steps', '600', '--json')).stdout);
    const shorter = JSON.parse((await cli('predict', '--law', law, '--schedule', 'wsd', '--steps', '300', '--json')).stdout);
    expect(longer.final.loss).toBeLessThan(shorter.final.loss);
  });

  it('predicts the end of a run from its first 30% (--from-run --until-step), and holds a prior law\'s annealing shape', async () => {
    const r = await cli('predict', '--from-run', runDir('cosine'), '--until-step', '90', '--json');
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.fittedUntil).toBe(90);
    expect(json.final.step).toBe(STEPS);
    expect(json.measured.step).toBe(STEPS);
    // A WSD run's first 30% never anneals: the fit warns, unless a prior law holds C and λ.
    const alone = await cli('predict', '--from-run', runDir('wsd'), '--until-step', '90');
    expect(alone.stderr).toMatch(/^warning: no fitted run anneals its LR before its last fitted loss: C, lambda are not identified/);
    const held = await cli('predict', '--from-run', runDir('wsd'), '--until-step', '90', '--law', law, '--json');
    expect(held.stderr).toBe('');
    const heldJson = JSON.parse(held.stdout);
    expect(heldJson.params_fitted.C).toBeCloseTo(JSON.parse(fs.readFileSync(law, 'utf8')).params.C, 9);
  });

  it('fits the multi-power law too', async () => {
    const r = await cli('fit', runDir('constant'), runDir('cosine'), '--law', 'multipower', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(Object.keys(JSON.parse(r.stdout).params)).toEqual(['L0', 'A', 'alpha', 'B', 'C', 'beta', 'gamma']);
  });

  it('refuses, in one line, a corrupt run, a run too short to fit, and a point law asked for a schedule', async () => {
    const corrupt = path.join(tmp, 'corrupt');
    fs.mkdirSync(corrupt);
    const lines = fs.readFileSync(path.join(runDir('constant'), 'metrics.jsonl'), 'utf8').split('\n');
    fs.writeFileSync(path.join(corrupt, 'metrics.jsonl'), [...lines.slice(0, 40), JSON.stringify({ step: 41, eval_loss: 2 }), ...lines.slice(41)].join('\n'));
    const c = await cli('fit', corrupt, '--law', 'annealing');
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/^error: .*corrupt\/metrics\.jsonl line 41: lr: expected the step's learning rate .*found nothing\n$/);

    const short = path.join(tmp, 'short');
    fs.mkdirSync(short);
    fs.writeFileSync(path.join(short, 'metrics.jsonl'), lines.slice(0, 45).join('\n'));
    const s = await cli('fit', short, '--law', 'annealing');
    expect(s.code).toBe(1);
    expect(s.stderr).toMatch(/^error: .*short\/metrics\.jsonl: losses: expected at least 5 measured after the warmup and the first 10% of steps .*found 3 of 4 \(at steps 10, 20, 30, 40\)\n$/);

    const point = path.join(tmp, 'point.json');
    fs.writeFileSync(point, JSON.stringify({ format: 'efficientscale.scaling-law', version: 1, law: 'chinchilla', formula: '', params: { A: 400, B: 400, E: 1.7, alpha: 0.34, beta: 0.28 }, fit: {} }));
    const pl = await cli('predict', '--law', point, '--schedule', 'wsd', '--steps', '100');
    expect(pl.code).toBe(1);
    expect(pl.stderr).toMatch(/^error: --law .*point\.json: expected a whole-curve law .* found a chinchilla law\n$/);
  });
});
