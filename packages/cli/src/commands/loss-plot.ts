import * as path from 'node:path';
import { readMetrics } from '@efficientscale/core/node';
import { writeLineChartSvg, type ChartPoint } from '../plot/index.js';

/** Plots train and eval loss against tokens seen, with the unigram entropy as the bar to beat. */
export async function writeLossPlot(runDir: string, unigramEntropy: number): Promise<string> {
  const metrics = readMetrics(path.join(runDir, 'metrics.jsonl'));
  const train: ChartPoint[] = metrics.map((m) => ({ x: m.tokens, y: m.loss }));
  const evals: ChartPoint[] = metrics.filter((m) => m.eval_loss != null).map((m) => ({ x: m.tokens, y: m.eval_loss! }));
  const xs = [metrics[0]?.tokens ?? 0, metrics[metrics.length - 1]?.tokens ?? 1];
  const out = path.join(runDir, 'loss.svg');
  await writeLineChartSvg(out, {
    title: `Training loss (${path.basename(path.resolve(runDir))})`,
    xLabel: 'tokens seen',
    yLabel: 'loss (nats/token)',
    series: [
      { name: 'train loss', points: train, mark: 'line' },
      { name: 'eval loss', points: evals, mark: 'point' },
      { name: 'unigram entropy', points: xs.map((x) => ({ x, y: unigramEntropy })), mark: 'line', dashed: true },
    ],
  });
  return out;
}
