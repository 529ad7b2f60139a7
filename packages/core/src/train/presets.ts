import { UserError } from '../errors.js';
import { llamaConfig, type ModelConfig } from '../model/config.js';
import { defaultAdamW } from './adamw.js';
import type { RunSpec } from './run.js';

export interface Preset {
  description: string;
  config: ModelConfig;
  spec: RunSpec;
}

function preset(description: string, model: Parameters<typeof llamaConfig>[0], run: { batch: number; seq: number; steps: number; lr: number; warmup: number }): Preset {
  return {
    description,
    config: llamaConfig(model),
    spec: {
      totalSteps: run.steps,
      valFraction: 0.02,
      evalEvery: Math.max(1, Math.floor(run.steps / 10)),
      checkpointEvery: Math.max(1, Math.floor(run.steps / 4)),
      corpus: 'brown',
      trainer: {
        batchSize: run.batch,
        seqLen: run.seq,
        accumulation: 1,
        schedule: { kind: 'cosine', lr: run.lr, warmup: run.warmup, total: run.steps, minRatio: 0.1 },
        adamw: { ...defaultAdamW, weightDecay: 0.01 },
        clipNorm: 1,
        seed: 0,
        evalBatches: 8,
      },
    },
  };
}

/** Named starting points for `efficientscale train --preset`. */
export const presets: Record<string, Preset> = {
  tiny: preset(
    'byte-level, 2 layers, hidden 64: minutes on a laptop CPU, well below the corpus unigram entropy',
    { vocab: 256, hidden: 64, ffn: 172, layers: 2, heads: 4, kvHeads: 2, maxPositions: 256 },
    { batch: 8, seq: 64, steps: 120, lr: 5e-3, warmup: 10 },
  ),
  small: preset(
    'byte-level, 4 layers, hidden 256 (the benchmark shape): needs the native backend',
    { vocab: 256, hidden: 256, ffn: 688, layers: 4, heads: 4, kvHeads: 4, maxPositions: 512 },
    { batch: 16, seq: 128, steps: 2000, lr: 1e-3, warmup: 100 },
  ),
};

export function getPreset(name: string): Preset {
  const p = presets[name];
  if (!p) throw new UserError(`--preset: expected one of ${Object.keys(presets).join('|')}, found "${name}"`);
  return structuredClone(p);
}
