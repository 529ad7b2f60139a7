/**
 * metrics.jsonl: one record per logged step, appended as the run trains and never rewritten (resume cuts it
 * back to its checkpoint's step). The one record type the run writes and the one reader everything else
 * (plots, reports, expert load, the pipeline) reads it with.
 */
import * as fs from 'node:fs';
import type { FfnMetrics } from '../model/ffn-slot.js';

export interface MetricsRecord {
  step: number;
  /** Cumulative training tokens and FLOPs (across a pipeline's stages too). */
  tokens: number;
  flops: number;
  /** Parameters of the model at this step (a growth or a dropped branch changes it). */
  params: number;
  /** Training cross-entropy (nats/token) of the step's batches, before its update. */
  loss: number;
  aux_loss?: number;
  /** Held-out loss, on the steps that evaluate (absent, or null when written by other tools, elsewhere). */
  eval_loss?: number | null;
  lr?: number;
  grad_norm?: number;
  tokens_per_s?: number;
  wall_s?: number;
  /** The FFN slots' metrics (an MoE layer's expert load), averaged over the step's micro-batches. */
  ffn_metrics?: FfnMetrics;
  /** A pipeline stage run by an external trainer: the held-out loss it reported on its own data (not comparable to eval_loss). */
  trainer_eval_loss?: number;
}

/** Appends one record (one line). */
export function appendMetrics(file: string, record: MetricsRecord): void {
  fs.appendFileSync(file, `${JSON.stringify(record)}\n`);
}

/**
 * A run's records in step order. A step logged twice (a run resumed from an earlier checkpoint by a tool that
 * did not cut the log) keeps its last record; a torn line (a kill mid-write) and lines that are not records
 * are skipped.
 */
export function readMetrics(file: string): MetricsRecord[] {
  const byStep = new Map<number, MetricsRecord>();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      continue;
    }
    const r = record as Partial<MetricsRecord> | null;
    if (r && typeof r.step === 'number' && typeof r.tokens === 'number') byStep.set(r.step, r as MetricsRecord);
  }
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}
