import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkpointTokenizer, getPreset, llamaConfig, mismatch, parseConfig, readText, resolveCheckpointDir, tokenizerByName, type ModelConfig } from '@efficientscale/core/node';
import type { Plan, TrainStage } from './plan.js';

/** The checkpoint directory a first stage's `from` names (a run directory resolves to its checkpoint/); refused unless it holds a config.json. */
export function fromCheckpointDir(plan: Plan, stage: TrainStage): string {
  const given = path.resolve(plan.baseDir, stage.from!);
  if (!fs.existsSync(given) || !fs.statSync(given).isDirectory()) throw mismatch(`stages[0].from ${given}`, 'a run or checkpoint directory', 'nothing readable at that path');
  const dir = resolveCheckpointDir(given);
  if (!fs.existsSync(path.join(dir, 'config.json'))) throw mismatch(`stages[0].from ${given}`, 'a run or checkpoint directory containing config.json', 'no config.json');
  return dir;
}

/** The first stage's model: a preset's, a shape (Llama defaults), or a config.json next to the plan. */
export function initialConfig(plan: Plan, stage: TrainStage): ModelConfig {
  const vocab = tokenizerByName(plan.tokenizer).vocabSize;
  const given = (['preset', 'model', 'config', 'from'] as const).filter((k) => stage[k] !== undefined);
  if (given.length !== 1) {
    throw mismatch('stages[0] (train)', 'exactly one of "preset", "model", "config", "from" (the model to start from)', given.length ? `${given.join(' and ')}` : 'none');
  }
  if (stage.from) {
    const dir = fromCheckpointDir(plan, stage);
    const config = parseConfig(readText(path.join(dir, 'config.json'), 'a config.json'), path.join(dir, 'config.json'));
    if (config.vocab_size < vocab) throw mismatch(`${dir}/config.json "vocab_size"`, `at least the ${plan.tokenizer} tokenizer's ${vocab} tokens`, String(config.vocab_size));
    // The run goes on with the tokenizer the weights were trained with, or it would read other ids silently.
    const own = checkpointTokenizer(dir);
    if (own && own.name !== plan.tokenizer) throw mismatch(`stages[0].from ${dir}`, `a checkpoint trained with the plan's tokenizer "${plan.tokenizer}" (set the plan's "tokenizer")`, `one with ${own.name}`);
    return config;
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
