import { UserError, mismatch } from '../errors.js';
import { parseJsonObject } from '../io/read.js';
import { MAX_TENSOR_ELEMENTS, checkConfigFields, maxParams } from './config-schema.js';
import { ropeScalingOf } from './rope.js';

/**
 * A model config: the Hugging Face `config.json` of `LlamaForCausalLM` / `MixtralForCausalLM`, kept as the
 * JSON object it is (unknown keys survive a round trip), plus one extra key, `efficientscale`, for what HF
 * has no field for (per-layer FFN kinds, a low-rank FFN's rank, ...).
 */
export interface ModelConfig {
  architectures?: string[];
  model_type?: string;
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads?: number;
  head_dim?: number;
  rms_norm_eps?: number;
  rope_theta?: number;
  rope_parameters?: { rope_theta?: number; rope_type?: string; [k: string]: unknown };
  max_position_embeddings?: number;
  tie_word_embeddings?: boolean;
  attention_bias?: boolean;
  mlp_bias?: boolean;
  efficientscale?: EfficientScaleExtras;
  [key: string]: unknown;
}

/** What HF config.json has no field for. */
export interface EfficientScaleExtras {
  /** FFN kind per layer (`dense`, `moe`, `lowrank`, ...); absent = the architecture's default kind. */
  ffn_kinds?: string[];
  /** Options of each FFN kind, keyed by kind (e.g. `{ lowrank: { rank: 32 } }`). */
  ffn_options?: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

/** The numbers the forward pass needs, checked once. */
export interface Dims {
  vocab: number;
  hidden: number;
  ffn: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  eps: number;
  ropeTheta: number;
  maxPositions: number;
  tied: boolean;
}

function positiveInt(cfg: Record<string, unknown>, key: string, fallback?: number): number {
  const v = cfg[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw mismatch(`"${key}"`, 'a positive integer', JSON.stringify(v));
  }
  return v;
}

/** Refuses one tensor over MAX_TENSOR_ELEMENTS elements (named by `what`). */
export function checkTensorSize(what: string, shape: number[]): void {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n > MAX_TENSOR_ELEMENTS) {
    throw mismatch(what, `at most ${MAX_TENSOR_ELEMENTS.toLocaleString('en')} elements per tensor`, `[${shape}] = ${n.toLocaleString('en')} elements`);
  }
}

/** Refuses a model over the parameter cap (EFFICIENTSCALE_MAX_PARAMS, default 2^32). */
export function checkTotalParams(total: number): void {
  const cap = maxParams();
  if (total > cap) {
    throw mismatch('model size', `at most ${cap.toLocaleString('en')} parameters (EFFICIENTSCALE_MAX_PARAMS)`, `${total.toLocaleString('en')} parameters`);
  }
}

/** Bounds the attention, embedding and dense-FFN tensors before anything is allocated or even listed. */
// Other FFN kinds (MoE, low-rank) are sized by paramShapes, which checks every tensor again.
function checkSizes(
  d: { vocab: number; hidden: number; ffn: number; layers: number; heads: number; kvHeads: number; headDim: number; tied: boolean },
  denseLayers: number,
): void {
  checkTensorSize('"vocab_size" × "hidden_size" (embedding)', [d.vocab, d.hidden]);
  checkTensorSize('"num_attention_heads" × "head_dim" × "hidden_size" (q_proj)', [d.heads * d.headDim, d.hidden]);
  if (denseLayers > 0) checkTensorSize('"intermediate_size" × "hidden_size" (FFN)', [d.ffn, d.hidden]);
  const attention = (2 * d.heads + 2 * d.kvHeads) * d.headDim * d.hidden + 2 * d.hidden;
  const total = d.vocab * d.hidden * (d.tied ? 1 : 2) + d.layers * attention + denseLayers * 3 * d.ffn * d.hidden + d.hidden;
  checkTotalParams(total);
}

/** Validates a config and returns its dimensions; throws one UserError naming the first impossible field. */
export function dimsOf(config: ModelConfig): Dims {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw mismatch('config', 'a JSON object', Array.isArray(config) ? 'an array' : String(config));
  }
  checkConfigFields(config);
  const c = config as Record<string, unknown>;
  const hidden = positiveInt(c, 'hidden_size');
  const heads = positiveInt(c, 'num_attention_heads');
  const kvHeads = positiveInt(c, 'num_key_value_heads', heads);
  if (c.head_dim == null && hidden % heads !== 0) {
    throw mismatch('"num_attention_heads"', `a divisor of hidden_size (${hidden}) unless head_dim is given`, String(heads));
  }
  const headDim = positiveInt(c, 'head_dim', hidden / heads);
  if (heads % kvHeads !== 0) {
    throw mismatch('"num_key_value_heads"', `a divisor of num_attention_heads (${heads})`, String(kvHeads));
  }
  if (headDim % 2 !== 0) throw mismatch('"head_dim"', 'an even number (RoPE rotates pairs)', String(headDim));
  // transformers 4 reads rope_theta, 5 reads rope_parameters.rope_theta: two different bases would be two models.
  const v4Theta = config.rope_theta ?? undefined;
  const v5Theta = config.rope_parameters?.rope_theta ?? undefined;
  if (v4Theta !== undefined && v5Theta !== undefined && v4Theta !== v5Theta) {
    throw mismatch('"rope_parameters.rope_theta"', `the same base as "rope_theta" (${v4Theta})`, String(v5Theta));
  }
  const ropeTheta = (v5Theta ?? v4Theta ?? 10000) as number;
  if (typeof ropeTheta !== 'number' || !(ropeTheta > 0)) throw mismatch('"rope_theta"', 'a positive number', JSON.stringify(ropeTheta));
  // transformers 5 reads rope_parameters, 4 reads rope_scaling: when both name a kind, they must agree.
  const v5Kind = config.rope_parameters?.rope_type ?? undefined;
  const scaling = config.rope_scaling as { rope_type?: unknown; type?: unknown } | null | undefined;
  const v4Kind = scaling?.rope_type ?? scaling?.type ?? undefined;
  if (v5Kind !== undefined && v4Kind !== undefined && v5Kind !== v4Kind) {
    throw mismatch('"rope_scaling"', `the same RoPE kind as "rope_parameters" (${JSON.stringify(v5Kind)})`, JSON.stringify(v4Kind));
  }
  ropeScalingOf(config); // refuses RoPE variants we do not implement
  const eps = (config.rms_norm_eps ?? 1e-6) as number;
  if (typeof eps !== 'number' || !(eps > 0)) throw mismatch('"rms_norm_eps"', 'a positive number', JSON.stringify(eps));
  if (config.attention_bias) throw mismatch('"attention_bias"', 'false', 'true');
  if (config.mlp_bias) throw mismatch('"mlp_bias"', 'false', 'true');
  const act = c.hidden_act ?? 'silu';
  if (act !== 'silu') throw mismatch('"hidden_act"', '"silu"', JSON.stringify(act));
  // 0 layers is a valid model (embeddings → final norm → head): where zero-layer progressive training starts
  const layers = c.num_hidden_layers;
  if (typeof layers !== 'number' || !Number.isInteger(layers) || layers < 0) {
    throw mismatch('"num_hidden_layers"', 'a non-negative integer', JSON.stringify(layers));
  }
  const kinds = config.efficientscale?.ffn_kinds;
  if (kinds !== undefined && (!Array.isArray(kinds) || kinds.length !== layers)) {
    throw mismatch('"efficientscale.ffn_kinds"', `an array of ${layers} kinds (one per layer)`, JSON.stringify(kinds));
  }
  const vocab = positiveInt(c, 'vocab_size');
  const ffn = positiveInt(c, 'intermediate_size');
  const denseLayers = ffnKinds(config).filter((k) => k === 'dense').length;
  checkSizes({ vocab, hidden, ffn, layers, heads, kvHeads, headDim, tied: config.tie_word_embeddings === true }, denseLayers);
  return {
    vocab,
    hidden,
    ffn,
    layers,
    heads,
    kvHeads,
    headDim,
    eps,
    ropeTheta,
    maxPositions: positiveInt(c, 'max_position_embeddings', 2048),
    tied: config.tie_word_embeddings === true,
  };
}

/** The FFN kind of each layer: the config's explicit list, else the architecture's default. */
export function ffnKinds(config: ModelConfig): string[] {
  const kinds = config.efficientscale?.ffn_kinds;
  if (kinds) return kinds;
  const moe = config.model_type === 'mixtral' || (config.architectures ?? []).includes('MixtralForCausalLM');
  return Array.from({ length: config.num_hidden_layers }, () => (moe ? 'moe' : 'dense'));
}

/** Validates a parsed config.json; `source` names the file in errors. */
export function validateConfig(json: unknown, source: string): ModelConfig {
  const config = json as ModelConfig;
  try {
    dimsOf(config);
  } catch (err) {
    if (err instanceof UserError) throw new UserError(`${source}: ${err.message}`);
    throw err;
  }
  return config;
}

/** Parses and validates config.json text; `source` names the file in errors. */
export function parseConfig(text: string, source: string): ModelConfig {
  return validateConfig(parseJsonObject(text, source), source);
}

/** A config for a new Llama-style model, written so that transformers 4 and 5 both read it. */
export function llamaConfig(o: {
  vocab: number;
  hidden: number;
  ffn: number;
  layers: number;
  heads: number;
  kvHeads?: number;
  maxPositions?: number;
  tied?: boolean;
  ropeTheta?: number;
}): ModelConfig {
  const ropeTheta = o.ropeTheta ?? 10000;
  const config: ModelConfig = {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: o.vocab,
    hidden_size: o.hidden,
    intermediate_size: o.ffn,
    num_hidden_layers: o.layers,
    num_attention_heads: o.heads,
    num_key_value_heads: o.kvHeads ?? o.heads,
    head_dim: o.hidden / o.heads,
    hidden_act: 'silu',
    rms_norm_eps: 1e-5,
    rope_theta: ropeTheta,
    rope_parameters: { rope_type: 'default', rope_theta: ropeTheta },
    max_position_embeddings: o.maxPositions ?? 1024,
    tie_word_embeddings: o.tied ?? false,
    attention_bias: false,
    mlp_bias: false,
    torch_dtype: 'float32',
    bos_token_id: null,
    eos_token_id: null,
  };
  dimsOf(config);
  return config;
}
