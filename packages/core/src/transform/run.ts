/** Running a plan: the checks every run makes, and the in-memory runner (Params in, Params out). */
import { tf } from '../tf.js';
import { onHost } from '../host.js';
import { mismatch } from '../errors.js';
import type { ModelConfig } from '../model/config.js';
import { paramShapes, type Params } from '../model/params.js';
import { logitGap, type LogitGap } from './probe.js';
import { cachedReader, elementsOf, type MomentKind, type PlanOutput, type ReadTensor, type TransformPlan } from './plan.js';

/** The plan writes each weight its config implies exactly once, with the implied shape, and nothing else. */
export function checkPlan(plan: TransformPlan): void {
  const shapes = paramShapes(plan.config);
  const seen = new Set<string>();
  for (const o of plan.outputs) {
    if (seen.has(o.name)) throw new Error(`transform plan: output "${o.name}" listed twice`);
    seen.add(o.name);
    const shape = shapes[o.name];
    if (!shape) throw new Error(`transform plan: output "${o.name}" is not a weight of the new config`);
    if (shape.length !== o.shape.length || shape.some((s, i) => s !== o.shape[i])) throw new Error(`transform plan: output "${o.name}" has shape [${o.shape}], its config implies [${shape}]`);
  }
  const missing = Object.keys(shapes).find((n) => !seen.has(n));
  if (missing) throw new Error(`transform plan: no output for weight "${missing}" of the new config`);
}

/** Checks one computed tensor's length against its output's shape. */
export function checked(o: PlanOutput, data: Float32Array): Float32Array {
  if (data.length !== elementsOf(o.shape)) throw new Error(`transform plan: output "${o.name}" computed ${data.length} values for shape [${o.shape}]`);
  return data;
}

/** A reader over tf tensors (downloaded once each, the last few kept). */
export function paramsReader(params: Record<string, tf.Tensor>, prefix = ''): ReadTensor {
  return cachedReader((name) => {
    const t = params[prefix + name];
    if (!t) throw mismatch('transform source', `a weight named "${prefix + name}"`, 'no such weight');
    return t.dataSync() as Float32Array;
  }, 8);
}

/** A reader of one moment kind over an optimizer state; a weight without that moment (AdamW starts it at zero) reads as zeros. */
export function momentReader(optimizer: Record<string, tf.Tensor>, kind: MomentKind, params: Params): ReadTensor {
  const read = paramsReader(optimizer, `${kind}.`);
  return (name) => (optimizer[`${kind}.${name}`] ? read(name) : new Float32Array(params[name]?.size ?? 0));
}

export interface AppliedPlan {
  params: Params;
  /** The moments (`m.<name>`, `v.<name>`) when the plan maps them and `optimizer` was given. */
  optimizer?: Params;
}

/**
 * Runs a plan in memory: new tf tensors for every output (inputs are not changed or disposed). A plan
 * computes host arrays, so it runs as host work (host.ts): weights computed on a GPU are read with
 * `await prefetchToHost(...)` first.
 */
export function applyPlan(plan: TransformPlan, params: Params, optimizer?: Params): AppliedPlan {
  return onHost(() => applyOnHost(plan, params, optimizer));
}

function applyOnHost(plan: TransformPlan, params: Params, optimizer?: Params): AppliedPlan {
  checkPlan(plan);
  const read = paramsReader(params);
  const out: Params = {};
  try {
    for (const o of plan.outputs) out[o.name] = tf.tensor(checked(o, o.compute(read)), o.shape, 'float32');
    if (!optimizer || !plan.outputs.some((o) => o.moment)) return { params: out };
    const moments: Params = {};
    for (const kind of ['m', 'v'] as const) {
      const readMoment = momentReader(optimizer, kind, params);
      for (const o of plan.outputs) {
        const data = o.moment?.(readMoment, kind);
        if (data) moments[`${kind}.${o.name}`] = tf.tensor(checked(o, data), o.shape, 'float32');
      }
    }
    return { params: out, optimizer: moments };
  } catch (err) {
    tf.dispose(Object.values(out));
    throw err;
  }
}

export interface InMemoryResult<R extends object> extends AppliedPlan {
  config: ModelConfig;
  report: R;
  /** Logits before and after on the probe tokens, unless `probe: false`. */
  probe?: LogitGap;
}

/**
 * A plan run on a model in memory, with its logit gap measured (on `probeTokens`, else core's seeded
 * probe batch): what the techniques' in-memory functions (growModel, upcycle, toLowRank) return. `plan`
 * may be a function that builds it (from statistics of a forward pass, say): building, running and
 * probing are host work (host.ts), whichever backend trains.
 */
export function transformInMemory<R extends object>(
  plan: TransformPlan<R> | (() => TransformPlan<R>),
  params: Params,
  o: { optimizer?: Params; probe?: boolean; probeTokens?: tf.Tensor2D; sourceConfig: ModelConfig },
): InMemoryResult<R> {
  return onHost(() => {
    const built = typeof plan === 'function' ? plan() : plan;
    const out = applyOnHost(built, params, o.optimizer);
    try {
      const probe = o.probe === false ? undefined : logitGap({ config: o.sourceConfig, params }, { config: built.config, params: out.params }, o.probeTokens);
      return { config: built.config, report: built.report, ...out, ...(probe ? { probe } : {}) };
    } catch (err) {
      tf.dispose([...Object.values(out.params), ...Object.values(out.optimizer ?? {})]);
      throw err;
    }
  });
}
