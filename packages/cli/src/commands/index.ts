import type { Command } from 'commander';
import { registerGrow } from './grow.js';
import { registerTrain } from './train.js';
import { registerFit } from './fit.js';
import { registerPredict } from './predict.js';
import { registerPlan } from './plan.js';
import { registerEvaluate } from './evaluate.js';
import { registerEval } from './eval.js';
import { registerGenerate } from './generate.js';
import { registerForward } from './forward.js';
import { registerImport } from './import.js';
import { registerBench } from './bench.js';
import { registerUpcycle } from './upcycle.js';
import { registerLowrank } from './lowrank.js';
import { registerPipeline } from './pipeline.js';
import { registerReport } from './report.js';
import { registerExpertLoad } from './expert-load.js';

/** Every sub-command registers itself here; one line per command file. */
export function registerCommands(program: Command): void {
  registerGrow(program);
  registerTrain(program);
  registerFit(program);
  registerPredict(program);
  registerPlan(program);
  registerEvaluate(program);
  registerEval(program);
  registerGenerate(program);
  registerForward(program);
  registerImport(program);
  registerBench(program);
  registerUpcycle(program);
  registerLowrank(program);
  registerPipeline(program);
  registerReport(program);
  registerExpertLoad(program);
}
