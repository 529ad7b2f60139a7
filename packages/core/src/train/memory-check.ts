/**
 * Refuses a training run the machine cannot hold, before it allocates: the estimate (model/memory.ts)
 * against the memory this process can still get.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { mismatch } from '../errors.js';
import type { ModelConfig } from '../model/config.js';
import { formatBytes, trainingMemory } from '../model/memory.js';

/** Tells the check how many bytes the process may use (for a machine that knows better, and for tests). */
export const MEMORY_ENV = 'EFFICIENTSCALE_MEMORY_BYTES';

function readNumber(file: string, pattern: RegExp): number | undefined {
  try {
    const m = pattern.exec(fs.readFileSync(file, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Bytes this process can use: what it holds already plus what the kernel says is available
 * (MemAvailable: free memory and reclaimable cache), or less where a cgroup (a container) limits it.
 */
export function availableMemory(): { bytes: number; of: string } {
  const env = Number(process.env[MEMORY_ENV]);
  if (Number.isFinite(env) && env > 0) return { bytes: env, of: MEMORY_ENV };
  const held = process.memoryUsage().rss;
  const kib = readNumber('/proc/meminfo', /^MemAvailable:\s+(\d+) kB$/m);
  let bytes = held + (kib !== undefined ? kib * 1024 : os.freemem());
  let of = `${formatBytes(os.totalmem())} of memory`;
  const limit = readNumber('/sys/fs/cgroup/memory.max', /^(\d+)$/);
  const used = readNumber('/sys/fs/cgroup/memory.current', /^(\d+)$/);
  if (limit !== undefined && used !== undefined && limit - used + held < bytes) {
    bytes = limit - used + held;
    of = `the container's ${formatBytes(limit)} limit`;
  }
  return { bytes, of };
}

/** Throws one line saying how much a run needs and how much the machine has, when it cannot fit. */
export function assertTrainingFits(config: ModelConfig, batchSize: number, seqLen: number): void {
  const need = trainingMemory(config, batchSize, seqLen);
  const has = availableMemory();
  if (need.total <= has.bytes) return;
  throw mismatch(
    'memory',
    `a run that fits in the ${formatBytes(has.bytes)} available (${has.of}; lower --batch or --seq, and use --accumulation for the same tokens per step)`,
    `one that needs about ${formatBytes(need.total)} at its peak (weights, gradients and AdamW moments ${formatBytes(need.weights)}, activations of ${batchSize} × ${seqLen} tokens ${formatBytes(need.activations)})`,
  );
}
