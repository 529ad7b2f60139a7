/**
 * The summary of a multi-seed pipeline (`pipeline --seeds`): report.md, report.json and loss plots in
 * the plan's output directory, beside each seed's own report in `seed-N/`. Every seed's saving is listed
 * with the median and range; the plots draw every seed's pipeline and the baseline that set its bar.
 */
import * as path from 'node:path';
import { writeFileAtomic } from '@efficientscale/core/node';
import { countLabel } from '../plot/index.js';
import { writeLossCurvePlots, type LossCurve } from '../plot/loss-curves.js';
import { layoutStages } from './layout.js';
import type { Plan } from './plan.js';
import { readCurves } from './report.js';
import { summarizeSavings, type PredictedFinal, type SavingSummary, type SeedResult } from './seeds.js';

const pct = (x: number | null | undefined) => (x === null || x === undefined ? 'not reached' : `${(100 * x).toFixed(1)}%`);
const sci = (x: number | null | undefined) => (x === null || x === undefined ? '-' : x.toExponential(2));
const loss = (x: number | null | undefined) => (x === null || x === undefined ? '-' : x.toFixed(3));

/** "median 48.1% (range 46.4% to 53.5%) over 3 seeds", or what was not reached. */
export function summarySentence(s: SavingSummary): string {
  const range = s.min === undefined ? `range: ${s.seeds - s.reached} of ${s.seeds} seeds did not reach the baseline${s.max === undefined ? '' : `, best ${pct(s.max)}`}` : `range ${pct(s.min)} to ${pct(s.max)}`;
  return `median ${pct(s.median)} (${range}) over ${s.seeds} seed${s.seeds === 1 ? '' : 's'}`;
}

/** One curve per seed for the pipeline (its stages chained) and one for the baseline that set its bar. */
function seedCurves(plan: Plan, seeds: readonly SeedResult[]): LossCurve[] {
  return seeds.flatMap((r) => {
    const { curves, best } = readCurves(layoutStages({ ...plan, seed: r.seed, out: r.out }));
    const pipeline = { name: `seed ${r.seed} pipeline`, records: curves.flatMap((c) => c.records).sort((a, b) => a.step - b.step) };
    return best ? [pipeline, { name: `seed ${r.seed} baseline`, records: best.curve.records, dashed: true }] : [pipeline];
  });
}

/** Predicted beside measured final losses over the seeds (the prediction is the same for every seed; the measurement is not). */
function predictionLines(seeds: readonly SeedResult[]): string[] {
  const withPrediction = seeds.filter((s) => s.prediction);
  if (withPrediction.length === 0) return [];
  const cell = (f: PredictedFinal | undefined) => (f ? `${f.predicted.toFixed(3)} / ${loss(f.measured)} (${f.error === null ? '-' : `${f.error >= 0 ? '+' : ''}${(100 * f.error).toFixed(2)}%`})` : '-');
  const rows = withPrediction.map((s) => `| ${s.seed} | ${cell(s.prediction?.baseline)} | ${cell(s.prediction?.pipeline)} |`);
  const median = (xs: number[]) => {
    const v = [...xs].sort((a, b) => a - b);
    return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  };
  const summary = (key: 'baseline' | 'pipeline') => {
    const measured = withPrediction.map((s) => s.prediction?.[key]?.measured).filter((x): x is number => typeof x === 'number');
    const predicted = withPrediction[0].prediction?.[key]?.predicted;
    if (!measured.length || predicted === undefined) return '';
    const m = median(measured);
    return `${key}: predicted ${predicted.toFixed(3)}, median measured ${m.toFixed(3)} (${(100 * (predicted / m - 1)).toFixed(2)}%; range ${Math.min(...measured).toFixed(3)}–${Math.max(...measured).toFixed(3)})`;
  };
  return [
    '## Predicted beside measured',
    '',
    `Final eval losses predicted before training by the law fitted on the pilots (the same prediction for every seed): ${[summary('baseline'), summary('pipeline')].filter(Boolean).join('; ')}. Each seed's report has every stage and the plot.`,
    '',
    '| seed | baseline: predicted / measured (error) | pipeline: predicted / measured (error) |',
    '| ---: | ---: | ---: |',
    ...rows,
    '',
  ];
}

export async function writeSeedsReport(plan: Plan, seeds: readonly SeedResult[], lrSweep?: readonly number[]): Promise<{ files: string[]; summary: SavingSummary }> {
  const summary = summarizeSavings(seeds.map((s) => s.saving));
  const title = `${plan.name ?? 'pipeline'}, ${seeds.length} seeds`;
  const plots = await writeLossCurvePlots(plan.out, seedCurves(plan, seeds), title, 'solid: each seed\'s pipeline (stages chained); dashed: its baseline (the best of a learning-rate sweep); dots: evaluations');
  const sweep = lrSweep ? ` Each seed's baseline ran at ${lrSweep.map((m) => `×${m}`).join(', ')} of its peak learning rate (${plan.lr}); the one that ended lowest is that seed's bar.` : '';
  const rows = seeds.map((r) => {
    const base = r.baselines.length > 1 ? r.baselines.map((b) => `${b.lr}: ${loss(b.finalLoss)}`).join('; ') : loss(r.baselines[0]?.finalLoss);
    const caught = r.catchUp.map((c) => `${c.stage}: ${c.tokens === null ? 'not back' : countLabel(c.tokens)}`).join('; ') || '-';
    return `| ${r.seed} | ${loss(r.pipelineFinalLoss)} | ${r.baselineLr ?? '-'} | ${loss(r.targetLoss)} | ${base} | ${sci(r.pipelineFlops)} | ${sci(r.baselineFlops)} | ${pct(r.saving)} | ${caught} |`;
  });
  const md = [
    `# Pipeline report: ${title}`,
    '',
    ...(plan.description ? [plan.description, ''] : []),
    `Corpus ${plan.corpus}, tokenizer ${plan.tokenizer}, batch ${plan.batch} × seq ${plan.seq} × accumulation ${plan.accumulation}; seeds ${seeds.map((s) => s.seed).join(', ')} (each sets the initial weights and the data order of the pipeline and of its baseline).`,
    '',
    '## Result',
    '',
    `Compute saved: ${summarySentence(summary)}. A seed's saving is 1 − the FLOPs its pipeline spent until its eval loss first reached its baseline's final eval loss, over the baseline's FLOPs.${sweep}`,
    '',
    '| seed | pipeline final eval loss | baseline peak LR | baseline final eval loss (the bar) | every baseline (peak LR: final loss) | pipeline FLOPs to reach the bar | baseline FLOPs | saving | tokens to get back to the baseline\'s curve after each transform |',
    '| ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |',
    ...rows,
    '',
    ...predictionLines(seeds),
    'Each seed\'s own report (stages, plots, every baseline): ' + seeds.map((s) => `[seed ${s.seed}](${path.relative(plan.out, path.join(s.out, 'report.md'))})`).join(', ') + '.',
    '',
    '## Plots',
    '',
    ...plots.map((f) => `![${path.basename(f, '.svg')}](${path.basename(f)})`),
    '',
  ].join('\n');
  writeFileAtomic(path.join(plan.out, 'report.md'), md);
  writeFileAtomic(path.join(plan.out, 'report.json'), `${JSON.stringify({ summary, seeds, lrSweep: lrSweep ?? null, tokensPerStep: plan.batch * plan.seq * plan.accumulation }, null, 2)}\n`);
  return { files: [path.join(plan.out, 'report.md'), ...plots], summary };
}
