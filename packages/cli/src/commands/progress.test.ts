import { describe, expect, it, vi } from 'vitest';
import type { Progress } from '@efficientscale/core/node';
import { trainingProgress } from './progress.js';

const step = (n: number, shares?: number[]): Progress => ({
  step: n, loss: 3, auxLoss: 0, lr: 1e-3, gradNorm: 1, tokens: 64 * n, flops: 1e6 * n, stepSeconds: 0.01,
  totalSteps: 60, tokensPerSecond: 1000, etaSeconds: 1,
  ffnMetrics: shares && { expert_load: { 0: shares, 1: [0.25, 0.25, 0.25, 0.25] } },
});

function captured(run: () => void): string {
  let text = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  });
  try {
    run();
  } finally {
    spy.mockRestore();
  }
  return text;
}

describe('training progress', () => {
  it('shows the busiest and idlest expert of MoE models and warns once about an expert without tokens', () => {
    const text = captured(() => {
      const p = trainingProgress(0);
      for (let i = 1; i <= 60; i++) p.update(step(i, [0.7, 0.3, 0, 0]));
      p.stop();
    });
    expect(text).toMatch(/loss 3\.000 eval - \| experts max 70% min 0% \| 1000 tok\/s/);
    const warnings = text.match(/warning: layer 0 expert 2, layer 0 expert 3 received no tokens for 50 consecutive steps \(at step 50\)/g);
    expect(warnings).toHaveLength(1);
  });

  it('keeps the dense line as it was', () => {
    const text = captured(() => {
      const p = trainingProgress(0);
      p.update(step(1));
      p.stop();
    });
    expect(text).toMatch(/loss 3\.000 eval - \| 1000 tok\/s/);
    expect(text).not.toMatch(/experts|warning/);
  });
});
