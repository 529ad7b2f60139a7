import type { Command } from 'commander';
import { disposeModel, eosTokens, generate, loadModel, readRunInfo, resolveCheckpointDir, tokenizerByName, type BackendName } from '@efficientscale/core/node';
import { TextStream } from './text-stream.js';
import { backendOption, nonNegativeInt, nonNegativeNumber, positiveInt, positiveNumber, useBackend } from './options.js';

interface GenerateFlags {
  prompt: string;
  tokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  tokenizer?: string;
  cache: boolean;
  eos: boolean;
  backend: BackendName;
  json?: boolean;
}

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('continue a prompt with a checkpoint (with the tokenizer it was trained with, or its tokenizer.json)')
    .argument('<dir>', 'a run directory or a checkpoint directory (ours or a Hugging Face one)')
    .requiredOption('--prompt <text>', 'the text to continue')
    .option('--tokens <n>', 'new tokens to generate', positiveInt, 200)
    .option('--temperature <x>', 'sampling temperature (0 = greedy)', nonNegativeNumber, 0.8)
    .option('--top-k <k>', 'sample among the k most likely tokens (0 = all)', nonNegativeInt, 40)
    .option('--top-p <p>', 'nucleus sampling: among the most likely tokens holding probability p (1 = all)', positiveNumber, 1)
    .option('--seed <n>', 'sampling seed', nonNegativeInt, 0)
    .option('--tokenizer <name>', 'byte, gpt2 or a tokenizer.json, instead of the checkpoint\'s own (for a checkpoint that has none)')
    .option('--no-cache', 're-run the whole window for every token instead of keeping a key/value cache')
    .option('--no-eos', 'keep going past the config\'s eos_token_id (by default generation stops after it)')
    .addOption(backendOption())
    .option('--json', 'print one JSON object at the end: prompt, completion, token ids, sampling settings and tokens/s (without it the text is written as it is generated)')
    .action(async (dirArg: string, flags: GenerateFlags) => {
      await useBackend(flags.backend, true);
      const dir = resolveCheckpointDir(dirArg);
      const { tokenizer } = readRunInfo(dir, flags.tokenizer === undefined ? undefined : tokenizerByName(flags.tokenizer));
      const model = loadModel(dir);
      const promptIds = Array.from(tokenizer.encode(flags.prompt));
      const started = performance.now();
      // Text mode shows the text as it is generated (a long --tokens shows progress, and Ctrl-C keeps what came).
      const stream = flags.json ? undefined : new TextStream(tokenizer, (text) => process.stdout.write(text));
      if (stream) process.stdout.write(flags.prompt);
      let ids: number[];
      try {
        ids = await generate(model.config, model.params, promptIds, {
          maxNewTokens: flags.tokens,
          temperature: flags.temperature,
          topK: flags.topK,
          topP: flags.topP,
          seed: flags.seed,
          cache: flags.cache,
          stopTokens: flags.eos ? eosTokens(model.config) : [],
          vocabLimit: tokenizer.vocabSize,
          onToken: stream && ((id) => stream.push(id)),
        });
      } finally {
        disposeModel(model);
      }
      if (stream) {
        stream.end();
        process.stdout.write('\n');
        return;
      }
      const seconds = (performance.now() - started) / 1000;
      const completion = tokenizer.decode(ids);
      const { temperature, topK, topP, seed, cache } = flags;
      const record = { prompt: flags.prompt, completion, text: flags.prompt + completion, prompt_ids: promptIds, completion_ids: ids, tokenizer: tokenizer.name, temperature, topK, topP, seed, cache, tokens_per_s: ids.length / seconds, peak_rss_mb: process.resourceUsage().maxRSS / 1024 };
      process.stdout.write(`${JSON.stringify(record)}\n`);
    });
}
