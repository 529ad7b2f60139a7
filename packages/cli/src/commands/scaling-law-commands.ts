import type { Command } from 'commander';
import { registerFit } from './fit.js';
import { registerPredict } from './predict.js';
import { registerPlan } from './plan.js';
import { registerEvaluate } from './evaluate.js';

/**
 * The sub-commands that need no tensors. When one of them runs, the CLI registers these alone, so that
 * neither core nor tfjs is loaded (program.ts keeps their names in SCALING_LAW_COMMANDS).
 */
export function registerScalingLawCommands(program: Command): void {
  registerFit(program);
  registerPredict(program);
  registerPlan(program);
  registerEvaluate(program);
}
