import { extname } from 'node:path';
import type { Command } from 'commander';
import { cutoffText, evaluateFamilies, type FamilyEvaluation } from '@efficientscale/scaling-laws';
import { countLabel, writeLineChartSvg } from '../plot/index.js';
import { addDataOptions, fixedParams, fmt, loadPoints, pointLaw, printWarnings, sizeChangeLines, type DataFlags } from './fit.js';
import { nonNegativeNumber, positiveInt, positiveNumber } from './numbers.js';
import { checkOutputFiles } from './outputs.js';

interface EvaluateFlags extends DataFlags {
  minTokens?: number;
  earlyFraction: number;
  testFraction: number;
  trainFraction: number;
  smallerModels?: number;
}

/** `fit.svg` for one family; `fit-<family>.svg` for each of several. */
function plotPath(path: string, family: string, many: boolean): string {
  if (!many) return path;
  const ext = extname(path);
  return `${path.slice(0, path.length - ext.length)}-${family.replace(/[^A-Za-z0-9._-]+/g, '_')}${ext || '.svg'}`;
}

async function plotTarget(path: string, e: FamilyEvaluation): Promise<void> {
  await writeLineChartSvg(path, {
    title: `${e.family}: ${e.target.model} (N=${countLabel(e.target.params)}) predicted from ${e.trainModels.length} smaller models (ARE ${(e.are * 100).toFixed(2)}%)`,
    xLabel: 'training tokens D',
    yLabel: 'loss (nats/token)',
    logX: true,
    countAxes: { x: true },
    series: [
      { name: 'observed', mark: 'point', points: e.test.map((t) => ({ x: t.tokens, y: t.loss })) },
      { name: 'predicted', mark: 'line', points: e.test.map((t) => ({ x: t.tokens, y: t.predicted })) },
    ],
  });
}

export function registerEvaluate(program: Command): void {
  addDataOptions(
    program
      .command('evaluate')
      .description("score a law form per family with the protocol of \"A Hitchhiker's Guide to Scaling Law Estimation\"")
      .argument('<data...>', 'data files (.csv, .jsonl) with model and family columns, or run directories'),
  )
    .option('--early-fraction <x>', "drop each smaller run's checkpoints in the first x of its tokens", nonNegativeNumber, 0.1)
    .option('--min-tokens <n>', "instead, drop smaller models' checkpoints at or below this many tokens (absolute)", nonNegativeNumber)
    .option('--test-fraction <x>', "the target's checkpoints past this fraction of its tokens are the test points", positiveNumber, 0.7)
    .option('--train-fraction <x>', 'use only the first x of each smaller run (partial runs)', positiveNumber, 1)
    .option('--smaller-models <k>', 'use only the k largest smaller models', positiveInt)
    .action(async (files: string[], flags: EvaluateFlags) => {
      await checkOutputFiles([['--plot', flags.plot]], flags.force);
      const points = loadPoints(files, flags);
      const started = performance.now();
      const results = evaluateFamilies(points, {
        law: pointLaw(flags.law),
        loss: flags.loss,
        delta: flags.delta,
        starts: flags.starts,
        minTokens: flags.minTokens,
        earlyFraction: flags.earlyFraction,
        fixed: fixedParams(flags),
        testFraction: flags.testFraction,
        trainFraction: flags.trainFraction,
        smallerModels: flags.smallerModels,
        sizeChanges: flags.sizeChanges,
      });
      const seconds = (performance.now() - started) / 1000;
      for (const e of results) printWarnings(e.fit.warnings, `${e.family}: `);
      const plots: string[] = [];
      if (flags.plot) {
        for (const e of results) {
          const path = plotPath(flags.plot, e.family, results.length > 1);
          if (path !== flags.plot) await checkOutputFiles([['--plot', path]], flags.force);
          await plotTarget(path, e);
          plots.push(path);
        }
      }
      if (flags.json) {
        const families = results.map((e) => ({
          family: e.family,
          cutoff: e.cutoff,
          target: e.target,
          trainModels: e.trainModels,
          params: e.fit.params,
          fixed: e.fit.fixed ?? null,
          warnings: e.fit.warnings,
          sizeChanges: e.sizeChanges,
          testPoints: e.test.length,
          are: e.are,
          test: e.test,
        }));
        process.stdout.write(`${JSON.stringify({ law: flags.law, loss: flags.loss, families, seconds, plots })}\n`);
        return;
      }
      const lines = results.map(
        (e) =>
          `${e.family}: target ${e.target.model} (N=${fmt(e.target.params)}), fit on ${e.trainModels.length} smaller models, ` +
          `${e.test.length} test points, ARE ${(e.are * 100).toFixed(2)}%`,
      );
      const cutoffs = [
        ...new Set(results.map((e) => (e.cutoff.kind === 'absolute' ? `those at or below ${fmt(e.cutoff.tokens)} tokens (--min-tokens)` : cutoffText(e.cutoff)))),
      ];
      lines.push(`early checkpoints dropped: ${cutoffs.join('; ')}`);
      lines.push(...sizeChangeLines(results.flatMap((e) => e.sizeChanges)));
      lines.push(...plots.map((p) => `plot written to ${p}`));
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
