import type { Command } from 'commander';
import { assertTrainingFits, Trainer, flopsPerToken, countParams, llamaConfig, tf, type BackendName } from '@efficientscale/core/node';
import { backendOption, nonNegativeInt, positiveInt, useBackend } from './options.js';

interface BenchFlags {
  layers: number;
  hidden: number;
  heads: number;
  ffn: number;
  vocab: number;
  seq: number;
  batch: number;
  steps: number;
  warmup: number;
  backend: BackendName;
  json?: boolean;
}

/** Deterministic token ids (a multiplicative hash), so every backend trains on the same batches. */
function syntheticTokens(n: number, vocab: number): Int32Array {
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = (Math.imul(i + 1, 2654435761) >>> 8) % vocab;
  return ids;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('time full training steps (forward, backward, AdamW) of a Llama-style model after warm-up')
    .option('--layers <n>', 'decoder layers', positiveInt, 4)
    .option('--hidden <n>', 'hidden size', positiveInt, 256)
    .option('--heads <n>', 'attention heads', positiveInt, 4)
    .option('--ffn <n>', 'FFN (SwiGLU) width', positiveInt, 688)
    .option('--vocab <n>', 'vocabulary size', positiveInt, 512)
    .option('--seq <n>', 'sequence length', positiveInt, 128)
    .option('--batch <n>', 'sequences per step', positiveInt, 16)
    .option('--steps <n>', 'timed steps', positiveInt, 5)
    .option('--warmup <n>', 'untimed steps first', nonNegativeInt, 2)
    .addOption(backendOption())
    .option('--json', 'print one JSON object')
    .action(async (flags: BenchFlags) => {
      const choice = await useBackend(flags.backend, flags.json);
      const config = llamaConfig({
        vocab: flags.vocab, hidden: flags.hidden, ffn: flags.ffn, layers: flags.layers, heads: flags.heads,
        maxPositions: flags.seq,
      });
      assertTrainingFits(config, flags.batch, flags.seq);
      const tokensPerStep = flags.batch * flags.seq;
      const ids = syntheticTokens(Math.max(tokensPerStep * 4, 4096) + 1, flags.vocab);
      const trainer = Trainer.fresh(config, ids, ids.subarray(0, tokensPerStep + 1), {
        batchSize: flags.batch, seqLen: flags.seq, accumulation: 1, seed: 0, evalBatches: 1, clipNorm: 1,
        schedule: { kind: 'constant', lr: 1e-4 },
        adamw: { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 },
      });
      for (let i = 0; i < flags.warmup; i++) await trainer.stepAsync();
      const times: number[] = [];
      let loss = NaN;
      for (let i = 0; i < flags.steps; i++) {
        const t0 = performance.now();
        loss = (await trainer.stepAsync()).loss;
        times.push(performance.now() - t0);
      }
      tf.dispose(Object.values(trainer.vars));
      trainer.optimizer.dispose();
      const stepMs = times.reduce((s, t) => s + t, 0) / times.length;
      const result = {
        backend: choice.name,
        device: choice.detail,
        step_ms: Math.round(stepMs * 10) / 10,
        step_ms_min: Math.round(Math.min(...times) * 10) / 10,
        tokens_per_s: Math.round((tokensPerStep / stepMs) * 1000),
        gflop_per_s: Math.round((flopsPerToken(config, flags.seq).trainPerToken * tokensPerStep) / stepMs / 1e5) / 10,
        params: countParams(config),
        layers: flags.layers, hidden: flags.hidden, heads: flags.heads, ffn: flags.ffn, vocab: flags.vocab,
        seq: flags.seq, batch: flags.batch, steps: flags.steps, warmup: flags.warmup, final_loss: loss,
      };
      if (flags.json) process.stdout.write(JSON.stringify(result) + '\n');
      else {
        process.stdout.write(
          `${result.backend}: ${result.step_ms} ms/step (min ${result.step_ms_min}), ${result.tokens_per_s} tokens/s, ` +
            `${result.gflop_per_s} GFLOP/s over ${flags.steps} steps after ${flags.warmup} warm-up\n`,
        );
      }
    });
}
