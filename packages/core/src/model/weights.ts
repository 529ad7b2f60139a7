/**
 * The model is data: one table of every weight a config implies, with its Hugging Face name, its
 * `[out, in]` shape and its role. Core lists the embedding, attention, norms and head; each FFN kind
 * lists its own rows (`FfnKind.weights`). Transforms ask the table instead of matching names: "zero the
 * output projections" is `residualWriters(config, layer)`.
 */
import { dimsOf, ffnKinds, type Dims, type ModelConfig } from './config.js';
import { getFfnKind } from './ffn-slot.js';

export type WeightRole =
  | 'embedding'
  | 'head'
  | 'norm'
  /** Reads the residual stream (q/k/v, gate/up, an expert's w1/w3). */
  | 'input-projection'
  /** Writes into the residual stream (o_proj, down_proj, an expert's w2): zero → the block adds nothing. */
  | 'output-projection'
  | 'router'
  /** One factor of a low-rank product W ≈ U·V; `factorOf` says of which projection and which side. */
  | 'factor';

export interface WeightSpec {
  shape: number[];
  role: WeightRole;
  factorOf?: { projection: 'input-projection' | 'output-projection'; side: 'u' | 'v' };
}

export interface WeightInfo extends WeightSpec {
  name: string;
  /** The decoder layer, absent for the embedding, final norm and head. */
  layer?: number;
  /** `attention`, `global` or the layer's FFN kind. */
  owner: string;
}

export const layerPrefix = (layer: number) => `model.layers.${layer}.`;

function attentionWeights(d: Dims): Record<string, WeightSpec> {
  return {
    'input_layernorm.weight': { shape: [d.hidden], role: 'norm' },
    'self_attn.q_proj.weight': { shape: [d.heads * d.headDim, d.hidden], role: 'input-projection' },
    'self_attn.k_proj.weight': { shape: [d.kvHeads * d.headDim, d.hidden], role: 'input-projection' },
    'self_attn.v_proj.weight': { shape: [d.kvHeads * d.headDim, d.hidden], role: 'input-projection' },
    'self_attn.o_proj.weight': { shape: [d.hidden, d.heads * d.headDim], role: 'output-projection' },
    'post_attention_layernorm.weight': { shape: [d.hidden], role: 'norm' },
  };
}

/** Every weight the config implies, in checkpoint order (embedding, layer by layer, final norm, head). */
export function weightTable(config: ModelConfig, dims: Dims = dimsOf(config)): WeightInfo[] {
  const kinds = ffnKinds(config);
  const rows: WeightInfo[] = [{ name: 'model.embed_tokens.weight', shape: [dims.vocab, dims.hidden], role: 'embedding', owner: 'global' }];
  for (let i = 0; i < dims.layers; i++) {
    const p = layerPrefix(i);
    for (const [suffix, w] of Object.entries(attentionWeights(dims))) rows.push({ ...w, name: p + suffix, layer: i, owner: 'attention' });
    for (const [suffix, w] of Object.entries(getFfnKind(kinds[i]).weights(config, dims, i))) rows.push({ ...w, name: p + suffix, layer: i, owner: kinds[i] });
  }
  rows.push({ name: 'model.norm.weight', shape: [dims.hidden], role: 'norm', owner: 'global' });
  if (!dims.tied) rows.push({ name: 'lm_head.weight', shape: [dims.vocab, dims.hidden], role: 'head', owner: 'global' });
  return rows;
}

/** The weights of `layer` whose zeroing makes the block add nothing to the residual stream. */
export function residualWriters(config: ModelConfig, layer: number): string[] {
  return weightTable(config)
    .filter((w) => w.layer === layer && (w.role === 'output-projection' || (w.factorOf?.projection === 'output-projection' && w.factorOf.side === 'u')))
    .map((w) => w.name);
}
