import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { mismatch, parseLawFile, predictLoss } from '@efficientscale/scaling-laws';
import { estimateText, fmt } from './fit.js';
import { positiveNumber } from './numbers.js';

/** Reads a law file written by `efficientscale fit --out`. */
export function readLawFile(path: string) {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw mismatch(`--law ${path}`, 'a readable law file', (err as NodeJS.ErrnoException).code ?? String(err));
  }
  return parseLawFile(text, path);
}

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('predicted loss of a model of N parameters trained on D tokens, with an interval when the law was bootstrapped')
    .requiredOption('--law <law.json>', 'a law written by `efficientscale fit --out`')
    .requiredOption('--params <N>', 'parameters', positiveNumber)
    .requiredOption('--tokens <D>', 'training tokens', positiveNumber)
    .option('--unique-tokens <U>', 'distinct tokens when data is repeated (repetition law)', positiveNumber)
    .option('--json', 'print one JSON object')
    .action((flags: { law: string; params: number; tokens: number; uniqueTokens?: number; json?: boolean }) => {
      const est = readLawFile(flags.law);
      const loss = predictLoss(est, flags.params, flags.tokens, flags.uniqueTokens);
      const confidence = est.bootstrap?.confidence;
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ law: est.law, params: flags.params, tokens: flags.tokens, uniqueTokens: flags.uniqueTokens ?? null, loss: loss.value, interval: loss.interval ?? null, confidence: confidence ?? null })}\n`);
        return;
      }
      process.stdout.write(`predicted loss at N=${fmt(flags.params)}, D=${fmt(flags.tokens)}: ${estimateText(loss, confidence)}\n`);
    });
}
