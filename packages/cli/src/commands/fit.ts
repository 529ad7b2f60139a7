import { readFileSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import {
  CURVE_LAW_NAMES,
  LAW_NAMES,
  isCurveLawName,
  mismatch,
  bootstrapFit,
  type BootstrapResult,
  type CurveBootstrapUnit,
  type CurveLawName,
  dropEarlyCheckpoints,
  dropHighestLoss,
  fitLaw,
  predictLoss,
  resolveFixed,
  handleSizeChanges,
  sizeChangeText,
  SIZE_CHANGE_POLICIES,
  toLawFile,
  type Estimate,
  type FittedLaw,
  type LawName,
  type LossName,
  parseDataset,
  type ParseOptions,
  type Point,
  type SizeChange,
  type SizeChangePolicy,
} from '@efficientscale/scaling-laws';
import { readDataset } from '@efficientscale/scaling-laws/node';
import { countLabel, writeLineChartSvg, type ChartSeries } from '../plot/index.js';
import { nonNegativeInt, nonNegativeNumber, positiveInt, positiveNumber } from './numbers.js';
import { readLawFile } from './predict.js';
import { addForceOption, checkOutputFiles } from './outputs.js';
import { runCurveFit } from './fit-curve.js';

/** Flags shared by the commands that read observations (fit, evaluate). */
export interface DataFlags {
  law: LawName | CurveLawName;
  loss: LossName;
  delta: number;
  starts?: number | 'all';
  params?: number;
  lossColumn?: string;
  dropHighestLoss?: number;
  json?: boolean;
  plot?: string;
  fix?: string;
  prior?: string;
  sizeChanges: SizeChangePolicy;
  format?: 'csv' | 'jsonl';
  force?: boolean;
}

/** Adds the data and fitting flags to a command. */
export function addDataOptions(cmd: Command): Command {
  return addForceOption(cmd)
    .addOption(new Option('--law <form>', 'law form (annealing, multipower: whole loss curves of run directories under any LR schedule)').choices([...LAW_NAMES, ...CURVE_LAW_NAMES]).default('chinchilla'))
    .addOption(new Option('--loss <kind>', 'huber (Chinchilla Approach 3) or l2 (least squares), on log L').choices(['huber', 'l2']).default('huber'))
    .option('--delta <x>', 'Huber threshold on log-loss residuals', positiveNumber, 1e-3)
    .option('--starts <n|all>', "grid starts optimised with L-BFGS (best-ranked first; 'all': every grid start)", startsCount)
    .option('--params <n>', 'parameter count for rows that have none (a run\'s metrics.jsonl)', positiveNumber)
    .option('--loss-column <name>', 'GPT-3 curves: train_loss (default) or val_loss; run directories: eval_loss reads the held-out loss (the default of curve laws; loss: the training loss)')
    .option('--fix <name=value,...>', 'hold parameters fixed, e.g. alpha=0.34,beta=0.28 (a bare name takes the --prior value)')
    .option('--prior <law.json>', "a law written by fit --out: its exponents (or the --fix names) are held fixed")
    .option('--drop-highest-loss <k>', 'drop the k highest-loss points first (5 for the Chinchilla data)', nonNegativeInt)
    .addOption(
      new Option('--size-changes <policy>', "runs whose parameter count changes (growth, upcycling): final keeps each one's records from its last size change on; refuse stops")
        .choices([...SIZE_CHANGE_POLICIES])
        .default('final'),
    )
    .addOption(new Option('--format <format>', "the format of standard input (data file '-'); default: jsonl when it starts with '{', else csv").choices(['csv', 'jsonl']))
    .option('--plot <file.svg>', 'write a plot')
    .option('--json', 'print one JSON object');
}

/** `--starts`: a positive integer, or 'all' (every grid start, as fitLaw accepts). */
export function startsCount(value: string): number | 'all' {
  if (value === 'all') return 'all';
  try {
    return positiveInt(value);
  } catch {
    throw new InvalidArgumentError(`Expected a positive integer or 'all', found "${value}".`);
  }
}

/** The parameters --fix and --prior hold fixed (empty when neither is given). */
export function fixedParams(flags: DataFlags): Record<string, number> {
  const prior = flags.prior ? { source: flags.prior, params: readLawFile(flags.prior).file.params } : undefined;
  return resolveFixed(flags.fix, prior);
}

/** Prints a fit's cautions on stderr, one line each, so --json output stays clean. */
export function printWarnings(warnings: readonly string[], prefix = ''): void {
  for (const w of warnings) process.stderr.write(`warning: ${prefix}${w}\n`);
}

/** Reads and concatenates the observations of every data file. */
export function loadPoints(files: readonly string[], flags: DataFlags): Point[] {
  pointLaw(flags.law);
  const options = { params: flags.params, lossColumn: flags.lossColumn };
  if (files.filter((file) => file === STDIN).length > 1) throw mismatch('data files', "standard input ('-') at most once", `'-' ${files.filter((f) => f === STDIN).length} times`);
  const points = files.flatMap((file) => (file === STDIN ? readStdinPoints(flags.format, options) : readDataset(file, options)));
  return dropHighestLoss(points, flags.dropHighestLoss ?? 0);
}

/** The data file name that stands for standard input (`cat points.csv | efficientscale fit -`). */
const STDIN = '-';

/** Observations piped in: CSV or JSONL as --format says, else JSONL when the text starts with `{`. */
function readStdinPoints(format: 'csv' | 'jsonl' | undefined, options: ParseOptions): Point[] {
  if (process.stdin.isTTY) throw mismatch('data file -', 'CSV or JSONL piped to standard input', 'a terminal');
  const text = readFileSync(0, 'utf8');
  return parseDataset(text, 'standard input', format ?? (text.trimStart().startsWith('{') ? 'jsonl' : 'csv'), options);
}

/** The --law of a command that fits points (evaluate): a curve law is refused in one line. */
export function pointLaw(law: LawName | CurveLawName): LawName {
  if (isCurveLawName(law)) throw mismatch('--law', `one of ${LAW_NAMES.join(', ')} here`, `${law} (a whole-curve law: fit and predict take it)`);
  return law;
}

/** One line per run whose size changed, for the text output. */
export function sizeChangeLines(changes: readonly SizeChange[]): string[] {
  return changes.map((c) => `size changed mid-run: ${sizeChangeText(c)} (--size-changes refuse to stop instead)`);
}

/** Four significant digits, in exponent form for large or small magnitudes. */
export function fmt(x: number): string {
  const a = Math.abs(x);
  return a !== 0 && (a >= 1e5 || a < 1e-3) ? x.toExponential(3) : String(Number(x.toPrecision(4)));
}

/** `2.081 (95% interval 2.03–2.12)` */
export function estimateText(e: Estimate, confidence?: number): string {
  return e.interval ? `${fmt(e.value)} (${Math.round((confidence ?? 0.95) * 100)}% interval ${fmt(e.interval[0])} – ${fmt(e.interval[1])})` : fmt(e.value);
}

/** A progress bar on stderr for slow loops (shown on terminals only). */
export function progressBar(label: string, total: number) {
  const bar = new cliProgress.SingleBar(
    { format: `${label} |{bar}| {value}/{total} | ETA {eta}s`, stream: process.stderr, hideCursor: true, barsize: 24 },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return { update: (done: number) => bar.update(done), stop: () => bar.stop() };
}

/** Observed points and fitted curves per model size, with the bootstrap's prediction band when there is one. */
async function plotFit(path: string, points: readonly Point[], fit: FittedLaw, boot?: BootstrapResult): Promise<void> {
  const estimate = { law: fit.law, theta: fit.theta, ...(boot ? { bootstrap: { thetas: boot.thetas, confidence: boot.confidence } } : {}) };
  const sizes = [...new Set(points.map((p) => p.params))].sort((a, b) => a - b);
  const series: ChartSeries[] = sizes.flatMap((N) => {
    const own = points.filter((p) => p.params === N);
    const lo = Math.min(...own.map((p) => p.tokens));
    const hi = Math.max(...own.map((p) => p.tokens));
    const curve = Array.from({ length: 40 }, (_, i) => {
      const D = lo * (hi / lo) ** (i / 39);
      const e = predictLoss(estimate, N, D);
      return { x: D, y: e.value, ...(e.interval ? { lo: e.interval[0], hi: e.interval[1] } : {}) };
    });
    const name = `N=${countLabel(N)}`;
    const band = boot && hi > lo ? [{ name, value: N, mark: 'band' as const, points: curve.map((c) => ({ x: c.x, y: c.lo!, y2: c.hi! })) }] : [];
    return [
      ...band,
      { name, value: N, mark: 'point' as const, points: own.map((p) => ({ x: p.tokens, y: p.loss })) },
      ...(hi > lo ? [{ name, value: N, mark: 'line' as const, points: curve.map((c) => ({ x: c.x, y: c.y })) }] : []),
    ];
  });
  const bandNote = boot ? `; band: ${Math.round(boot.confidence * 100)}% bootstrap interval (${boot.samples} resamples)` : '';
  await writeLineChartSvg(path, {
    title: `${fit.formula} (${fit.loss === 'huber' ? 'Huber' : 'least squares'} on log L)`,
    subtitle: `dots: observed; lines: fitted law per model size${bandNote}`,
    width: 640,
    xLabel: 'training tokens D',
    yLabel: 'loss (nats/token)',
    logX: true,
    logY: true,
    series,
    colorScale: { title: 'parameters N', log: true },
    countAxes: { x: true, color: true },
  });
}

interface FitFlags extends DataFlags {
  earlyFraction?: number;
  untilFraction?: number;
  bootstrapUnit?: CurveBootstrapUnit;
  bootstrap: number;
  seed: number;
  confidence: number;
  out?: string;
}

export function registerFit(program: Command): void {
  addDataOptions(
    program
      .command('fit')
      .description('fit a scaling law to observations (CSV or JSONL with params, tokens, loss; or runs\' metrics.jsonl)')
      .argument('<data...>', "data files (.csv, .jsonl, run directories; '-': standard input)"),
  )
    .option('--early-fraction <x>', "drop each run's checkpoints in the first x of its tokens (default 0; 0.1 suits training curves, and is the default of curve laws)", nonNegativeNumber)
    .option('--until-fraction <x>', "curve laws: fit each run's first x of its steps only (early prediction)", positiveNumber)
    .option('--bootstrap <n>', 'bootstrap resamples over models, for confidence intervals (0: none)', nonNegativeInt, 0)
    .addOption(new Option('--bootstrap-unit <unit>', 'curve laws: resample whole runs, or blocks of each run\'s losses (default: runs when there are 3 or more)').choices(['runs', 'blocks']))
    .option('--seed <n>', 'bootstrap seed', nonNegativeInt, 0)
    .option('--confidence <p>', 'interval probability', positiveNumber, 0.95)
    .option('--out <law.json>', 'write the fitted law (for predict and plan)')
    .action(async (files: string[], flags: FitFlags) => {
      await checkOutputFiles([['--out', flags.out], ['--plot', flags.plot]], flags.force);
      if (isCurveLawName(flags.law)) return runCurveFit(files, { ...flags, law: flags.law });
      if (flags.untilFraction !== undefined) throw mismatch('--until-fraction', 'a curve law (--law annealing or multipower)', flags.law);
      const earlyFraction = flags.earlyFraction ?? 0;
      const sized = handleSizeChanges(loadPoints(files, flags), flags.sizeChanges);
      const points = dropEarlyCheckpoints(sized.points, earlyFraction);
      const started = performance.now();
      const fixed = fixedParams(flags);
      const fit = fitLaw(points, { law: flags.law, loss: flags.loss, delta: flags.delta, starts: flags.starts, fixed });
      printWarnings(fit.warnings);
      const fitSeconds = (performance.now() - started) / 1000;
      let boot: BootstrapResult | undefined;
      if (flags.bootstrap > 0) {
        const bar = progressBar('bootstrap', flags.bootstrap);
        try {
          boot = bootstrapFit(points, fit, {
            samples: flags.bootstrap,
            seed: flags.seed,
            confidence: flags.confidence,
            onProgress: (done) => bar.update(done),
          });
        } finally {
          bar.stop();
        }
      }
      const file = toLawFile(fit, boot);
      // core (and with it tfjs) is loaded only when a file is written, so fits without --out start fast.
      if (flags.out) (await import('@efficientscale/core/node')).writeFileAtomic(flags.out, `${JSON.stringify(file, null, 2)}\n`);
      if (flags.plot) await plotFit(flags.plot, points, fit, boot);
      const seconds = (performance.now() - started) / 1000;
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ ...file, earlyFraction, sizeChanges: sized.changes, fitSeconds, seconds, out: flags.out ?? null, plot: flags.plot ?? null })}\n`);
        return;
      }
      const lines = [
        `${fit.formula}  (${fit.loss === 'huber' ? `Huber δ=${fit.delta}` : 'least squares'} on log L)`,
        `fitted on ${fit.points} points from ${fit.modelSizes} model sizes in ${fitSeconds.toFixed(2)} s (${fit.startsRun} L-BFGS starts)`,
        ...Object.entries(fit.params).map(([name, value]) => {
          const ci = boot?.intervals[name];
          if (fit.fixed && name in fit.fixed) return `  ${name.padEnd(6)} ${fmt(value)} (fixed)`;
          return `  ${name.padEnd(6)} ${estimateText({ value, interval: ci }, boot?.confidence)}`;
        }),
      ];
      if (earlyFraction > 0) lines.push(`early checkpoints dropped: the first ${Number((earlyFraction * 100).toPrecision(4))}% of each run's tokens`);
      lines.push(...sizeChangeLines(sized.changes));
      if (boot) lines.push(`intervals: bootstrap over models, ${boot.samples} resamples, seed ${boot.seed}`);
      if (flags.out) lines.push(`law written to ${flags.out}`);
      if (flags.plot) lines.push(`plot written to ${flags.plot}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
