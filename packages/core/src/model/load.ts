import * as path from 'node:path';
import { tf } from '../tf.js';
import { mismatch } from '../errors.js';
import { loadCheckpointFiles, saveCheckpoint, type LoadOptions } from '../io/checkpoint.js';
import { validateConfig, type ModelConfig } from './config.js';
import { checkParams, type Params } from './params.js';
import { fromRaw, mapValues, toRaw } from './raw.js';

export interface LoadedModel {
  config: ModelConfig;
  params: Params;
}

/**
 * Loads config.json + model.safetensors from any Hugging Face-layout directory, checked against each other;
 * NaN/Inf weights are refused unless `options.allowNonfinite`.
 */
export function loadModel(dir: string, options: LoadOptions = {}): LoadedModel {
  const files = loadCheckpointFiles(dir, options);
  const config = validateConfig(files.config, path.join(dir, 'config.json'));
  const source = path.join(dir, 'model.safetensors');
  for (const [name, t] of Object.entries(files.params)) {
    if (t.dtype !== 'F32') throw mismatch(`${source}: weight "${name}"`, 'a floating-point tensor (F32, F16, BF16 or F64)', t.dtype);
  }
  checkParams(config, files.params, source);
  const weights = Object.fromEntries(Object.entries(files.params).filter(([name]) => !name.endsWith('rotary_emb.inv_freq')));
  const params = mapValues(weights, fromRaw);
  return { config, params };
}

/** Writes a model (no optimizer state) as a Hugging Face-layout checkpoint directory, atomically. */
export function saveModel(dir: string, config: ModelConfig, params: Params, extraFiles?: Record<string, string>): void {
  saveCheckpoint(dir, { config, params: mapValues(params, toRaw), extraFiles });
}

export function disposeModel(model: LoadedModel): void {
  tf.dispose(Object.values(model.params));
}
