import { mismatch } from './errors.js';
import { jsonlObjects } from './jsonl.js';
import { checkSchedule } from './lr-areas.js';

/**
 * One training run as the whole-curve laws see it: the LR of every step and the losses measured along
 * the way. `lr[i]` is the LR of step i + 1; `steps[j]` (1-based) is where `losses[j]` was measured.
 */
export interface CurveRun {
  name: string;
  /** Parameter count; needed to fit several model sizes jointly or to predict another size. */
  params?: number;
  lr: Float64Array;
  steps: number[];
  losses: number[];
  /** Tokens seen after each step, when logged (tokens[i] after step i + 1). */
  tokens?: Float64Array;
  /** Where the run came from, for messages (e.g. `runs/a/metrics.jsonl`). */
  source?: string;
  /** How much each loss counts in a fit (default 1 each); block-bootstrap resamples set it. */
  weights?: number[];
}

/** Which loss a run's metrics.jsonl gives the curve: the held-out `eval_loss` (default) or the training `loss`. */
export type CurveLossColumn = 'eval_loss' | 'loss';

export interface CurveParseOptions {
  name?: string;
  /** Parameter count when the records have none. */
  params?: number;
  lossColumn?: CurveLossColumn;
}

type Record_ = { [key: string]: unknown };

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Reads a run's curve from the text of its metrics.jsonl (one JSON object per step with `step`, `lr`,
 * optional `tokens`, `params` and `eval_loss`, as `efficientscale train` writes it). A step logged twice
 * (a run resumed from a checkpoint older than its last record) keeps its last record; a torn last line
 * (a run being written) is skipped. Refuses, in one line naming the line or step, a corrupt line, a
 * missing LR or step, and a model size that changes.
 */
export function parseRunCurve(text: string, source: string, options: CurveParseOptions = {}): CurveRun {
  const column = options.lossColumn ?? 'eval_loss';
  if (column !== 'eval_loss' && column !== 'loss') throw mismatch('loss column', 'eval_loss or loss', JSON.stringify(column));
  const bySteps = new Map<number, { rec: Record_; line: number }>();
  for (const { record: r, line, where } of jsonlObjects(text, source, { tornTail: true })) {
    if (!Number.isSafeInteger(r.step) || (r.step as number) < 1) throw mismatch(`${where}: step`, 'a positive integer', JSON.stringify(r.step));
    if (!finite(r.lr) || r.lr < 0) {
      throw mismatch(`${where}: lr`, "the step's learning rate (a finite number ≥ 0; the curve laws need every step's)", r.lr === undefined ? 'nothing' : JSON.stringify(r.lr));
    }
    bySteps.set(r.step as number, { rec: r, line });
  }
  if (bySteps.size === 0) throw mismatch(source, 'one JSON record per training step', 'no records');
  const last = Math.max(...bySteps.keys());
  for (let s = 1; s <= last; s++) {
    if (!bySteps.has(s)) throw mismatch(`${source}: steps`, `every step from 1 to ${last} (each step's learning rate)`, `step ${s} missing`);
  }

  const lr = new Float64Array(last);
  const tokens = new Float64Array(last);
  let hasTokens = true;
  const steps: number[] = [];
  const losses: number[] = [];
  let params: number | undefined;
  let paramsAt = 0;
  for (let s = 1; s <= last; s++) {
    const { rec, line } = bySteps.get(s)!;
    const where = `${source} line ${line}`;
    lr[s - 1] = rec.lr as number;
    if (finite(rec.tokens)) tokens[s - 1] = rec.tokens;
    else hasTokens = false;
    if (rec.params !== undefined && rec.params !== null) {
      if (!finite(rec.params) || rec.params <= 0) throw mismatch(`${where}: params`, 'a positive number', JSON.stringify(rec.params));
      if (params !== undefined && Math.abs(rec.params / params - 1) > 1e-9) {
        throw mismatch(
          `${source}: params`,
          'one model size (a curve law follows one model; fit the part after a size change as its own run)',
          `${params} at step ${paramsAt} and ${rec.params} at step ${s}`,
        );
      }
      if (params === undefined) [params, paramsAt] = [rec.params, s];
    }
    const loss = rec[column];
    if (loss === undefined || loss === null) continue; // held-out loss: only every few steps
    if (!finite(loss) || loss <= 0) throw mismatch(`${where}: ${column}`, 'a positive finite number', JSON.stringify(loss));
    steps.push(s);
    losses.push(loss);
  }
  if (losses.length === 0) {
    throw mismatch(`${source}: ${column}`, column === 'eval_loss' ? 'held-out losses on some steps (train with --eval-every)' : 'training losses', 'none');
  }
  params ??= options.params;
  return {
    name: options.name ?? source,
    ...(params !== undefined ? { params } : {}),
    lr,
    steps,
    losses,
    ...(hasTokens ? { tokens } : {}),
    source,
  };
}

/** Checks a run built in code: a valid schedule, losses at distinct steps inside it. */
export function checkCurveRun(run: CurveRun): void {
  const what = run.source ?? run.name;
  checkSchedule(run.lr, `${what}: learning rates`);
  if (run.steps.length !== run.losses.length) throw mismatch(`${what}: losses`, `one per step listed (${run.steps.length})`, String(run.losses.length));
  if (run.weights && (run.weights.length !== run.steps.length || !run.weights.every((w) => Number.isFinite(w) && w >= 0))) {
    throw mismatch(`${what}: weights`, `${run.steps.length} finite weights ≥ 0`, String(run.weights.length));
  }
  let prev = 0;
  run.steps.forEach((s, j) => {
    if (!Number.isInteger(s) || s <= prev || s > run.lr.length) {
      throw mismatch(`${what}: step ${s}`, `increasing steps from 1 to ${run.lr.length}`, String(s));
    }
    prev = s;
    if (!finite(run.losses[j]) || run.losses[j] <= 0) throw mismatch(`${what}: loss at step ${s}`, 'a positive finite number', String(run.losses[j]));
  });
  if (run.params !== undefined && !(finite(run.params) && run.params > 0)) throw mismatch(`${what}: params`, 'a positive number', String(run.params));
}

/** The first `untilStep` steps' losses of a run (its schedule kept whole, so its end can be predicted). */
export function truncateCurve(run: CurveRun, untilStep: number): CurveRun {
  if (!(Number.isInteger(untilStep) && untilStep >= 1)) throw mismatch('until step', 'a positive integer', String(untilStep));
  const keep = run.steps.filter((s) => s <= untilStep).length;
  return { ...run, steps: run.steps.slice(0, keep), losses: run.losses.slice(0, keep), ...(run.weights ? { weights: run.weights.slice(0, keep) } : {}) };
}

/** The warmup's length: the steps up to the first at the run's peak LR (0 when the first step is at the peak). */
export function warmupSteps(lr: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < lr.length; i++) if (lr[i] > lr[best] * (1 + 1e-9)) best = i;
  return best === 0 ? 0 : best + 1;
}
