import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readMetrics, tf } from '@efficientscale/core/node';
import { catchUp } from '@efficientscale/progressive';
import { cli } from '../commands/test-util.js';
import { evalPoints } from '../plot/loss-curves.js';
import { flopSaving } from './saving.js';
import { summarizeSavings, type SavingSummary, type SeedResult } from './seeds.js';
import { writeTestPlan } from './test-plans.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'es-pipeline-seeds-'));

function writePlan(name: string): string {
  return writeTestPlan(path.join(root, name), {
    name,
    batch: 2,
    seq: 16,
    lr: 0.01,
    evalsPerStage: 2,
    evalBatches: 2,
    checkpointsPerStage: 1,
    stages: [
      { type: 'train', name: 'dense', model: { hidden: 16, layers: 1, heads: 2, ffn: 32 }, steps: 8 },
      { type: 'grow', hidden: 32, heads: 4, ffn: 64, layers: 2 },
      { type: 'train', name: 'grown', steps: 6 },
      // A short baseline (3 steps), so that the pipeline reaches it and each seed has a saving to summarise.
      { type: 'baseline', tokens: 96 },
    ],
  });
}

describe('summarizeSavings', () => {
  it('gives the median and range of the per-seed savings; a seed that did not reach its baseline counts as the worst', () => {
    expect(summarizeSavings([0.481, 0.633, 0.464])).toEqual({ median: 0.481, min: 0.464, max: 0.633, reached: 3, seeds: 3 });
    expect(summarizeSavings([0.4, 0.2, 0.1, 0.3])).toEqual({ median: 0.25, min: 0.1, max: 0.4, reached: 4, seeds: 4 });
    expect(summarizeSavings([0.4, null, 0.3])).toEqual({ median: 0.3, min: undefined, max: 0.4, reached: 2, seeds: 3 });
    expect(summarizeSavings([null, null, 0.3])).toEqual({ median: undefined, min: undefined, max: 0.3, reached: 1, seeds: 3 });
    expect(summarizeSavings([-0.2])).toEqual({ median: -0.2, min: -0.2, max: -0.2, reached: 1, seeds: 1 });
  });
});

describe('pipeline --seeds --lr-sweep', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('runs pipeline and swept baselines per seed, measures each seed against its best baseline, and reports the median and range of the per-seed savings', async () => {
    const file = writePlan('seeds');
    const out = path.join(root, 'seeds', 'out');
    const r = await cli('pipeline', file, '--seeds', '0,1,2', '--lr-sweep', '0.5,2', '--json', '--backend', 'cpu');
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as { complete: boolean; seeds: SeedResult[]; saving: SavingSummary; files: string[] };
    expect(json.complete).toBe(true);
    expect(json.seeds.map((s) => s.seed)).toEqual([0, 1, 2]);
    for (const s of json.seeds) {
      expect(s.out).toBe(path.join(out, `seed-${s.seed}`));
      expect(fs.readdirSync(s.out).filter((d) => /^\d\d-/.test(d)).sort()).toEqual(['01-dense', '02-grow', '03-grown', '04-baseline-x0.5', '05-baseline-x2']);
      // The sweep: the baseline at ×0.5 and ×2 of the plan's peak LR; the bar is the one that ended lowest.
      expect(s.baselines.map((b) => b.lr)).toEqual([0.005, 0.02]);
      const finals = s.baselines.map((b) => b.finalLoss!);
      const best = finals.indexOf(Math.min(...finals));
      expect(s.baselineLr).toBe(s.baselines[best].lr);
      expect(s.targetLoss).toBe(finals[best]);
      // The saving is measured on this seed's own curves against that baseline.
      const chained = ['01-dense', '03-grown'].flatMap((d) => evalPoints(readMetrics(path.join(s.out, d, 'metrics.jsonl')), 'flops'));
      const baseline = evalPoints(readMetrics(path.join(s.out, best === 0 ? '04-baseline-x0.5' : '05-baseline-x2', 'metrics.jsonl')), 'flops');
      expect(s.saving).toBe(flopSaving(chained, baseline).saving ?? null);
      // The growth measurement: tokens after the grow until the grown stage's curve met the baseline's at equal tokens.
      const bestDir = best === 0 ? '04-baseline-x0.5' : '05-baseline-x2';
      const met = catchUp(evalPoints(readMetrics(path.join(s.out, '03-grown', 'metrics.jsonl')), 'tokens'), evalPoints(readMetrics(path.join(s.out, bestDir, 'metrics.jsonl')), 'tokens'), 256);
      expect(s.catchUp).toEqual([{ stage: '2 grow', atTokens: 256, tokens: met.after ?? null }]);
    }
    // Each seed's weights and data differ: the first evaluation is not the same across seeds.
    const firstEvals = json.seeds.map((s) => readMetrics(path.join(s.out, '01-dense', 'metrics.jsonl')).find((m) => typeof m.eval_loss === 'number')!.eval_loss);
    expect(new Set(firstEvals).size).toBe(3);
    expect(json.seeds.every((s) => typeof s.saving === 'number')).toBe(true);
    expect(json.saving).toEqual(summarizeSavings(json.seeds.map((s) => s.saving)));
    const sorted = json.seeds.map((s) => s.saving!).sort((a, b) => a - b);
    expect([json.saving.min, json.saving.median, json.saving.max]).toEqual(sorted);
    const report = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    const pct = (x: number | null | undefined) => (x === null || x === undefined ? 'not reached' : `${(100 * x).toFixed(1)}%`);
    expect(report).toContain(`Compute saved: median ${pct(json.saving.median)}`);
    for (const s of json.seeds) expect(report).toMatch(new RegExp(`\\| ${s.seed} \\|.*\\| ${pct(s.saving).replace('.', '\\.')} \\|`));
    expect(report).toContain('×0.5, ×2 of its peak learning rate (0.01)');
    expect(fs.readFileSync(path.join(out, 'seed-0', 'report.md'), 'utf8')).toContain('## Catch-up after each transform');
    const plot = fs.readFileSync(path.join(out, 'loss-vs-flops.svg'), 'utf8');
    for (const seed of [0, 1, 2]) {
      expect(plot).toContain(`seed ${seed} pipeline`);
      expect(plot).toContain(`seed ${seed} baseline`);
    }
    expect(JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')).seeds).toEqual(json.seeds);
    // Each seed keeps its own full report, with every baseline.
    expect(fs.readFileSync(path.join(out, 'seed-1', 'report.md'), 'utf8')).toContain('Baselines, one per peak learning rate');
  }, 300_000);

  it('refuses a repeated seed, a bad list and a sweep without exactly one baseline in one line', async () => {
    const file = writePlan('bad');
    const twice = await cli('pipeline', file, '--seeds', '1,1', '--backend', 'cpu');
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('--seeds: expected each seed once, found 1 twice');
    const list = await cli('pipeline', file, '--seeds', '0,x', '--backend', 'cpu');
    expect(list.code).not.toBe(0);
    expect(list.stderr).toContain('--seeds: expected a comma-separated list of non-negative integers, found "0,x"');
    const plan = JSON.parse(fs.readFileSync(file, 'utf8'));
    fs.writeFileSync(file, JSON.stringify({ ...plan, stages: plan.stages.slice(0, 3) }));
    const sweep = await cli('pipeline', file, '--lr-sweep', '0.5,2', '--backend', 'cpu');
    expect(sweep.code).toBe(1);
    expect(sweep.stderr).toContain('--lr-sweep: expected a plan with one baseline stage (the sweep runs it at each learning-rate multiplier), found 0 baseline stages');
    expect(fs.existsSync(path.join(root, 'bad', 'out'))).toBe(false);
  });
});
