import { tf } from '../tf.js';
import { dimsOf, validateConfig, type Dims, type ModelConfig } from '../model/config.js';
import { forwardWithAux } from '../model/forward.js';
import { embeddingLookup } from '../model/embedding.js';
import { checkParams, initParams, paramShapes, type Params } from '../model/params.js';
import { flopsPerToken } from '../model/flops.js';
import { rmsNorm } from '../ops/fused.js';

/*
 * A 0-layer model (embeddings → final norm → head: where zero-layer progressive training starts) is no
 * valid config.json for dimsOf, which wants at least one layer. The trainer sizes, checks, initialises
 * and runs it through a 1-layer view of its config without that layer's weights.
 */
const oneLayerView = (c: ModelConfig): ModelConfig => ({ ...c, num_hidden_layers: 1, efficientscale: c.efficientscale && { ...c.efficientscale, ffn_kinds: undefined } });
const isLayerWeight = (name: string) => name.startsWith('model.layers.');

/** The weights a trainable config implies (paramShapes, 0 layers allowed). */
export function trainableShapes(config: ModelConfig): Record<string, number[]> {
  if (config.num_hidden_layers !== 0) return paramShapes(config);
  return Object.fromEntries(Object.entries(paramShapes(oneLayerView(config))).filter(([name]) => !isLayerWeight(name)));
}

/** validateConfig, 0 layers allowed. */
export function validateTrainable(json: unknown, source: string): ModelConfig {
  const config = json as ModelConfig;
  if (config?.num_hidden_layers !== 0) return validateConfig(json, source);
  validateConfig(oneLayerView(config), source);
  return config;
}

/** dimsOf, 0 layers allowed. */
export function trainableDims(config: ModelConfig): Dims {
  return config.num_hidden_layers !== 0 ? dimsOf(config) : { ...dimsOf(oneLayerView(config)), layers: 0 };
}

/** countParams, 0 layers allowed. */
export function countTrainable(config: ModelConfig): number {
  return Object.values(trainableShapes(config)).reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0);
}

/** checkParams, 0 layers allowed. */
export function checkTrainable(config: ModelConfig, params: Record<string, { shape: number[] }>, source: string): void {
  if (config.num_hidden_layers !== 0) return checkParams(config, params, source);
  const layer = Object.entries(paramShapes(oneLayerView(config))).filter(([name]) => isLayerWeight(name));
  checkParams(oneLayerView(config), { ...params, ...Object.fromEntries(layer.map(([name, shape]) => [name, { shape }])) }, source);
}

/** Training FLOPs per token (flopsPerToken), 0 layers allowed: then only the LM head runs a product. */
export function trainFlopsPerToken(config: ModelConfig, seqLen: number): number {
  if (config.num_hidden_layers !== 0) return flopsPerToken(config, seqLen).trainPerToken;
  const d = dimsOf(oneLayerView(config));
  return 3 * 2 * d.vocab * d.hidden;
}

export function initTrainable(config: ModelConfig, seed: number): Params {
  if (config.num_hidden_layers !== 0) return initParams(config, seed);
  const all = initParams(oneLayerView(config), seed);
  tf.dispose(Object.entries(all).filter(([name]) => isLayerWeight(name)).map(([, t]) => t));
  return Object.fromEntries(Object.entries(all).filter(([name]) => !isLayerWeight(name)));
}

export function forwardTrainable(config: ModelConfig, params: Params, tokens: tf.Tensor2D): ReturnType<typeof forwardWithAux> {
  if (config.num_hidden_layers !== 0) return forwardWithAux(config, params, tokens);
  const d = dimsOf(oneLayerView(config));
  const [batch, seq] = tokens.shape;
  const logits = tf.tidy(() => {
    const h = embeddingLookup(params['model.embed_tokens.weight'] as tf.Tensor2D, tf.reshape(tokens, [batch * seq]) as tf.Tensor1D);
    const head = d.tied ? params['model.embed_tokens.weight'] : params['lm_head.weight'];
    return tf.reshape(tf.matMul(rmsNorm(h, params['model.norm.weight'], d.eps), head as tf.Tensor2D, false, true), [batch, seq, d.vocab]) as tf.Tensor3D;
  });
  return { logits, auxLoss: tf.scalar(0), ffnMetrics: {} } as ReturnType<typeof forwardWithAux>;
}
