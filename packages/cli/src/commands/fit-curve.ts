import {
  bootstrapCurveFit,
  curvePointsKept,
  fitCurveLaw,
  mismatch,
  getCurveLaw,
  predictCurve,
  resolveFixed,
  toCurveLawFile,
  truncateCurve,
  type CurveBootstrapResult,
  type CurveBootstrapUnit,
  type CurveLawName,
  type CurveRun,
  type FittedCurveLaw,
  type LossName,
} from '@efficientscale/scaling-laws';
import { readRunCurve } from '@efficientscale/scaling-laws/node';
import { curveRunsOf } from './curve-runs.js';
import { writeLineChartSvg, type ChartSeries } from '../plot/index.js';
import { estimateText, fmt, printWarnings, progressBar } from './fit.js';
import { readAnyLawFile } from './predict.js';

/** What `fit --law annealing|multipower` reads from the command line. */
export interface CurveFitFlags {
  law: CurveLawName;
  loss: LossName;
  delta: number;
  starts?: number | 'all';
  params?: number;
  lossColumn?: string;
  fix?: string;
  prior?: string;
  earlyFraction?: number;
  untilFraction?: number;
  bootstrap: number;
  bootstrapUnit?: CurveBootstrapUnit;
  seed: number;
  confidence: number;
  out?: string;
  plot?: string;
  json?: boolean;
}

/** Curve laws read the held-out loss unless told otherwise (`--loss-column loss`: the training loss). */
export function curveLossColumn(flag: string | undefined): 'eval_loss' | 'loss' {
  if (flag === undefined || flag === 'eval_loss' || flag === 'val_loss') return 'eval_loss';
  if (flag === 'loss' || flag === 'train_loss') return 'loss';
  throw mismatch('--loss-column', 'eval_loss or loss for a curve law', JSON.stringify(flag));
}

/** Each run directory (or metrics.jsonl, or pipeline output) as curves, cut to their first `untilFraction` of steps when given. */
export function loadRuns(files: readonly string[], flags: Pick<CurveFitFlags, 'params' | 'lossColumn' | 'untilFraction'>): CurveRun[] {
  const lossColumn = curveLossColumn(flags.lossColumn);
  return files.flatMap((file) =>
    curveRunsOf(file).map(({ name, path }) => {
      const run = readRunCurve(path, { params: flags.params, lossColumn, ...(name ? { name } : {}) });
      return flags.untilFraction === undefined ? run : truncateCurve(run, Math.max(1, Math.floor(flags.untilFraction * run.lr.length)));
    }),
  );
}

/** Held parameters: --fix, and --prior's annealing shape (or the --fix names) when a curve law is the prior. */
export function curveFixed(law: CurveLawName, flags: Pick<CurveFitFlags, 'fix' | 'prior'>): Record<string, number> {
  if (!flags.prior) return resolveFixed(flags.fix);
  const prior = readAnyLawFile(flags.prior);
  const params = prior.file.params;
  if (flags.fix !== undefined && flags.fix.trim() !== '') return resolveFixed(flags.fix, { source: flags.prior, params });
  if (prior.kind !== 'curve' || prior.file.law !== law) {
    throw mismatch(`--prior ${flags.prior}`, `a ${law} law (its annealing parameters are held; or name the parameters to hold with --fix)`, `a ${prior.file.law} law`);
  }
  return Object.fromEntries(getCurveLaw(law).annealingParams.map((n) => [n, params[n]]));
}

/** Measured losses (after the early cut) and the fitted curve of every run, against steps. */
export async function plotCurveFit(path: string, runs: readonly CurveRun[], fit: FittedCurveLaw, boot?: CurveBootstrapResult): Promise<void> {
  const estimate = { law: fit.law, joint: fit.joint, theta: fit.theta, ...(boot ? { bootstrap: { thetas: boot.thetas, confidence: boot.confidence } } : {}) };
  const series: ChartSeries[] = runs.flatMap((run) => {
    const kept = curvePointsKept(run, fit.earlyFraction);
    const from = kept.steps[0] ?? 1;
    const steps = Array.from({ length: 120 }, (_, i) => Math.round(from + ((run.lr.length - from) * i) / 119));
    const p = predictCurve(estimate, run.lr, { steps: [...new Set(steps)], params: run.params });
    const band: ChartSeries[] = p.lower ? [{ name: run.name, mark: 'band', points: p.steps.map((s, i) => ({ x: s, y: p.lower![i], y2: p.upper![i] })) }] : [];
    return [
      ...band,
      { name: run.name, mark: 'point' as const, points: kept.steps.map((s, i) => ({ x: s, y: kept.losses[i] })) },
      { name: run.name, mark: 'line' as const, points: p.steps.map((s, i) => ({ x: s, y: p.loss[i] })) },
    ];
  });
  const bandNote = boot ? `; bands: ${Math.round(boot.confidence * 100)}% bootstrap interval over ${boot.unit}` : '';
  await writeLineChartSvg(path, {
    title: `${fit.law} law fitted to ${runs.length} run${runs.length === 1 ? '' : 's'} (RMS error ${(fit.rmsRelativeError * 100).toFixed(2)}%)`,
    subtitle: `dots: measured losses fitted; lines: the law along each run's schedule${bandNote}`,
    width: 640,
    xLabel: 'step',
    yLabel: 'loss (nats/token)',
    series,
  });
}

/** `fit --law annealing|multipower RUN...`: fits a whole-curve law to run directories. */
export async function runCurveFit(files: readonly string[], flags: CurveFitFlags): Promise<void> {
  const runs = loadRuns(files, flags);
  const started = performance.now();
  const options = {
    law: flags.law,
    loss: flags.loss,
    delta: flags.delta,
    starts: flags.starts === 'all' ? 1e9 : flags.starts,
    earlyFraction: flags.earlyFraction ?? 0.1,
    fixed: curveFixed(flags.law, flags),
  };
  const fit = fitCurveLaw(runs, options);
  printWarnings(fit.warnings);
  const fitSeconds = (performance.now() - started) / 1000;
  let boot: CurveBootstrapResult | undefined;
  if (flags.bootstrap > 0) {
    const bar = progressBar('bootstrap', flags.bootstrap);
    try {
      boot = bootstrapCurveFit(runs, fit, { ...options, samples: flags.bootstrap, seed: flags.seed, confidence: flags.confidence, unit: flags.bootstrapUnit, onProgress: (done) => bar.update(done) });
    } finally {
      bar.stop();
    }
  }
  const file = toCurveLawFile(fit, boot);
  if (flags.out) (await import('@efficientscale/core/node')).writeFileAtomic(flags.out, `${JSON.stringify(file, null, 2)}\n`);
  if (flags.plot) await plotCurveFit(flags.plot, runs, fit, boot);
  const seconds = (performance.now() - started) / 1000;
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ ...file, untilFraction: flags.untilFraction ?? null, fitSeconds, seconds, out: flags.out ?? null, plot: flags.plot ?? null })}\n`);
    return;
  }
  const sizes = fit.joint ? `${fit.sizes} model sizes` : fit.runs[0]?.params !== undefined ? `one model size (N=${fmt(fit.runs[0].params)})` : 'one model size';
  const lines = [
    fit.formula,
    `fitted on ${fit.points} losses of ${fit.runs.length} run${fit.runs.length === 1 ? '' : 's'} (${sizes}) in ${fitSeconds.toFixed(2)} s (${fit.startsRun} L-BFGS starts, ${fit.loss === 'huber' ? `Huber δ=${fit.delta}` : 'least squares'} on log L); RMS error ${(fit.rmsRelativeError * 100).toFixed(2)}%`,
    ...Object.entries(fit.params).map(([name, value]) => {
      if (fit.fixed && name in fit.fixed) return `  ${name.padEnd(7)} ${fmt(value)} (held)`;
      return `  ${name.padEnd(7)} ${estimateText({ value, interval: boot?.intervals[name] }, boot?.confidence)}`;
    }),
    `losses used: after the warmup and the first ${Number((fit.earlyFraction * 100).toPrecision(4))}% of each run's steps${flags.untilFraction !== undefined ? `, up to ${Number((flags.untilFraction * 100).toPrecision(4))}% of them` : ''}`,
  ];
  if (boot) lines.push(`intervals: bootstrap over ${boot.unit}, ${boot.samples} resamples, seed ${boot.seed}`);
  if (flags.out) lines.push(`law written to ${flags.out}`);
  if (flags.plot) lines.push(`plot written to ${flags.plot}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
