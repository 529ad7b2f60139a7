import { describe, expect, it } from 'vitest';
import { llamaConfig } from './config.js';
import { PROCESS_BYTES, trainingMemory } from './memory.js';

/**
 * Peak RSS above the process's own (MiB) of one training step and one evaluation, measured on the native
 * backend with /tmp probe runs described in core's README ("Memory"): the estimate's fit and two shapes
 * left out of the fit (J, K). The estimate must stay within 8% of each.
 */
const MEASURED: Array<[string, Parameters<typeof llamaConfig>[0], number, number, number]> = [
  ['B (weights)', { vocab: 256, hidden: 1024, ffn: 2816, layers: 4, heads: 8, maxPositions: 16 }, 1, 16, 1005],
  ['C (logits)', { vocab: 100000, hidden: 64, ffn: 172, layers: 1, heads: 4, maxPositions: 64 }, 4, 64, 654],
  ['D (activations)', { vocab: 256, hidden: 128, ffn: 344, layers: 4, heads: 4, maxPositions: 64 }, 128, 64, 944],
  ['E (attention)', { vocab: 256, hidden: 64, ffn: 172, layers: 2, heads: 8, maxPositions: 1024 }, 4, 1024, 883],
  ['F (layers)', { vocab: 256, hidden: 128, ffn: 344, layers: 8, heads: 4, maxPositions: 64 }, 128, 64, 1846],
  ['G (FFN)', { vocab: 256, hidden: 128, ffn: 1376, layers: 4, heads: 4, maxPositions: 64 }, 128, 64, 1755],
  ['H (heads)', { vocab: 256, hidden: 128, ffn: 344, layers: 4, heads: 16, maxPositions: 64 }, 128, 64, 1234],
  ['I (hidden)', { vocab: 256, hidden: 512, ffn: 344, layers: 4, heads: 4, maxPositions: 64 }, 32, 64, 765],
  ['J (held out)', { vocab: 32000, hidden: 256, ffn: 688, layers: 3, heads: 4, maxPositions: 128 }, 16, 128, 1733],
  ['K (held out, GQA)', { vocab: 5000, hidden: 192, ffn: 512, layers: 6, heads: 6, kvHeads: 2, maxPositions: 256 }, 32, 256, 3155],
];

describe('trainingMemory', () => {
  it.each(MEASURED)('%s: within 8%% of the measured peak', (_name, dims, batch, seq, measuredMiB) => {
    const estimate = (trainingMemory(llamaConfig(dims), batch, seq).total - PROCESS_BYTES) / 2 ** 20;
    expect(Math.abs(estimate / measuredMiB - 1)).toBeLessThan(0.08);
  });

  it('splits the total into weights and activations, and grows with each dimension', () => {
    const base = llamaConfig({ vocab: 256, hidden: 64, ffn: 172, layers: 2, heads: 4, maxPositions: 64 });
    const m = trainingMemory(base, 8, 64);
    expect(m.total).toBe(PROCESS_BYTES + m.weights + m.activations);
    expect(trainingMemory(base, 16, 64).activations).toBeGreaterThan(m.activations);
    expect(trainingMemory(llamaConfig({ vocab: 256, hidden: 64, ffn: 172, layers: 4, heads: 4, maxPositions: 64 }), 8, 64).weights).toBeGreaterThan(m.weights);
  });
});
