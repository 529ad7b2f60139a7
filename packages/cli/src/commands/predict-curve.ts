import {
  bootstrapCurveFit,
  fitCurveLaw,
  mismatch,
  predictCurve,
  truncateCurve,
  type CurveLawEstimate,
  type CurveLawFile,
  type CurveLawName,
  type CurvePrediction,
} from '@efficientscale/scaling-laws';
import { writeLineChartSvg, type ChartSeries } from '../plot/index.js';
import { curveFixed, curveLossColumn } from './fit-curve.js';
import { estimateText, fmt, printWarnings } from './fit.js';
import { readAnyLawFile } from './predict.js';
import { NAMED_SCHEDULES, namedSchedule, runSchedule, type NamedSchedule, type PredictSchedule, type ScheduleFlags } from './curve-schedule.js';

export interface CurvePredictFlags extends ScheduleFlags {
  schedule?: string;
  params?: number;
  fromRun?: string;
  untilStep?: number;
  form: CurveLawName;
  fix?: string;
  law?: string;
  lossColumn?: string;
  earlyFraction?: number;
  bootstrap: number;
  seed: number;
  plot?: string;
  json?: boolean;
}

/** The relative error of a prediction against a measurement, as text: +0.42%. */
const errorText = (predicted: number, measured: number) => `${predicted >= measured ? '+' : ''}${((predicted / measured - 1) * 100).toFixed(2)}%`;

/** The last measured loss of a run, and the step it was measured at. */
function lastMeasured(s: PredictSchedule): { step: number; loss: number } | undefined {
  const run = s.run;
  if (!run || run.steps.length === 0) return undefined;
  return { step: run.steps[run.steps.length - 1], loss: run.losses[run.losses.length - 1] };
}

/** The schedule `--schedule` names: a named shape (with the law's first run's peak LR and warmup by default) or a run. */
async function scheduleFor(flags: CurvePredictFlags, law?: CurveLawFile): Promise<PredictSchedule> {
  const name = flags.schedule;
  if (!name) throw mismatch('--schedule', 'wsd, cosine, constant or a run directory', 'nothing');
  if ((NAMED_SCHEDULES as readonly string[]).includes(name)) {
    if (flags.steps === undefined) throw mismatch(`--schedule ${name}`, 'the number of steps (--steps N)', 'none');
    const first = law?.fit.runs[0];
    const lr = flags.lr ?? first?.peakLr;
    if (lr === undefined) throw mismatch(`--schedule ${name}`, 'a peak learning rate (--lr)', 'none');
    return namedSchedule(name as NamedSchedule, { ...flags, steps: flags.steps, lr, warmup: flags.warmup ?? first?.warmup ?? 0 });
  }
  return runSchedule(name, flags.steps, curveLossColumn(flags.lossColumn));
}

/** Prediction (with its band) and, for a run, its measured losses, against steps. */
async function plotPrediction(path: string, title: string, p: CurvePrediction, s: PredictSchedule, fittedUntil?: number): Promise<void> {
  const run = s.run;
  const series: ChartSeries[] = [
    ...(p.lower ? [{ name: `${Math.round((p.confidence ?? 0.95) * 100)}% interval`, mark: 'band' as const, points: p.steps.map((st, i) => ({ x: st, y: p.lower![i], y2: p.upper![i] })) }] : []),
    ...(run
      ? [
          {
            name: fittedUntil ? 'measured (fitted)' : 'measured',
            mark: 'point' as const,
            points: run.steps.flatMap((st, i) => (st > (p.steps[0] ?? 0) && (!fittedUntil || st <= fittedUntil) ? [{ x: st, y: run.losses[i] }] : [])),
          },
          ...(fittedUntil
            ? [{ name: 'measured (not fitted)', mark: 'point' as const, points: run.steps.flatMap((st, i) => (st > fittedUntil ? [{ x: st, y: run.losses[i] }] : [])) }]
            : []),
        ]
      : []),
    { name: 'predicted', mark: 'line' as const, points: p.steps.map((st, i) => ({ x: st, y: p.loss[i] })) },
  ];
  await writeLineChartSvg(path, { title, subtitle: s.description, width: 640, xLabel: 'step', yLabel: 'loss (nats/token)', series });
}

/** Steps to draw and report: from the first step the law was fitted on (or 5% in) to the last, and the last itself. */
function curveSteps(total: number, from: number): number[] {
  const start = Math.max(1, Math.min(from, total));
  return [...new Set(Array.from({ length: 200 }, (_, i) => Math.round(start + ((total - start) * i) / 199)))];
}

/** The text and JSON a curve prediction prints: the final loss with its interval and, for a run, the measurement and the error. */
function report(label: string, p: CurvePrediction, s: PredictSchedule, flags: CurvePredictFlags, extra: Record<string, unknown> = {}): void {
  const last = p.steps.length - 1;
  const final = { step: p.steps[last], loss: p.loss[last], interval: p.lower ? [p.lower[last], p.upper![last]] : null };
  const measured = lastMeasured(s);
  const atFinal = measured && measured.step === final.step ? measured : undefined;
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({
        ...extra,
        schedule: s.description,
        steps: s.lr.length,
        params: flags.params ?? null,
        final,
        confidence: p.confidence ?? null,
        measured: atFinal ? { ...atFinal, error: final.loss / atFinal.loss - 1 } : null,
        curve: p.steps.map((st, i) => ({ step: st, loss: p.loss[i], ...(p.lower ? { lower: p.lower[i], upper: p.upper![i] } : {}) })),
        plot: flags.plot ?? null,
      })}\n`,
    );
    return;
  }
  const lines = [
    `${label}: ${s.description}`,
    `predicted loss at step ${final.step}: ${estimateText({ value: final.loss, ...(final.interval ? { interval: final.interval as [number, number] } : {}) }, p.confidence)}`,
  ];
  if (atFinal) lines.push(`measured: ${fmt(atFinal.loss)} (prediction error ${errorText(final.loss, atFinal.loss)})`);
  else if (measured) lines.push(`measured so far: ${fmt(measured.loss)} at step ${measured.step}`);
  if (flags.plot) lines.push(`plot written to ${flags.plot}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** `predict --law curve.json --schedule ...`: the law's curve along a schedule. */
export async function predictAlongSchedule(est: CurveLawEstimate & { file: CurveLawFile }, source: string, flags: CurvePredictFlags): Promise<void> {
  const s = await scheduleFor(flags, est.file);
  const params = flags.params ?? s.run?.params;
  if (!est.joint && flags.params !== undefined) {
    const fitted = est.file.fit.runs.find((r) => r.params !== undefined)?.params;
    if (fitted !== undefined && Math.abs(flags.params / fitted - 1) > 0.005) {
      throw mismatch('--params', `the size the law was fitted on (${fitted}; fit runs of several sizes to predict others)`, String(flags.params));
    }
  }
  const first = Math.min(...est.file.fit.runs.map((r) => r.firstStep));
  const p = predictCurve(est, s.lr, { params, steps: curveSteps(s.lr.length, first) });
  const title = `${est.law} law from ${source}${est.joint && params ? ` at N=${fmt(params)}` : ''}`;
  if (flags.plot) await plotPrediction(flags.plot, title, p, s);
  report(`${est.law} law (${source})`, p, s, { ...flags, params }, { law: est.law, source });
}

/** `predict --from-run RUN --until-step N`: fits the run's first N steps and predicts the rest of its schedule. */
export async function predictFromRun(flags: CurvePredictFlags): Promise<void> {
  if (!flags.fromRun) throw mismatch('--from-run', 'a run directory', 'nothing');
  if (flags.untilStep === undefined) throw mismatch('--from-run', 'the last step to fit on (--until-step N)', 'none');
  const s = await runSchedule(flags.fromRun, flags.steps, curveLossColumn(flags.lossColumn));
  const run = s.run!;
  if (flags.untilStep >= s.lr.length) throw mismatch('--until-step', `a step before the schedule's last (${s.lr.length})`, String(flags.untilStep));
  const part = { ...truncateCurve(run, flags.untilStep), lr: s.lr };
  const prior = flags.law ? readAnyLawFile(flags.law) : undefined;
  if (prior && prior.kind !== 'curve') throw mismatch(`--law ${flags.law}`, 'a whole-curve law (annealing or multipower) whose annealing shape is held', `a ${prior.file.law} law`);
  const law = prior?.kind === 'curve' ? prior.law : flags.form;
  const fixed = curveFixed(law, { fix: flags.fix, prior: flags.law });
  const options = { law, earlyFraction: flags.earlyFraction ?? 0.1, fixed };
  const fit = fitCurveLaw([part], options);
  printWarnings(fit.warnings);
  const boot = flags.bootstrap > 0 ? bootstrapCurveFit([part], fit, { ...options, samples: flags.bootstrap, seed: flags.seed, unit: 'blocks' }) : undefined;
  const est = { law, joint: fit.joint, theta: fit.theta, ...(boot ? { bootstrap: { thetas: boot.thetas, confidence: boot.confidence } } : {}) };
  const p = predictCurve(est, s.lr, { params: run.params, steps: curveSteps(s.lr.length, fit.runs[0].firstStep) });
  if (flags.plot) await plotPrediction(flags.plot, `${law} law fitted on steps ${fit.runs[0].firstStep}–${flags.untilStep} of ${run.name}`, p, s, flags.untilStep);
  report(`${law} law fitted on ${fit.points} losses up to step ${flags.untilStep}${flags.law ? ` (annealing shape held from ${flags.law})` : ''}`, p, s, { ...flags, params: run.params }, {
    law,
    fittedUntil: flags.untilStep,
    params_fitted: fit.params,
    ...(boot ? { bootstrap: { samples: boot.samples, unit: boot.unit } } : {}),
  });
}
