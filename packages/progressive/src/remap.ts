import { tf, type Params } from '@efficientscale/core';

/** Where one new row (or column) comes from: an old index times a scale, or nothing (src -1: a new unit). */
export interface Source {
  src: number;
  scale: number;
}
export type Axis = Source[];

/** One contribution to a new weight: an old weight read through a row map (and a column map for matrices). */
export interface Term {
  from: string;
  rows: Axis;
  cols?: Axis;
}

/**
 * How one new weight is made: the sum of its terms; entries no term reaches are new and take `fill`
 * (their Adam moments start at zero). Moments follow the same linear map: m by the scale, v by its square.
 */
export interface Recipe {
  shape: number[];
  terms: Term[];
  fill?: (flatIndex: number) => number;
}

export type Recipes = Record<string, Recipe>;
/** AdamW state as core names it: `m.<param>` and `v.<param>`. */
export type OptimizerState = Record<string, tf.Tensor>;

interface Host {
  data: Float32Array;
  cols: number;
}

export const identity = (n: number): Axis => Array.from({ length: n }, (_, i) => ({ src: i, scale: 1 }));
export const fresh = (n: number): Axis => Array.from({ length: n }, () => ({ src: -1, scale: 0 }));
export const sameAs = (from: string, shape: number[], scale = 1): Recipe => ({
  shape,
  terms: [{ from, rows: identity(shape[0]).map((s) => ({ ...s, scale })), cols: shape.length > 1 ? identity(shape[1]) : undefined }],
});
export const newWeight = (shape: number[], fill: (i: number) => number): Recipe => ({ shape, terms: [], fill });

function build(recipe: Recipe, read: (name: string) => Host | undefined, power: 1 | 2, useFill: boolean): Float32Array {
  const [rows, cols = 1] = recipe.shape;
  const out = new Float32Array(rows * cols);
  const reached = new Uint8Array(rows * cols);
  for (const term of recipe.terms) {
    const old = read(term.from);
    if (!old) continue;
    for (let r = 0; r < rows; r++) {
      const rs = term.rows[r];
      if (rs.src < 0) continue;
      for (let c = 0; c < cols; c++) {
        const cs = term.cols ? term.cols[c] : { src: 0, scale: 1 };
        if (cs.src < 0) continue;
        const scale = rs.scale * cs.scale;
        out[r * cols + c] += old.data[rs.src * old.cols + cs.src] * (power === 2 ? scale * scale : scale);
        reached[r * cols + c] = 1;
      }
    }
  }
  if (useFill && recipe.fill) for (let i = 0; i < out.length; i++) if (!reached[i]) out[i] = recipe.fill(i);
  return out;
}

function hosts(tensors: Record<string, tf.Tensor>, prefix = ''): (name: string) => Host | undefined {
  const cache = new Map<string, Host>();
  return (name) => {
    const t = tensors[prefix + name];
    if (!t) return undefined;
    if (!cache.has(name)) cache.set(name, { data: t.dataSync() as Float32Array, cols: t.shape[1] ?? 1 });
    return cache.get(name);
  };
}

/** Runs the recipes on params (and on the optimizer moments when given). Inputs are not disposed. */
export function applyRecipes(recipes: Recipes, params: Params, optimizer?: OptimizerState): { params: Params; optimizer?: OptimizerState } {
  const readP = hosts(params);
  const out: Params = {};
  for (const [name, r] of Object.entries(recipes)) out[name] = tf.tensor(build(r, readP, 1, true), r.shape, 'float32');
  if (!optimizer) return { params: out };
  const readM = hosts(optimizer, 'm.');
  const readV = hosts(optimizer, 'v.');
  const moments: OptimizerState = {};
  for (const [name, r] of Object.entries(recipes)) {
    moments[`m.${name}`] = tf.tensor(build(r, readM, 1, false), r.shape, 'float32');
    moments[`v.${name}`] = tf.tensor(build(r, readV, 2, false), r.shape, 'float32');
  }
  return { params: out, optimizer: moments };
}
