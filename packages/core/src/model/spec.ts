/**
 * The config parsed once: a frozen spec of its dimensions, each layer's FFN kind and that kind's settings
 * (checked once by the kind's `prepare`), and the weight table. forward, the KV-cached decoder, params and
 * FLOPs read the spec instead of validating the config again per layer per step. Specs are kept per config
 * object: configs are values (a changed config is a new object, as every transform makes one).
 */
import { dimsOf, ffnKinds, type Dims, type ModelConfig } from './config.js';
import { getFfnKind, type FfnKind } from './ffn-slot.js';
import { weightTable, type WeightInfo } from './weights.js';

export interface ModelSpec {
  readonly config: ModelConfig;
  readonly dims: Readonly<Dims>;
  /** Each layer's FFN kind. */
  readonly kinds: readonly FfnKind[];
  /** Each layer's FFN settings, as its kind's `prepare` made them (undefined for kinds without one). */
  readonly settings: readonly unknown[];
  readonly weights: readonly Readonly<WeightInfo>[];
}

const specs = new WeakMap<ModelConfig, ModelSpec>();

/** The config's spec, validated and built on first use and kept for the same config object. */
export function modelSpec(config: ModelConfig): ModelSpec {
  const known = specs.get(config);
  if (known) return known;
  const dims = Object.freeze(dimsOf(config));
  const kinds = Object.freeze(ffnKinds(config).map(getFfnKind));
  const settings = Object.freeze(kinds.map((k, i) => k.prepare?.(config, dims, i)));
  const spec: ModelSpec = Object.freeze({ config, dims, kinds, settings, weights: Object.freeze(weightTable(config, dims).map((w) => Object.freeze(w))) });
  specs.set(config, spec);
  return spec;
}
