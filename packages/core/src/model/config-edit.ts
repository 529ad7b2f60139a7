/**
 * The two edits transforms make to `config.efficientscale`, in one place: a new list of per-layer FFN
 * kinds, and one kind's options. Both return a new config (configs are values) and drop what becomes empty,
 * so a model that is plain Llama or Mixtral again has a config transformers reads as it is.
 */
import { ffnKinds, type EfficientScaleExtras, type ModelConfig } from './config.js';

function withExtras(config: ModelConfig, extras: EfficientScaleExtras): ModelConfig {
  const out: ModelConfig = { ...config };
  if (Object.keys(extras).length > 0) out.efficientscale = extras;
  else delete out.efficientscale;
  return out;
}

/**
 * `efficientscale.ffn_kinds` set to `kinds` (one per layer), or removed when they are what the
 * architecture implies anyway (all dense for Llama, all MoE for Mixtral).
 */
export function withFfnKinds(config: ModelConfig, kinds: readonly string[]): ModelConfig {
  const { ffn_kinds: _old, ...rest } = config.efficientscale ?? {};
  const implied = ffnKinds({ ...config, num_hidden_layers: kinds.length, efficientscale: undefined });
  const same = kinds.length === implied.length && kinds.every((k, i) => k === implied[i]);
  return withExtras({ ...config, num_hidden_layers: kinds.length }, same ? rest : { ...rest, ffn_kinds: [...kinds] });
}

/** `efficientscale.ffn_options[kind]` replaced by `options`, or removed when `options` is undefined. */
export function withFfnOptions(config: ModelConfig, kind: string, options: Record<string, unknown> | undefined): ModelConfig {
  const { ffn_options: old, ...rest } = config.efficientscale ?? {};
  const { [kind]: _replaced, ...others } = old ?? {};
  const ffnOptions = options === undefined ? others : { ...others, [kind]: options };
  return withExtras(config, Object.keys(ffnOptions).length > 0 ? { ...rest, ffn_options: ffnOptions } : rest);
}
