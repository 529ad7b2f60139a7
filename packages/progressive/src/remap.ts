import { createRng, paramShapes, type ModelConfig, type PlanOutput, type ReadTensor, type Rng, type tf } from '@efficientscale/core';

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
 * How one new weight is made: the sum of its terms; entries no term reaches are new and take `fill`, drawn
 * from the output's own stream of the seed (so each output is the same in whatever order outputs are
 * computed); their Adam moments start at zero. Moments follow the same linear map: m by the scale, v by its square.
 */
export interface Recipe {
  shape: number[];
  terms: Term[];
  /** A constant, or a draw per entry; absent or 0: new entries are zero (no bookkeeping of which entries are new). */
  fill?: number | ((flatIndex: number, rng: Rng) => number);
}

export type Recipes = Record<string, Recipe>;
/** AdamW state as core names it: `m.<param>` and `v.<param>`. */
export type OptimizerState = Record<string, tf.Tensor>;

export const identity = (n: number): Axis => Array.from({ length: n }, (_, i) => ({ src: i, scale: 1 }));
export const fresh = (n: number): Axis => Array.from({ length: n }, () => ({ src: -1, scale: 0 }));
export const sameAs = (from: string, shape: number[], scale = 1): Recipe => ({
  shape,
  terms: [{ from, rows: identity(shape[0]).map((s) => ({ ...s, scale })), cols: shape.length > 1 ? identity(shape[1]) : undefined }],
});
export const newWeight = (shape: number[], fill: Recipe['fill']): Recipe => ({ shape, terms: [], fill });

/** The recipe's values from `read` (weights, or one moment kind: power 2 squares the scales for v). */
function build(recipe: Recipe, read: ReadTensor, sourceCols: (name: string) => number, power: 1 | 2, fillRng?: Rng): Float32Array {
  const [rows, cols = 1] = recipe.shape;
  const out = new Float32Array(rows * cols);
  const fill = recipe.fill;
  const reached = fillRng && fill ? new Uint8Array(rows * cols) : undefined; // a fill of 0 needs no record
  for (const term of recipe.terms) {
    const old = read(term.from);
    const oldCols = sourceCols(term.from);
    for (let r = 0; r < rows; r++) {
      const rs = term.rows[r];
      if (rs.src < 0) continue;
      const rowBase = rs.src * oldCols;
      for (let c = 0; c < cols; c++) {
        const cs = term.cols ? term.cols[c] : { src: 0, scale: 1 };
        if (cs.src < 0) continue;
        const scale = rs.scale * cs.scale;
        out[r * cols + c] += old[rowBase + cs.src] * (power === 2 ? scale * scale : scale);
        if (reached) reached[r * cols + c] = 1;
      }
    }
  }
  if (reached && typeof fill === 'number') for (let i = 0; i < out.length; i++) if (!reached[i]) out[i] = fill;
  if (reached && typeof fill === 'function') for (let i = 0; i < out.length; i++) if (!reached[i]) out[i] = fill(i, fillRng!);
  return out;
}

/**
 * The recipes as a plan's outputs, in `config`'s weight order: each weight computed from the source weights
 * it names, and its AdamW moments from theirs. `sourceShapes` are the source model's weight shapes; `seed`
 * seeds the fills.
 */
export function recipeOutputs(recipes: Recipes, config: ModelConfig, sourceShapes: Record<string, number[]>, seed: number): PlanOutput[] {
  const cols = (name: string) => sourceShapes[name]?.[1] ?? 1;
  return Object.keys(paramShapes(config)).map((name) => {
    const r = recipes[name];
    if (!r) throw new Error(`growth plan: no recipe for weight "${name}"`);
    return {
      name,
      shape: r.shape,
      compute: (read) => build(r, read, cols, 1, createRng(seed, name)),
      moment: (read, kind) => build(r, read, cols, kind === 'v' ? 2 : 1),
    };
  });
}
