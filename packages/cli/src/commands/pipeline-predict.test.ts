import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@efficientscale/core';
import { predictCurve, type CurveLawEstimate } from '@efficientscale/scaling-laws';
import { layoutStages, loadPlan, predictStages } from '../pipeline/index.js';
import { stageLearningRates } from '../pipeline/predict.js';
import { writeTestPlan } from '../pipeline/test-plans.js';
import { readAnyLawFile } from './predict.js';
import { cli } from './test-util.js';

// A plan with pilots: three small dense sizes (one of them twice, constant and WSD) trained first; the
// annealing law fitted on them predicts the plan's stages before they train.
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'es-pipeline-predict-'));
const plan = {
  name: 'predict',
  batch: 4,
  seq: 16,
  lr: 0.01,
  evalsPerStage: 8,
  evalBatches: 2,
  checkpointsPerStage: 1,
  stages: [
    { type: 'train', name: 'dense', model: { hidden: 16, layers: 1, heads: 2, ffn: 32 }, steps: 60 },
    { type: 'grow', hidden: 32, heads: 4, ffn: 64, layers: 2 },
    { type: 'train', name: 'grown', steps: 40 },
    { type: 'baseline' },
  ],
  pilots: [
    { model: { hidden: 8, layers: 1, heads: 2, ffn: 16 }, steps: 100 },
    { model: { hidden: 16, layers: 1, heads: 2, ffn: 32 }, steps: 100 },
    { model: { hidden: 16, layers: 1, heads: 2, ffn: 32 }, steps: 100, schedule: 'constant' },
    { model: { hidden: 24, layers: 1, heads: 2, ffn: 48 }, steps: 100 },
  ],
};
const file = writeTestPlan(root, plan);
const law = path.join(root, 'law.json');

describe('pipeline --law: a plan that predicts its own outcome', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('--pilots trains the pilots and writes a law fitted on their sizes', async () => {
    const r = await cli('pipeline', file, '--pilots', '--law', law, '--backend', 'cpu');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/law fitted on 4 pilots \(3 sizes, RMS error [\d.]+%\) written to .*law\.json/);
    const est = readAnyLawFile(law);
    expect(est.kind).toBe('curve');
    expect(est.kind === 'curve' && est.joint).toBe(true);
    expect(fs.readdirSync(path.join(root, 'out', 'pilots')).sort()).toEqual(['1-h8-l1-wsd', '2-h16-l1-wsd', '3-h16-l1-constant', '4-h24-l1-wsd']);
    // Again: the pilots are complete and are not trained a second time.
    const again = await cli('pipeline', file, '--pilots', '--law', path.join(root, 'law2.json'), '--backend', 'cpu');
    expect(again.stderr.match(/complete, skipped/g)).toHaveLength(4);
  }, 120_000);

  it('the dry run states each train stage\'s and the baseline\'s predicted final eval loss; the first stage and the baseline are the law along their schedules', async () => {
    const r = await cli('pipeline', file, '--dry-run', '--law', law, '--json', '--backend', 'cpu');
    expect(r.code, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout) as { stages: { kind: string; predicted_loss?: number }[]; prediction: string };
    expect(d.stages.map((s) => s.predicted_loss !== undefined)).toEqual([true, false, true, true]);
    expect(d.prediction).toMatch(/^predicted final eval loss \(annealing law, .*law\.json\): baseline [\d.]+ \([\d.]+–[\d.]+\), pipeline [\d.]+/);
    const est = readAnyLawFile(law) as CurveLawEstimate & { kind: 'curve' };
    const p = loadPlan(file);
    const layout = layoutStages(p);
    const baselineLr = stageLearningRates(p, layout, true);
    expect(d.stages[3].predicted_loss).toBeCloseTo(predictCurve(est, baselineLr, { params: layout[3].params, steps: [100] }).loss[0], 9);
    const text = await cli('pipeline', file, '--dry-run', '--law', law, '--backend', 'cpu');
    expect(text.stdout).toMatch(/est\. time +predicted loss\n/);
  });

  it('a continuing stage started from the law\'s own loss for its size follows that size\'s curve', () => {
    const p = loadPlan(file);
    const layout = layoutStages(p);
    const est = readAnyLawFile(law) as CurveLawEstimate & { kind: 'curve' };
    const lr = stageLearningRates(p, layout, false);
    const own = predictCurve(est, lr, { params: layout[2].params, steps: [60, 100] }).loss;
    const [, grown] = predictStages(p, layout, est, new Map([[2, own[0]]]));
    expect(grown.loss).toBeCloseTo(own[1], 9);
  });

  it('the report sets each prediction beside the measurement, with the error and a plot', async () => {
    const r = await cli('pipeline', file, '--law', law, '--json', '--backend', 'cpu');
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as { report: { prediction: { rows: { label: string; predicted: number; measured: number; error: number; fromMeasuredStart: number | null }[]; baseline: { error: number }; pipeline: { error: number } } } };
    const rows = json.report.prediction.rows;
    expect(rows.map((x) => x.label)).toEqual(['1 dense', '3 grown', '4 baseline']);
    for (const row of rows) expect(row.error).toBeCloseTo(row.predicted / row.measured - 1, 12);
    expect(rows[1].fromMeasuredStart).not.toBeNull();
    expect(json.report.prediction.pipeline.error).toBe(rows[1].error);
    const md = fs.readFileSync(path.join(root, 'out', 'report.md'), 'utf8');
    expect(md).toContain('## Predicted beside measured');
    expect(md).toMatch(/\| 4 baseline \| [\d.]+ \([\d.]+–[\d.]+\) \| [\d.]+ \| [+-]\d+\.\d\d% \|/);
    expect(fs.readFileSync(path.join(root, 'out', 'prediction.svg'), 'utf8')).toMatch(/^<svg/);
  }, 120_000);

  it('fit --law annealing reads the pipeline output (its runs from scratch: the pilots, the first stage, the baseline); predict --schedule takes one of its stages', async () => {
    const out = path.join(root, 'out');
    const fitted = path.join(root, 'from-output.json');
    const r = await cli('fit', out, '--law', 'annealing', '--out', fitted, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^out\/03-grown: left out \(it continues a transformed model from step 61; a curve law follows runs from step 1\)$/m);
    const runs = (JSON.parse(fs.readFileSync(fitted, 'utf8')) as { fit: { runs: { name: string }[] } }).fit.runs.map((x) => x.name);
    expect([...runs].sort()).toEqual(['out/01-dense', 'out/04-baseline', 'out/pilots/1-h8-l1-wsd', 'out/pilots/2-h16-l1-wsd', 'out/pilots/3-h16-l1-constant', 'out/pilots/4-h24-l1-wsd']);
    const p = await cli('predict', '--law', fitted, '--schedule', path.join(out, '04-baseline'), '--json');
    expect(p.code, p.stderr).toBe(0);
    const pred = JSON.parse(p.stdout) as { steps: number; params: number; final: { loss: number }; measured: { loss: number; error: number } };
    expect(pred.steps).toBe(60 + 40);
    expect(pred.measured.error).toBeCloseTo(pred.final.loss / pred.measured.loss - 1, 12);
    // The whole output is several runs: one line naming them.
    const several = await cli('predict', '--law', fitted, '--schedule', out);
    expect(several.code).toBe(1);
    expect(several.stderr).toMatch(/^error: .*out: expected one run's schedule \(a pipeline output holds 6 runs from scratch: name one, e\.g\. .*01-dense, .*04-baseline, .*\), found a pipeline output\n$/);
  }, 120_000);

  it('refuses a dry run whose law file does not exist yet, in one line', async () => {
    const r = await cli('pipeline', file, '--dry-run', '--law', path.join(root, 'missing.json'), '--backend', 'cpu');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: --law .*missing\.json: expected an existing law file \(train the plan's pilots first: pipeline PLAN --pilots --law FILE\), found no such file\n$/);
  });
});
