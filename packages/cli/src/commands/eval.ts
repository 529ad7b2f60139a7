import * as path from 'node:path';
import type { Command } from 'commander';
import {
  assertHeldOutBatch,
  disposeModel,
  evalBatches,
  evaluateLoss,
  loadModel,
  loadRecordedCorpus,
  loadTextCorpus,
  locateNonfinite,
  mismatch,
  onHost,
  prefetchToHost,
  readRunInfo,
  tokenizerByName,
  resolveCheckpointDir,
  splitTrainVal,
  tf,
  type BackendName,
} from '@efficientscale/core/node';
import { expertLoadMetric, summarizeExpertLoad } from '@efficientscale/moe';
import { backendOption, positiveInt, useBackend } from './options.js';

interface EvalFlags {
  corpus?: string;
  tokenizer?: string;
  batch: number;
  seq: number;
  batches: number;
  backend: BackendName;
  json?: boolean;
  allowNonfinite?: boolean;
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('held-out loss (nats/token) of a checkpoint on the validation split of the corpus it was trained on')
    .argument('<dir>', 'a run directory or a checkpoint directory (ours or transformers\')')
    .option('--corpus <file>', 'a UTF-8 text file instead of the run\'s own corpus (the embedded Brown Corpus when the checkpoint records none)')
    .option('--tokenizer <name>', 'byte, gpt2 or a tokenizer.json, instead of the checkpoint\'s own (for a checkpoint that has none)')
    .option('--batch <n>', 'sequences per batch', positiveInt, 8)
    .option('--seq <n>', 'tokens per sequence', positiveInt, 64)
    .option('--batches <n>', 'batches to average', positiveInt, 16)
    .addOption(backendOption())
    .option('--allow-nonfinite', 'load weights holding NaN/Inf instead of refusing them (forensics)')
    .option('--json', 'print one JSON object')
    .action(async (dirArg: string, flags: EvalFlags) => {
      const backend = await useBackend(flags.backend, true);
      const dir = resolveCheckpointDir(dirArg);
      const model = loadModel(dir, { allowNonfinite: flags.allowNonfinite });
      const info = readRunInfo(dir, flags.tokenizer === undefined ? undefined : tokenizerByName(flags.tokenizer));
      const { tokenizer, valFraction } = info;
      const corpus = flags.corpus ? loadTextCorpus(flags.corpus) : loadRecordedCorpus(info.corpus, `${dir}: trainer_state.json "spec.corpus"`);
      const ids = tokenizer.encode(corpus.text);
      assertHeldOutBatch(ids.length, valFraction, flags.batch, flags.seq, corpus.name);
      const { val } = splitTrainVal(ids, valFraction);
      const batches = evalBatches(val, flags.batch, flags.seq, flags.batches);
      const evaluated = await evaluateLoss(model.config, model.params, batches, flags.batch, flags.seq);
      const bad = evaluated.batchLosses.findIndex((l) => !Number.isFinite(l));
      if (bad >= 0) {
        const b = batches[bad];
        await prefetchToHost(Object.values(model.params));
        const where = onHost(() => tf.tidy(() => locateNonfinite(model.config, model.params, tf.tensor2d(b.inputs, [flags.batch, flags.seq], 'int32'))));
        const found = `${evaluated.batchLosses[bad]}${where ? ` (${where})` : ''}`;
        // --allow-nonfinite asked for the loss of a model known to hold NaN/Inf: report it, and say why.
        if (!flags.allowNonfinite) throw mismatch('eval loss', 'a finite number', found);
        process.stderr.write(`warning: eval loss: found ${found} (--allow-nonfinite)\n`);
      }
      disposeModel(model);
      const loss = evaluated.loss;
      // MoE checkpoints: each expert's share of the held-out tokens, per layer.
      const expertLoad = evaluated.ffnMetrics?.[expertLoadMetric];
      const result = {
        checkpoint: path.resolve(dir),
        corpus: corpus.name,
        eval_loss: loss,
        tokens: batches.length * flags.batch * flags.seq,
        backend: backend.name,
        ...(expertLoad ? { expert_load: expertLoad } : {}),
      };
      if (flags.json) process.stdout.write(JSON.stringify(result) + '\n');
      else {
        process.stdout.write(`eval loss ${loss.toFixed(4)} nats/token on ${result.tokens} held-out tokens of ${corpus.name}\n`);
        const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
        for (const l of summarizeExpertLoad(expertLoad && { [expertLoadMetric]: expertLoad })) {
          process.stdout.write(`layer ${l.layer}: busiest of ${l.experts} experts ${pct(l.max)} of the tokens, idlest ${pct(l.min)}\n`);
        }
      }
    });
}
