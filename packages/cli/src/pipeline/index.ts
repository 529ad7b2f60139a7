export { loadPlan, parsePlan, planSchema, stageTypes, type Plan, type Stage } from './plan.js';
export { layoutStages, type PlannedStage } from './layout.js';
export { dryRun, formatDryRun, formatSeconds, type DryRun } from './dry-run.js';
export { preflight, runPipeline, type PipelineResult, type RunOptions } from './run.js';
export { baselineSweepSentence, equalComputeSentence, savingSentence, type BaselineResult, type PipelineReport } from './report.js';
export { firstReach, flopSaving, type CurvePoint, type Saving } from './saving.js';
export { runSeeds, seedPlan, seedResult, summarizeSavings, withLrSweep, type SavingSummary, type SeedResult } from './seeds.js';
export { summarySentence, writeSeedsReport } from './seeds-report.js';
