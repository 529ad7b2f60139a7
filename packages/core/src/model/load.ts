import { tf } from '../tf.js';
import { saveCheckpoint, type LoadOptions } from '../io/checkpoint.js';
import { loadHfModel } from '../hf/load-model.js';
import { float32Config } from '../hf/write-config.js';
import type { TokenizerSource } from '../hf/tokenizer-files.js';
import type { ModelConfig } from './config.js';
import type { Params } from './params.js';
import { mapValues, toRaw } from './raw.js';

export interface LoadedModel {
  config: ModelConfig;
  params: Params;
}

/**
 * Loads config.json + model.safetensors (or its shards) from any Hugging Face-layout directory, tensor by
 * tensor, checked against each other; F16/BF16 become float32; NaN/Inf weights are refused unless
 * `options.allowNonfinite`.
 */
export function loadModel(dir: string, options: LoadOptions = {}): LoadedModel {
  return loadHfModel(dir, options);
}

/**
 * Writes a model (no optimizer state) as a Hugging Face-layout checkpoint directory, atomically; float32, and
 * config.json says so. `tokenizer`: the model's, or a checkpoint directory whose tokenizer files to carry.
 */
export function saveModel(dir: string, config: ModelConfig, params: Params, tokenizer: TokenizerSource, extraFiles?: Record<string, string>): void {
  saveCheckpoint(dir, { config: float32Config(config), params: mapValues(params, toRaw), tokenizer, extraFiles });
}

export function disposeModel(model: LoadedModel): void {
  tf.dispose(Object.values(model.params));
}
