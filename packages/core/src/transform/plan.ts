/**
 * A transform is a plan of named output tensors (mergekit's model: surgery on named tensors). A technique
 * builds the plan from a config and its options (plus `stats` from one forward pass where it needs
 * them); core runs it in memory (reading a Params map) or streamed (reading a checkpoint tensor by
 * tensor), and the two give the same bytes.
 */
import type { StoredFloat } from '../io/dtypes.js';
import type { ModelConfig } from '../model/config.js';

/** Reads a source tensor by name as float32 (row-major, `[out, in]`). */
export type ReadTensor = (name: string) => Float32Array;

export type MomentKind = 'm' | 'v';

export interface PlanOutput {
  name: string;
  shape: number[];
  /** How the file stores it; absent: the source checkpoint's float type (bf16 stays bf16). */
  dtype?: StoredFloat;
  /** The tensor's values from source tensors. Pure: the same reads give the same values, in any order. */
  compute(read: ReadTensor): Float32Array;
  /**
   * Its AdamW moment (`m.<name>` or `v.<name>`) from the sources' moments (`read` reads the moment of a
   * source weight by the weight's name); undefined: the moment starts at zero (a new weight).
   * Absent on every output: the plan does not map moments (its output starts a run with --init-from).
   */
  moment?(read: ReadTensor, kind: MomentKind): Float32Array | undefined;
}

export interface TransformPlan<R extends object = object> {
  /** The output model's config. */
  config: ModelConfig;
  /** Exactly the weights `config` implies (checked by the runners), in the order they are computed and written. */
  outputs: PlanOutput[];
  /** What changed; measured entries (errors of factorisations, ...) are filled in as outputs are computed. */
  report: R;
}

export const elementsOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** An output that copies a source tensor (and its moments) unchanged. */
export function copyOutput(source: string, name = source, shape: number[]): PlanOutput {
  return { name, shape, compute: (read) => read(source), moment: (read) => read(source) };
}

/**
 * The outputs without their moments: a plan whose new weights cannot take the old moments (low-rank
 * factors, multiplied-out products) maps none, so its output starts a run with --init-from.
 */
export const withoutMoments = (outputs: PlanOutput[]): PlanOutput[] => outputs.map((o) => ({ ...o, moment: undefined }));

/** True when the plan carries AdamW moments over (its output continues with train --resume). */
export const mapsMoments = (plan: TransformPlan) => plan.outputs.some((o) => o.moment !== undefined);

/**
 * A reader that keeps the last `keep` tensors it read (and no more than `maxBytes` of them besides the
 * latest), so that outputs computed one after the other from the same source (an FFN copied into every
 * expert) read it once, while memory stays near the largest tensor.
 */
export function cachedReader(read: ReadTensor, keep = 3, maxBytes = 128 * 2 ** 20): ReadTensor {
  const recent = new Map<string, Float32Array>();
  let bytes = 0;
  const evictOldest = () => {
    const [name, data] = recent.entries().next().value as [string, Float32Array];
    recent.delete(name);
    bytes -= data.byteLength;
  };
  return (name) => {
    const hit = recent.get(name);
    if (hit) {
      recent.delete(name); // most recently used goes last
      recent.set(name, hit);
      return hit;
    }
    const data = read(name);
    recent.set(name, data);
    bytes += data.byteLength;
    while (recent.size > 1 && (recent.size > keep || bytes - data.byteLength > maxBytes)) evictOldest();
    return data;
  };
}

/**
 * `second` after `first` as one plan: `second` reads `first`'s outputs, computed on demand from the
 * sources (the last few kept), so a chain streams like a single plan. Moments chain the same way.
 */
export function chainPlans<A extends object, B extends object>(first: TransformPlan<A>, second: TransformPlan<B>): TransformPlan<{ first: A; second: B }> {
  const byName = new Map(first.outputs.map((o) => [o.name, o]));
  // One cache per source reader (the runners pass one reader for all outputs): an intermediate tensor
  // read by consecutive outputs is computed once.
  const readers = new WeakMap<ReadTensor, Map<string, ReadTensor>>();
  const via = (readSource: ReadTensor, kind?: MomentKind): ReadTensor => {
    if (!readers.has(readSource)) readers.set(readSource, new Map());
    const forSource = readers.get(readSource)!;
    let reader = forSource.get(kind ?? 'weights');
    if (!reader) {
      reader = cachedReader((name) => {
        const o = byName.get(name);
        if (!o) throw new Error(`chained plan reads "${name}", which the first plan does not write`);
        if (!kind) return o.compute(readSource);
        return o.moment?.(readSource, kind) ?? new Float32Array(elementsOf(o.shape));
      }, 4);
      forSource.set(kind ?? 'weights', reader);
    }
    return reader;
  };
  const mapped = first.outputs.some((o) => o.moment);
  return {
    config: second.config,
    report: { first: first.report, second: second.report },
    outputs: second.outputs.map((o) => ({
      ...o,
      compute: (read) => o.compute(via(read)),
      moment: mapped && o.moment ? (read, kind) => o.moment!(via(read, kind), kind) : undefined,
    })),
  };
}
