/**
 * What every transform command shares: `--stream` and `--shard-mb`, a progress bar over the tensors
 * written, core's transformCheckpoint, and the report (wall time and peak memory beside the plan's own).
 */
import type { Command } from 'commander';
import { transformCheckpoint, UserError, type TransformInput, type TransformOptions, type TransformPlan, type TransformResult } from '@efficientscale/core/node';
import { positiveNumber } from './options.js';
import { tensorProgress } from './progress.js';

export interface TransformFlags {
  out: string;
  stream?: boolean;
  shardMb: number;
  json?: boolean;
}

/** `--stream` and `--shard-mb`, the same on grow, upcycle, lowrank and export. */
export function addTransformFlags(cmd: Command): Command {
  return cmd
    .option('--stream', 'read and write tensor by tensor (any model size; memory ≈ the largest few tensors; the logit gap is not measured)')
    .option('--shard-mb <mb>', 'largest weight shard in MiB (one shard is written as model.safetensors)', positiveNumber, 2048);
}

/** Refuses an option that needs the whole model in memory under --stream. */
export function refuseWithStream(flags: TransformFlags, option: string | undefined, why: string): void {
  if (flags.stream && option) throw new UserError(`${option}: expected no --stream (${why}), found --stream`);
}

export interface TransformRun<R extends object> extends TransformResult<R> {
  wallSeconds: number;
  /** The process's peak resident memory so far (process.resourceUsage().maxRSS). */
  peakRssMb: number;
}

/** Runs a plan from `dir` into flags.out with a progress bar (stderr, not under --json). */
export function runTransform<R extends object>(dir: string, flags: TransformFlags, build: (input: TransformInput) => TransformPlan<R>, options: Omit<TransformOptions, 'stream' | 'shardBytes' | 'onTensor'> = {}): TransformRun<R> {
  const started = performance.now();
  const progress = tensorProgress(!flags.json);
  try {
    const result = transformCheckpoint(dir, flags.out, build, { ...options, stream: flags.stream, shardBytes: Math.round(flags.shardMb * 2 ** 20), onTensor: progress.update });
    return { ...result, wallSeconds: (performance.now() - started) / 1000, peakRssMb: process.resourceUsage().maxRSS / 1024 };
  } finally {
    progress.stop();
  }
}

/** The fields every transform command's --json report has besides its plan's. */
export function runFields(r: TransformRun<object>): Record<string, unknown> {
  return {
    out: r.out,
    mode: r.mode,
    dtype: r.dtype,
    tensors: r.tensors,
    shards: r.files.filter((f) => f.endsWith('.safetensors') && f !== 'optimizer.safetensors').length,
    bytes: r.bytes,
    resumable: r.resumable,
    wall_s: r.wallSeconds,
    peak_rss_mb: r.peakRssMb,
  };
}

/** One closing line: where it went, how, and how to train on it. */
export function runLine(r: TransformRun<object>): string {
  const how = r.mode === 'stream' ? `streamed, ${(r.peakRssMb / 1024).toFixed(2)} GiB peak RSS` : 'in memory';
  const next = r.resumable ? `train --resume ${r.out} continues the run` : `train --init-from ${r.out} starts a run from it`;
  return `wrote ${r.out} (${r.dtype}, ${r.tensors} tensors, ${how}, ${r.wallSeconds.toFixed(1)} s); ${next}\n`;
}
