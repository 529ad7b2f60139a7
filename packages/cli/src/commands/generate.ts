import type { Command } from 'commander';
import { disposeModel, generate, loadModel, readRunInfo, resolveCheckpointDir, type BackendName } from '@efficientscale/core';
import { backendOption, nonNegativeInt, nonNegativeNumber, positiveInt, useBackend } from './options.js';

interface GenerateFlags {
  prompt: string;
  tokens: number;
  temperature: number;
  topK: number;
  seed: number;
  backend: BackendName;
  json?: boolean;
}

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('continue a prompt with a trained checkpoint (with the tokenizer it was trained with)')
    .argument('<dir>', 'a run directory or a checkpoint directory')
    .requiredOption('--prompt <text>', 'the text to continue')
    .option('--tokens <n>', 'new tokens to generate', positiveInt, 200)
    .option('--temperature <x>', 'sampling temperature (0 = greedy)', nonNegativeNumber, 0.8)
    .option('--top-k <k>', 'sample among the k most likely tokens (0 = all)', nonNegativeInt, 40)
    .option('--seed <n>', 'sampling seed', nonNegativeInt, 0)
    .addOption(backendOption())
    .option('--json', 'print one JSON object: prompt, completion, token ids and sampling settings')
    .action(async (dirArg: string, flags: GenerateFlags) => {
      await useBackend(flags.backend, true);
      const dir = resolveCheckpointDir(dirArg);
      const model = loadModel(dir);
      const { tokenizer } = readRunInfo(dir);
      const ids = generate(model.config, model.params, tokenizer.encode(flags.prompt), {
        maxNewTokens: flags.tokens,
        temperature: flags.temperature,
        topK: flags.topK,
        seed: flags.seed,
      });
      disposeModel(model);
      const completion = tokenizer.decode(ids);
      if (flags.json) {
        const { temperature, topK, seed } = flags;
        process.stdout.write(`${JSON.stringify({ prompt: flags.prompt, completion, text: flags.prompt + completion, completion_ids: ids, temperature, topK, seed })}\n`);
        return;
      }
      process.stdout.write(flags.prompt + completion + '\n');
    });
}
