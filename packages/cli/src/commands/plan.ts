import type { Command } from 'commander';
import { planCompute, type Estimate } from '@efficientscale/scaling-laws';
import { estimateText, fmt } from './fit.js';
import { positiveNumber } from './numbers.js';
import { readLawFile } from './predict.js';

const plain = (e?: Estimate) => (e ? { value: e.value, interval: e.interval ?? null } : null);

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('compute-optimal parameters and tokens for a budget C = 6·N·D, and the loss it reaches')
    .requiredOption('--law <law.json>', 'a law written by `efficientscale fit --out`')
    .requiredOption('--flops <C>', 'training compute budget in FLOPs', positiveNumber)
    .option('--json', 'print one JSON object')
    .action((flags: { law: string; flops: number; json?: boolean }) => {
      const est = readLawFile(flags.law);
      const plan = planCompute(est, flags.flops);
      const confidence = est.bootstrap?.confidence;
      if (flags.json) {
        const out = {
          law: est.law,
          flops: plan.flops,
          params: plain(plan.params),
          tokens: plain(plan.tokens),
          tokensPerParam: plain(plan.tokensPerParam),
          loss: plain(plan.loss),
          confidence: confidence ?? null,
        };
        process.stdout.write(`${JSON.stringify(out)}\n`);
        return;
      }
      const lines = [`budget C = ${fmt(plan.flops)} FLOPs`];
      if (plan.params && plan.tokens && plan.tokensPerParam) {
        lines.push(`  parameters N   ${estimateText(plan.params, confidence)}`);
        lines.push(`  tokens D       ${estimateText(plan.tokens, confidence)}`);
        lines.push(`  tokens/param   ${estimateText(plan.tokensPerParam, confidence)}`);
      } else lines.push(`  (the ${est.law} law does not split C between N and D)`);
      lines.push(`  loss           ${estimateText(plan.loss, confidence)}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
