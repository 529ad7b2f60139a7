import * as path from 'node:path';
import { readMetrics } from '@efficientscale/core/node';
import { writeLineChartSvgIfPlotting, type ChartPoint } from '../plot/chart.js';

/** Plots train and eval loss against tokens seen, with the unigram entropy as the bar to beat; returns its path, or undefined without vega. */
export async function writeLossPlot(runDir: string, unigramEntropy: number): Promise<string | undefined> {
  const metrics = readMetrics(path.join(runDir, 'metrics.jsonl'));
  const train: ChartPoint[] = metrics.map((m) => ({ x: m.tokens, y: m.loss }));
  const evals: ChartPoint[] = metrics.filter((m) => m.eval_loss != null).map((m) => ({ x: m.tokens, y: m.eval_loss! }));
  const xs = [metrics[0]?.tokens ?? 0, metrics[metrics.length - 1]?.tokens ?? 1];
  const out = path.join(runDir, 'loss.svg');
  const drawn = await writeLineChartSvgIfPlotting(out, {
    title: `Training loss (${path.basename(path.resolve(runDir))})`,
    xLabel: 'tokens seen',
    yLabel: 'loss (nats/token)',
    series: [
      { name: 'train loss', points: train, mark: 'line' },
      { name: 'eval loss', points: evals, mark: 'point' },
      { name: 'unigram entropy', points: xs.map((x) => ({ x, y: unigramEntropy })), mark: 'line', dashed: true },
    ],
  });
  return drawn ? out : undefined;
}
