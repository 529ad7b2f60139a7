import type { tf as TF } from '../tf.js';
import { UserError } from '../errors.js';
import type { Dims, ModelConfig } from './config.js';
import { denseFfn } from './dense-ffn.js';
import type { WeightSpec } from './weights.js';

type Tensor2D = TF.Tensor2D;
type Tensor = TF.Tensor;

/** What an FFN kind sees of one layer: its config, dims, its index and a lookup of its own weights. */
export interface FfnContext {
  config: ModelConfig;
  dims: Dims;
  layer: number;
  /** Full HF weight name of a weight of this layer's FFN, e.g. `model.layers.3.mlp.up_proj.weight`. */
  name(suffix: string): string;
  /** The tensor for a suffix; throws a clear error if absent. */
  param(suffix: string): Tensor;
  /** What the kind's `prepare` made of the config for this layer (once per config, not per step). */
  settings?: unknown;
}

export interface FfnOutput {
  y: Tensor2D;
  /** Auxiliary loss to add to the training loss (e.g. an MoE load-balancing term), already weighted. */
  auxLoss?: TF.Scalar;
  /** Plain numbers worth logging for this layer (e.g. each expert's share of the tokens), by metric name. */
  metrics?: Record<string, number[]>;
  /**
   * The same, still on the device (where reading them would stall it: webgpu); the trainer reads them
   * with the step's loss. Whoever calls forwardWithAux owns (disposes) them.
   */
  deviceMetrics?: Record<string, TF.Tensor1D>;
}

/** FFN slot metrics of a whole model: metric name → layer index → values (only layers that report it). */
export type FfnMetrics = Record<string, Record<string, number[]>>;

/** FfnMetrics still on the device: metric name → layer index → tensor. */
export type FfnDeviceMetrics = Record<string, Record<string, TF.Tensor1D>>;

/** Reads device metrics (one asynchronous round trip), disposes them and merges them into `into`. */
export async function readDeviceMetrics(device: FfnDeviceMetrics, into: FfnMetrics = {}): Promise<FfnMetrics> {
  const entries = Object.entries(device).flatMap(([name, layers]) => Object.entries(layers).map(([layer, t]) => ({ name, layer, t })));
  const values = await Promise.all(entries.map(async ({ t }) => Array.from(await t.data())));
  entries.forEach(({ name, layer, t }, i) => {
    (into[name] ??= {})[layer] = values[i];
    t.dispose();
  });
  return into;
}

/** Element-wise mean of several forward passes' metrics (micro-batches, a logging interval, eval batches). */
export function averageFfnMetrics(list: FfnMetrics[]): FfnMetrics | undefined {
  if (list.length === 0 || Object.keys(list[0]).length === 0) return undefined;
  const out: FfnMetrics = {};
  for (const [name, layers] of Object.entries(list[0])) {
    out[name] = {};
    for (const [layer, values] of Object.entries(layers)) {
      out[name][layer] = values.map((_, i) => list.reduce((s, m) => s + (m[name]?.[layer]?.[i] ?? 0), 0) / list.length);
    }
  }
  return out;
}

/**
 * The contract of an FFN slot kind. core knows `dense`; technique packages register theirs
 * (`moe`, `lowrank`) so that core's forward pass, parameter checks and FLOP counts need no change.
 */
export interface FfnKind {
  kind: string;
  /** This layer's settings read and checked from the config once (kept in the model spec, handed to forward as ctx.settings). */
  prepare?(config: ModelConfig, dims: Dims, layer: number): unknown;
  /** Weight suffixes (relative to `model.layers.{i}.`), their `[out, in]` shapes and roles: this kind's rows of core's weight table. */
  weights(config: ModelConfig, dims: Dims, layer: number): Record<string, WeightSpec>;
  /** Standard deviation to initialise each weight with (suffix → std); weights not listed get `initStd`. */
  initStd?(config: ModelConfig, dims: Dims, layer: number, initStd: number): Record<string, number>;
  /** x: [tokens, hidden] → y: [tokens, hidden]. */
  forward(ctx: FfnContext, x: Tensor2D): FfnOutput;
  /** Multiply-accumulates per token of this layer's FFN (parameters that actually run, for FLOP accounting). */
  activeParamsPerToken(config: ModelConfig, dims: Dims, layer: number): number;
}

// One registry per process, kept on a global symbol: the ESM and CommonJS builds of core (both loaded when
// an ESM program imports core and a CommonJS package requires it) must see the same kinds. The built-in
// kind is there from the start, whichever module asks first.
const REGISTRY = Symbol.for('@efficientscale/core/ffn-kinds');
const slot = globalThis as { [REGISTRY]?: Map<string, FfnKind> };
const registry = (slot[REGISTRY] ??= new Map<string, FfnKind>());
if (!registry.has(denseFfn.kind)) registry.set(denseFfn.kind, denseFfn);

export function registerFfnKind(kind: FfnKind): void {
  registry.set(kind.kind, kind);
}

export function getFfnKind(kind: string): FfnKind {
  const found = registry.get(kind);
  if (!found) {
    throw new UserError(
      `FFN kind: expected one of ${registeredFfnKinds().join(', ')}, found "${kind}" ` +
        `(is the package that provides it, e.g. @efficientscale/${kind}, imported?)`,
    );
  }
  return found;
}

export function registeredFfnKinds(): string[] {
  return [...registry.keys()];
}
