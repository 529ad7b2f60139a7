import * as path from 'node:path';
import { getPreset, llamaConfig, mismatch, parseConfig, readText, tokenizerByName, type ModelConfig } from '@efficientscale/core';
import type { Plan, TrainStage } from './plan.js';

/** The first stage's model: a preset's, a shape (Llama defaults), or a config.json next to the plan. */
export function initialConfig(plan: Plan, stage: TrainStage): ModelConfig {
  const vocab = tokenizerByName(plan.tokenizer).vocabSize;
  const given = (['preset', 'model', 'config'] as const).filter((k) => stage[k] !== undefined);
  if (given.length !== 1) {
    throw mismatch('stages[0] (train)', 'exactly one of "preset", "model", "config" (the model to start from)', given.length ? `${given.join(' and ')}` : 'none');
  }
  if (stage.preset) return { ...getPreset(stage.preset).config, vocab_size: vocab };
  if (stage.model) {
    const m = stage.model;
    if (m.hidden % m.heads !== 0) throw mismatch('stages[0].model.heads', `a divisor of hidden (${m.hidden})`, String(m.heads));
    return llamaConfig({ vocab, hidden: m.hidden, ffn: m.ffn, layers: m.layers, heads: m.heads, kvHeads: m.kvHeads, maxPositions: m.maxPositions ?? Math.max(256, plan.seq) });
  }
  const file = path.resolve(plan.baseDir, stage.config!);
  return parseConfig(readText(file, 'a config.json'), file);
}
