import { tf } from '../tf.js';
import type { Batch } from '../data/batches.js';
import type { ModelConfig } from '../model/config.js';
import { averageFfnMetrics, readDeviceMetrics, type FfnDeviceMetrics, type FfnMetrics } from '../model/ffn-slot.js';
import { forwardWithAux } from '../model/forward.js';
import type { Params } from '../model/params.js';
import { crossEntropy } from './loss.js';

export interface EvaluatedLoss {
  /** Mean next-token cross-entropy over the batches (nats/token). */
  loss: number;
  /** Each batch's mean (a non-finite one says which batch went wrong). */
  batchLosses: number[];
  /** The FFN slots' metrics averaged over the batches (absent for dense models), e.g. MoE expert loads. */
  ffnMetrics?: FfnMetrics;
}

/**
 * A model's mean cross-entropy on fixed batches [batchSize, seqLen]. Every batch is queued before
 * anything is read, and the reads are asynchronous, so on a GPU backend the device never waits for the
 * host in between (and Node, where webgpu cannot read synchronously, works).
 */
export async function evaluateLoss(config: ModelConfig, params: Params, batches: Batch[], batchSize: number, seqLen: number): Promise<EvaluatedLoss> {
  const metrics: FfnMetrics[] = [];
  const device: FfnDeviceMetrics[] = [];
  const losses = batches.map((b) =>
    tf.tidy(() => {
      const out = forwardWithAux(config, params, tf.tensor2d(b.inputs, [batchSize, seqLen], 'int32'));
      metrics.push(out.ffnMetrics);
      for (const layers of Object.values(out.ffnDeviceMetrics)) for (const t of Object.values(layers)) tf.keep(t);
      device.push(out.ffnDeviceMetrics);
      return crossEntropy(out.logits, tf.tensor2d(b.targets, [batchSize, seqLen], 'int32'));
    }),
  );
  try {
    const [values] = await Promise.all([Promise.all(losses.map(async (t) => (await t.data())[0])), ...device.map((d, i) => readDeviceMetrics(d, metrics[i]))]);
    const loss = values.reduce((s, x) => s + x, 0) / values.length;
    const ffnMetrics = averageFfnMetrics(metrics);
    return { loss, batchLosses: values, ...(ffnMetrics ? { ffnMetrics } : {}) };
  } finally {
    tf.dispose(losses);
    for (const d of device) for (const layers of Object.values(d)) tf.dispose(Object.values(layers));
  }
}
