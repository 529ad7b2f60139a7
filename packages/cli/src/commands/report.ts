import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { mismatch, readMetrics } from '@efficientscale/core/node';
import { metricsFilesOf } from '@efficientscale/scaling-laws/node';
import { addForceOption, prepareOutputDir } from './outputs.js';

interface ReportFlags {
  out: string;
  title?: string;
  train?: boolean;
  json?: boolean;
  force?: boolean;
}

export function registerReport(program: Command): void {
  addForceOption(program
    .command('report'))
    .description('plot the eval loss of any runs (their metrics.jsonl) on shared axes: against tokens and against training FLOPs (SVG)')
    .argument('<dirs...>', 'run directories, or pipeline outputs (each stage is one curve)')
    .option('--out <dir>', 'directory for loss-vs-tokens.svg and loss-vs-flops.svg', '.')
    .option('--title <text>', 'chart title', 'runs')
    .option('--train', 'draw the training loss too (dashed)')
    .option('--json', 'print one JSON object')
    .action(async (dirs: string[], flags: ReportFlags) => {
      const { writeLossCurvePlots, evalPoints, LOSS_CURVE_FILES } = await import('../plot/loss-curves.js');
      await (await import('../plot/chart.js')).assertPlotting('report');
      // One pipeline output: its stages are named alone (the legend cuts long names off).
      const runs = dirs.flatMap((d) => metricsFilesOf(d, { prefix: dirs.length > 1 })).map((r) => ({ ...r, records: readMetrics(r.file) }));
      const empty = runs.find((r) => r.records.length === 0);
      if (empty) throw mismatch(empty.file, 'at least one logged step', 'none');
      await prepareOutputDir(flags.out, LOSS_CURVE_FILES, flags.force);
      const files = await writeLossCurvePlots(flags.out, runs.map((r) => ({ name: r.name, records: r.records, train: flags.train })), flags.title ?? 'runs');
      const summary = runs.map((r) => {
        const last = r.records[r.records.length - 1];
        const evals = evalPoints(r.records, 'flops');
        return { run: r.name, steps: last.step, tokens: last.tokens, flops: last.flops, final_eval_loss: evals.at(-1)?.y ?? null };
      });
      if (flags.json) process.stdout.write(`${JSON.stringify({ files, runs: summary })}\n`);
      else {
        for (const s of summary) {
          process.stdout.write(`${s.run}: ${s.steps} steps, ${s.tokens.toLocaleString('en')} tokens, ${s.flops.toExponential(2)} FLOPs, final eval loss ${s.final_eval_loss?.toFixed(3) ?? '-'}\n`);
        }
        process.stdout.write(`wrote ${files.join(', ')}\n`);
      }
    });
}
