/**
 * report.md, report.json and the loss plots of a finished pipeline: every train stage's eval curve
 * chained on one axis (the counters are cumulative), the baseline beside it, the FLOPs the pipeline
 * needed to reach the baseline's final eval loss and the saving.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readMetrics, writeFileAtomic } from '@efficientscale/core/node';
import { countLabel } from '../plot/index.js';
import { evalPoints, writeLossCurvePlots, type LossCurve } from '../plot/loss-curves.js';
import { trains, type PlannedStage } from './layout.js';
import type { Plan } from './plan.js';
import { catchUp } from '@efficientscale/progressive';
import { firstReach, flopSaving, type CurvePoint, type Saving } from './saving.js';
import type { StageRecord } from './stage-dir.js';
import { measuredStarts, predictStages, type PipelineLaw } from './predict.js';
import { predictionMarkdown, predictionResult, predictionRows, writePredictionPlot, type PredictionResult } from './predict-report.js';

/** One baseline run (several with a learning-rate sweep); the one with the lowest final eval loss is the bar. */
export interface BaselineResult {
  label: string;
  /** Its peak learning rate. */
  lr: number;
  finalLoss?: number;
  flops: number;
  best: boolean;
}

/**
 * After a transform: how many tokens the pipeline took to get back to the baseline's (from-scratch)
 * curve at equal tokens, on the train stage that follows it.
 */
export interface CatchUpResult {
  /** The transform stage. */
  stage: string;
  /** Cumulative tokens at the transform. */
  atTokens: number;
  /** Tokens after the transform until the pipeline's eval loss was at or below the baseline's; undefined: not within the stage. */
  tokens?: number;
  /** The pipeline's eval loss minus the baseline's at the stage's last evaluation (negative: below). */
  finalGap?: number;
}

export interface PipelineReport {
  files: string[];
  saving?: Saving;
  baselines: BaselineResult[];
  catchUp: CatchUpResult[];
  /** Tokens the pipeline needed to reach the baseline's final eval loss (undefined: not reached), and the baseline's. */
  tokensToReach?: number;
  baselineTokens?: number;
  pipelineFinalLoss?: number;
  pipelineFlops: number;
  pipelineTokens: number;
  wallSeconds: number;
  /** With a law (`pipeline --law`): each stage's predicted final eval loss beside the measured one. */
  prediction?: PredictionResult;
}

const sci = (x: number) => x.toExponential(2);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** One sentence on the saving, for report.md and the end of the CLI's output. */
export function savingSentence(s: Saving | undefined): string {
  if (!s) return 'no baseline stage, so no saving to measure';
  if (s.pipelineFlops === undefined || s.saving === undefined) {
    return `not reached: the pipeline's eval loss never got down to the baseline's final ${s.targetLoss.toFixed(3)} nats/token (the baseline spent ${sci(s.baselineFlops)} FLOPs)`;
  }
  const how = s.saving >= 0 ? `a saving of ${pct(s.saving)}` : `${pct(-s.saving)} more than the baseline`;
  return `the pipeline reached the baseline's final eval loss ${s.targetLoss.toFixed(3)} nats/token after ${sci(s.pipelineFlops)} FLOPs against the baseline's ${sci(s.baselineFlops)}: ${how}`;
}

/** The baseline's eval loss at the pipeline's final compute, beside the pipeline's ('' when the baseline never got that far). */
export function equalComputeSentence(s: Saving | undefined): string {
  if (s?.baselineAtPipelineFlops === undefined || !s.pipelineFinal) return '';
  return `At equal compute (the pipeline's last evaluation, ${sci(s.pipelineFinal.x)} FLOPs) the baseline's eval loss was ${s.baselineAtPipelineFlops.toFixed(3)} nats/token (interpolated), the pipeline's ${s.pipelineFinal.y.toFixed(3)}.`;
}

const finalOf = (c: LossCurve) => evalPoints(c.records, 'flops').at(-1);

/**
 * Every train stage's curve from its metrics.jsonl (the pipeline's stages chain: counters are
 * cumulative), every baseline's, and the best baseline: with a learning-rate sweep, the one that ended lowest.
 */
export function readCurves(layout: readonly PlannedStage[]): { curves: LossCurve[]; baselineRuns: Array<{ p: PlannedStage; curve: LossCurve }>; best?: { p: PlannedStage; curve: LossCurve } } {
  const curves: LossCurve[] = [];
  const baselineRuns: Array<{ p: PlannedStage; curve: LossCurve }> = [];
  for (const p of layout) {
    const file = path.join(p.dir, 'metrics.jsonl');
    if (!fs.existsSync(file)) continue;
    // Short names: the legend cuts long ones off.
    const curve = { name: `${p.index + 1} ${p.stage.name ?? p.stage.type}, ${countLabel(p.params)}`, records: readMetrics(file) };
    if (p.stage.type === 'baseline') baselineRuns.push({ p, curve });
    else curves.push(curve);
  }
  const best = baselineRuns.reduce<(typeof baselineRuns)[number] | undefined>((a, b) => (a && (finalOf(a.curve)?.y ?? Infinity) <= (finalOf(b.curve)?.y ?? Infinity) ? a : b), undefined);
  return { curves, baselineRuns, best };
}

/**
 * For each transform followed by a train stage: the tokens until that stage's eval curve met the
 * baseline's at equal tokens (at the resolution of the evaluations).
 */
function catchUpAfterTransforms(layout: readonly PlannedStage[], records: readonly StageRecord[], baseline: readonly CurvePoint[]): CatchUpResult[] {
  const trained = layout.filter((p) => p.stage.type !== 'baseline' && trains(p.stage));
  return layout.flatMap((p) => {
    if (trains(p.stage)) return [];
    const next = trained.find((t) => t.index > p.index);
    const record = records.find((r) => r.label === p.label);
    const file = next && path.join(next.dir, 'metrics.jsonl');
    if (!record || !file || !fs.existsSync(file)) return [];
    const met = catchUp(evalPoints(readMetrics(file), 'tokens'), baseline, record.tokens_end);
    return [{ stage: p.label, atTokens: record.tokens_end, tokens: met.after, finalGap: met.finalGap }];
  });
}

export function catchUpSentence(catchUps: readonly CatchUpResult[]): string {
  const each = catchUps.map((c) => {
    const where = `after ${c.stage} (at ${countLabel(c.atTokens)} tokens)`;
    if (c.tokens !== undefined) return `${where}: back at or below it ${countLabel(c.tokens)} tokens later`;
    if (c.finalGap === undefined) return `${where}: no comparison (the baseline's curve ends before the next stage's evaluations)`;
    return `${where}: not back within the next stage (${c.finalGap.toFixed(3)} nats above it at its last evaluation)`;
  });
  return `Tokens the pipeline took after each transform to get back to the baseline's curve (the final architecture trained from scratch) at equal tokens, read at the evaluations: ${each.join('; ')}.`;
}

/** With several baselines (a learning-rate sweep): each one's peak LR and final loss, and which is the bar. */
export function baselineSweepSentence(baselines: readonly BaselineResult[]): string {
  if (baselines.length < 2) return '';
  const best = baselines.find((b) => b.best);
  const each = baselines.map((b) => `${b.label} (peak LR ${b.lr}): ${b.finalLoss?.toFixed(3) ?? '-'}`).join('; ');
  return `Baselines, one per peak learning rate, final eval loss: ${each}. The best, ${best?.label ?? '-'}, is the bar.`;
}

function stageTable(records: readonly StageRecord[]): string {
  const rows = records.map((r) => {
    const loss = r.eval_loss === undefined ? '' : r.eval_loss.toFixed(3);
    const tps = r.tokens_per_s === undefined ? '' : Math.round(r.tokens_per_s).toLocaleString('en');
    return `| ${r.label} | ${r.stage.type} | ${r.params.toLocaleString('en')} | ${r.active_params.toLocaleString('en')} | ${r.steps} | ${countLabel(r.tokens)} | ${countLabel(r.tokens_end)} | ${r.flops ? sci(r.flops) : '0'} | ${r.wall_s.toFixed(1)} | ${tps} | ${loss} |`;
  });
  return [
    '| stage | kind | parameters | active params/token | steps | tokens | tokens (cumulative) | FLOPs | wall s | tokens/s | eval loss |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n');
}

/** Predictions made before training beside what the stages measured, with their plot (`pipeline --law`). */
async function predictionPart(plan: Plan, layout: readonly PlannedStage[], records: readonly StageRecord[], law: PipelineLaw): Promise<PredictionResult> {
  const predicted = predictStages(plan, layout, law.estimate);
  const measured = (p: PlannedStage) => records.find((r) => r.label === p.label)?.eval_loss;
  const conditional = predictStages(plan, layout, law.estimate, measuredStarts(layout, measured));
  const plot = await writePredictionPlot(path.join(plan.out, 'prediction.svg'), layout, predicted, plan.batch * plan.seq * plan.accumulation, `${plan.name ?? 'pipeline'}: predicted beside measured`);
  return predictionResult(law.source, predictionRows(predicted, conditional, records), plot);
}

export async function writePipelineReport(plan: Plan, layout: readonly PlannedStage[], records: readonly StageRecord[], law?: PipelineLaw): Promise<PipelineReport> {
  const { curves, baselineRuns, best } = readCurves(layout);
  const baseline = best?.curve;
  const baselines: BaselineResult[] = baselineRuns.map(({ p, curve }) => ({
    label: p.label,
    lr: (p.stage as { lr?: number }).lr ?? plan.lr,
    finalLoss: finalOf(curve)?.y,
    flops: finalOf(curve)?.x ?? 0,
    best: curve === baseline,
  }));
  const chained = (x: 'tokens' | 'flops') => curves.flatMap((c) => evalPoints(c.records, x)).sort((a, b) => a.x - b.x);
  const pipelineRecords = records.filter((r) => r.stage.type !== 'baseline');
  const last = pipelineRecords[pipelineRecords.length - 1];
  const lastTrain = [...pipelineRecords].reverse().find((r) => r.eval_loss !== undefined);
  const saving = baseline ? flopSaving(chained('flops'), evalPoints(baseline.records, 'flops')) : undefined;
  const baselineTokens = baseline ? evalPoints(baseline.records, 'tokens').at(-1)?.x : undefined;
  const tokensToReach = saving ? firstReach(chained('tokens'), saving.targetLoss) : undefined;
  const title = plan.name ?? 'pipeline';
  const files = await writeLossCurvePlots(plan.out, [...curves, ...baselineRuns.map((b) => b.curve)], title, 'legend: stage, parameters; tokens and FLOPs carry across stages; dots are evaluations', saving ? [{ name: 'baseline final loss', y: saving.targetLoss }] : []);
  const wallSeconds = records.reduce((s, r) => s + r.wall_s, 0);
  const catchUps = baseline ? catchUpAfterTransforms(layout, records, evalPoints(baseline.records, 'tokens')) : [];
  const prediction = law ? await predictionPart(plan, layout, records, law) : undefined;
  const report: PipelineReport = {
    files: prediction?.plot ? [...files, prediction.plot] : files,
    ...(prediction ? { prediction } : {}),
    saving,
    baselines,
    catchUp: catchUps,
    tokensToReach,
    baselineTokens,
    pipelineFinalLoss: lastTrain?.eval_loss,
    pipelineFlops: last?.flops_end ?? 0,
    pipelineTokens: last?.tokens_end ?? 0,
    wallSeconds,
  };
  const md = [
    `# Pipeline report: ${title}`,
    '',
    ...(plan.description ? [plan.description, ''] : []),
    `Corpus ${plan.corpus}, tokenizer ${plan.tokenizer}, batch ${plan.batch} × seq ${plan.seq} × accumulation ${plan.accumulation}, seed ${plan.seed}.`,
    '',
    '## Result',
    '',
    `${savingSentence(saving).replace(/^./, (c) => c.toUpperCase())}.`,
    baselineSweepSentence(baselines),
    saving && tokensToReach !== undefined && baselineTokens ? `In tokens: ${countLabel(tokensToReach)} against the baseline's ${countLabel(baselineTokens)}.` : '',
    equalComputeSentence(saving),
    `The pipeline's final eval loss: ${lastTrain?.eval_loss?.toFixed(3) ?? '-'} nats/token after ${sci(report.pipelineFlops)} FLOPs and ${countLabel(report.pipelineTokens)} tokens.`,
    '',
    'FLOPs are training FLOPs (3 × forward, attention included) counted at each step by the model that ran it (an MoE counts its active experts); the FLOPs to reach a loss are interpolated linearly between the two evaluations around the crossing; the transforms\' own compute (one probe forward pass) is not counted.',
    '',
    ...(catchUps.length ? ['## Catch-up after each transform', '', catchUpSentence(catchUps), ''] : []),
    ...(prediction ? [predictionMarkdown(prediction)] : []),
    '## Stages',
    '',
    stageTable(records),
    '',
    ...records.map((r) => `- ${r.label}: ${r.summary}`),
    '',
    `Wall time ${wallSeconds.toFixed(1)} s in all (this run's stages; a skipped stage counts its first run).`,
    '',
    '## Plots',
    '',
    ...files.map((f) => `![${path.basename(f, '.svg')}](${path.basename(f)})`),
    '',
  ].join('\n');
  writeFileAtomic(path.join(plan.out, 'report.md'), md);
  writeFileAtomic(path.join(plan.out, 'report.json'), `${JSON.stringify({ ...report, stages: records.map(({ inputs: _inputs, ...r }) => r) }, null, 2)}\n`);
  return { ...report, files: [path.join(plan.out, 'report.md'), ...files] };
}
