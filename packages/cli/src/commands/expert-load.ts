import * as path from 'node:path';
import type { Command } from 'commander';
import { mismatch, readMetrics, type FfnMetrics } from '@efficientscale/core/node';
import { summarizeExpertLoad } from '@efficientscale/moe';
import { positiveInt } from './options.js';
import { metricsFilesOf } from '@efficientscale/scaling-laws/node';
import { addForceOption, prepareOutputDir } from './outputs.js';

const EXPERT_LOAD_FILE = 'expert-load.svg';

interface ExpertLoadFlags {
  out: string;
  title: string;
  window: number;
  json?: boolean;
  force?: boolean;
}

interface LoadPoint {
  step: number;
  /** Busiest expert's share over all MoE layers, and the idlest one's. */
  max: number;
  min: number;
  experts: number;
}

/** Per logged step of a run: the busiest and idlest expert's share of the tokens (over its MoE layers). */
export function expertLoadOverTime(records: readonly { step: number; ffn_metrics?: FfnMetrics }[]): LoadPoint[] {
  const points: LoadPoint[] = [];
  for (const r of records) {
    const layers = summarizeExpertLoad(r.ffn_metrics);
    if (layers.length === 0) continue;
    points.push({ step: r.step, max: Math.max(...layers.map((l) => l.max)), min: Math.min(...layers.map((l) => l.min)), experts: Math.max(...layers.map((l) => l.experts)) });
  }
  return points;
}

/** Trailing mean over `window` points (per-step shares of a small batch are noisy). */
function smooth(values: number[], window: number): number[] {
  return values.map((_, i) => {
    const from = Math.max(0, i - window + 1);
    return values.slice(from, i + 1).reduce((a, b) => a + b, 0) / (i + 1 - from);
  });
}

export function registerExpertLoad(program: Command): void {
  addForceOption(program
    .command('expert-load'))
    .description('plot MoE runs\' expert load over training (busiest and idlest expert\'s share of the tokens, from metrics.jsonl) as SVG')
    .argument('<dirs...>', 'run directories of MoE models (or pipeline outputs)')
    .option('--out <dir>', 'directory for expert-load.svg', '.')
    .option('--title <text>', 'chart title', 'expert load')
    .option('--window <n>', 'steps to average each point over', positiveInt, 10)
    .option('--json', 'print one JSON object')
    .action(async (dirs: string[], flags: ExpertLoadFlags) => {
      const { assertPlotting, writeLineChartSvg } = await import('../plot/chart.js');
      await assertPlotting('expert-load');
      // A pipeline output's dense stages log no expert load: its MoE stages are the curves.
      const runs = dirs.flatMap((dir) => {
        const withLoad = metricsFilesOf(dir).map((r) => ({ ...r, points: expertLoadOverTime(readMetrics(r.file)) })).filter((r) => r.points.length > 0);
        if (withLoad.length === 0) throw mismatch(dir, 'an MoE run, or a pipeline output with an MoE stage (ffn_metrics.expert_load in its metrics.jsonl)', 'no expert load logged');
        return withLoad;
      });
      await prepareOutputDir(flags.out, [EXPERT_LOAD_FILE], flags.force);
      const series = runs.flatMap((r) => {
        const steps = r.points.map((p) => p.step);
        const line = (name: string, ys: number[], dashed = false) => ({ name, points: ys.map((y, i) => ({ x: steps[i], y: 100 * y })), mark: 'line' as const, dashed });
        return [line(`${r.name} max`, smooth(r.points.map((p) => p.max), flags.window)), line(`${r.name} min`, smooth(r.points.map((p) => p.min), flags.window), true)];
      });
      const allSteps = runs.flatMap((r) => r.points.map((p) => p.step));
      const span = [Math.min(...allSteps), Math.max(...allSteps)];
      for (const e of new Set(runs.flatMap((r) => r.points.map((p) => p.experts)))) {
        series.push({ name: `even share (1/${e})`, points: span.map((x) => ({ x, y: 100 / e })), mark: 'line', dashed: true });
      }
      const file = path.join(flags.out, EXPERT_LOAD_FILE);
      await writeLineChartSvg(file, {
        title: `${flags.title}: share of the routed tokens`,
        subtitle: `max: the busiest expert (solid), min: the idlest (dashed), over all MoE layers; mean of ${flags.window} steps`,
        xLabel: 'training step',
        yLabel: 'share of the tokens (%)',
        series,
      });
      const summary = runs.map((r) => {
        const last = r.points.slice(-flags.window);
        const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
        return { run: r.name, steps: r.points.length, experts: last[0].experts, final_max_share: mean(last.map((p) => p.max)), final_min_share: mean(last.map((p) => p.min)) };
      });
      if (flags.json) process.stdout.write(`${JSON.stringify({ file, runs: summary })}\n`);
      else {
        for (const s of summary) {
          process.stdout.write(`${s.run}: last ${Math.min(flags.window, s.steps)} steps, busiest expert ${(100 * s.final_max_share).toFixed(1)}%, idlest ${(100 * s.final_min_share).toFixed(1)}% (even: ${(100 / s.experts).toFixed(1)}%)\n`);
        }
        process.stdout.write(`wrote ${file}\n`);
      }
    });
}
