import { tf } from '../tf.js';
import { mismatch } from '../errors.js';
import { checkTensorSize, checkTotalParams, dimsOf, ffnKinds, type ModelConfig } from './config.js';
import { getFfnKind } from './ffn-slot.js';
import { layerPrefix } from './weights.js';
import { modelSpec } from './spec.js';

/** A model's weights: Hugging Face weight names → tensors in `[out, in]` layout. */
export type Params = Record<string, tf.Tensor>;

export { layerPrefix };

/** Every weight the config implies, with its shape (the weight table without roles). */
export function paramShapes(config: ModelConfig): Record<string, number[]> {
  const shapes: Record<string, number[]> = {};
  for (const w of modelSpec(config).weights) shapes[w.name] = [...w.shape];
  // FFN kinds registered from outside size their own weights: bound them before anyone allocates.
  let total = 0;
  for (const [name, shape] of Object.entries(shapes)) {
    checkTensorSize(`weight "${name}"`, shape);
    total += shape.reduce((a, b) => a * b, 1);
  }
  checkTotalParams(total);
  return shapes;
}

/** Buffers that some HF checkpoints carry and that we recompute instead. */
const ignorable = (name: string) => name.endsWith('rotary_emb.inv_freq');

/** Checks that params hold exactly the weights the config implies, with the right shapes. */
export function checkParams(config: ModelConfig, params: Record<string, { shape: number[] }>, source: string): void {
  const shapes = paramShapes(config);
  for (const [name, shape] of Object.entries(shapes)) {
    const t = params[name];
    if (!t) throw mismatch(`${source}`, `weight "${name}" of shape [${shape}] (implied by config.json)`, 'no such weight');
    if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i])) {
      throw mismatch(`${source}: weight "${name}"`, `shape [${shape}] (implied by config.json)`, `[${t.shape}]`);
    }
  }
  for (const name of Object.keys(params)) {
    if (!(name in shapes) && !ignorable(name)) {
      throw mismatch(`${source}`, 'only the weights config.json implies', `unexpected weight "${name}"`);
    }
  }
}

/** Number of parameters, total. */
export function countParams(config: ModelConfig): number {
  return Object.values(paramShapes(config)).reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0);
}

/**
 * Fresh weights: normal(0, initStd) matrices, output projections scaled by 1/sqrt(2·layers) (GPT-2),
 * norms at 1. Deterministic for a seed.
 */
export function initParams(config: ModelConfig, seed: number, initStd = 0.02): Params {
  const d = dimsOf(config);
  const kinds = ffnKinds(config);
  const residualStd = initStd / Math.sqrt(2 * d.layers);
  const stds: Record<string, number> = {};
  for (let i = 0; i < d.layers; i++) {
    const p = layerPrefix(i);
    stds[p + 'self_attn.o_proj.weight'] = residualStd;
    stds[p + 'mlp.down_proj.weight'] = residualStd;
    const custom = getFfnKind(kinds[i]).initStd?.(config, d, i, initStd) ?? {};
    for (const [suffix, std] of Object.entries(custom)) stds[p + suffix] = std;
  }
  const params: Params = {};
  let k = 0;
  for (const [name, shape] of Object.entries(paramShapes(config))) {
    k++;
    params[name] = shape.length === 1 ? tf.ones(shape) : tf.randomNormal(shape, 0, stds[name] ?? initStd, 'float32', seed * 100_003 + k);
  }
  return params;
}
