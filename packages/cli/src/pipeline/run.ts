/**
 * Runs a plan's stages in order, each into its own directory under the plan's output. A complete stage
 * (stage.json present, same inputs) is skipped; an interrupted train stage resumes from its last
 * checkpoint. At the end, report.md and the loss plots are written.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { countParams, EMBEDDED_CORPUS, flopsPerToken, loadDefaultCorpus, loadTextCorpus, makeDirs, mismatch, tokenizerByName, writeFileAtomic, type Corpus, type Progress, type Tokenizer } from '@efficientscale/core/node';
import { layoutStages, trains, type PlannedStage } from './layout.js';
import { PILOTS_DIR, type Plan, type TrainStage } from './plan.js';
import { clearStageDir, completedStage, hasCheckpoint, writeStageRecord, type StageRecord } from './stage-dir.js';
import { assertSameSpec, runTrainStage } from './train-stage.js';
import { runExternalStage } from './external-stage.js';
import { stageSpec } from './spec.js';
import { runTransformStage } from './transform-stage.js';
import { writePipelineReport, type PipelineReport } from './report.js';
import type { PipelineLaw } from './predict.js';

export interface RunOptions {
  /** One line per stage (stderr in the CLI). */
  log: (line: string) => void;
  /** A progress callback factory for a train stage (the CLI's progress bar); returns its stop function. */
  progress?: (p: PlannedStage) => { update: (p: Progress) => void; stop: () => void };
  /** Stop after this many stages have completed (tests of skipping). */
  stopAfterStages?: number;
  /** Stop stage `stage` after `steps` of its steps, as a kill would (tests of resume). */
  interrupt?: { stage: number; steps: number };
  /** An external trainer's own output as it comes (the CLI's stderr); it always goes to the stage's trainer.log. */
  echo?: (text: string) => void;
  /** A whole-curve law (fitted on the plan's pilots) whose predictions the report sets beside the measurements. */
  law?: PipelineLaw;
}

export interface PipelineResult {
  complete: boolean;
  stages: StageRecord[];
  report?: PipelineReport;
}

export function loadPlanCorpus(plan: Plan): Corpus {
  return plan.corpus === EMBEDDED_CORPUS ? loadDefaultCorpus() : loadTextCorpus(path.resolve(plan.baseDir, plan.corpus));
}

/**
 * What a stage's result depends on: the run settings, every stage up to it and, under a plan-wide
 * schedule, the length of the curve (later stages' steps set it).
 */
function stageInputs(plan: Plan, p: PlannedStage): object {
  const { baseDir: _baseDir, stages, $schema: _schema, name: _name, description: _description, out: _out, backend: _backend, pilots: _pilots, ...settings } = plan;
  return { settings, stages: stages.slice(0, p.index + 1), ...(plan.schedule.kind === 'per-stage' ? {} : { scheduleSteps: p.scheduleSteps }) };
}

/**
 * The output directory: new, empty (but for the plan's pilots), or an earlier output of a pipeline (its
 * plan.json) whose finished stages a re-run skips. Anything else (a train run's directory, a checkpoint) would be mixed into.
 */
function assertPipelineOut(out: string): void {
  if (!fs.existsSync(out)) return;
  const what = `the plan's out ${out}`;
  if (!fs.statSync(out).isDirectory()) throw mismatch(what, 'a directory', 'a file');
  // pilots/ is the pipeline's own: the plan's pilot runs (pipeline --pilots) trained before its stages.
  const entries = fs.readdirSync(out).filter((e) => !(e === PILOTS_DIR && fs.statSync(path.join(out, e)).isDirectory())).sort();
  if (entries.length === 0 || entries.includes('plan.json')) return;
  const kind = entries.includes('metrics.jsonl') || entries.includes('checkpoint') ? 'a training run\'s directory' : entries.includes('config.json') ? 'a checkpoint directory' : `${entries.length} other entries (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', ...' : ''})`;
  throw mismatch(what, 'a new or empty directory, or an earlier output of a pipeline (with plan.json)', kind);
}

/**
 * What a run checks before it trains anything, and the dry run checks too, so that it fails where the run
 * would: the stage order and architectures, the corpus, the output directory, and every stage already on
 * disk against the plan as it is now (a finished stage whose plan entry or earlier stages changed is
 * refused; so is an interrupted train stage whose settings changed).
 */
export function preflight(plan: Plan): { layout: PlannedStage[]; corpus: Corpus; tokenizer: Tokenizer } {
  const layout = layoutStages(plan);
  const corpus = loadPlanCorpus(plan);
  const tokenizer = tokenizerByName(plan.tokenizer);
  assertPipelineOut(plan.out);
  // As runPipeline goes: after a stage that runs again, the later model stages are cleared, not checked.
  let reruns = false;
  for (const p of layout) {
    if (reruns && p.stage.type !== 'baseline') continue;
    if (completedStage(p.dir, stageInputs(plan, p))) continue;
    // An interrupted external stage runs again from its start; one of ours resumes with its settings.
    if (trains(p.stage) && (p.stage as TrainStage).trainer === undefined && hasCheckpoint(p.dir)) assertSameSpec(p, stageSpec(plan, p, corpus.source));
    reruns = true;
  }
  return { layout, corpus, tokenizer };
}

export async function runPipeline(plan: Plan, o: RunOptions): Promise<PipelineResult> {
  const { layout, corpus, tokenizer } = preflight(plan);
  makeDirs(plan.out, `the plan's out ${plan.out}`);
  const { baseDir: _baseDir, ...planJson } = plan;
  writeFileAtomic(path.join(plan.out, 'plan.json'), `${JSON.stringify(planJson, null, 2)}\n`);
  const records: StageRecord[] = [];
  let ranOne = false;
  for (const p of layout) {
    const inputs = stageInputs(plan, p);
    // A stage after one that ran again is run again too: its input changed on disk.
    // (The baseline reads nothing on disk.)
    if (ranOne && p.stage.type !== 'baseline' && fs.existsSync(p.dir)) {
      o.log(`stage ${p.index + 1}/${layout.length} ${p.stage.name ?? p.stage.type}: an earlier stage ran again, so this one runs again`);
      clearStageDir(p.dir);
    }
    const done = completedStage(p.dir, inputs);
    const header = `stage ${p.index + 1}/${layout.length} ${p.stage.name ?? p.stage.type}`;
    if (done) {
      o.log(`${header}: complete, skipped (${path.relative('.', p.dir) || '.'})`);
      records.push(done);
      continue;
    }
    // Counters before this stage: the baseline starts from zero, every other stage where the last model stage ended.
    const before = p.stage.type === 'baseline' ? undefined : records[records.length - 1];
    const previous = p.index > 0 ? layout[p.index - 1] : undefined;
    ranOne = true;
    let record: Omit<StageRecord, 'format'>;
    if (trains(p.stage)) {
      const external = (p.stage as TrainStage).trainer;
      o.log(`${header}: training ${p.params.toLocaleString('en')} parameters for ${p.steps} steps (${p.tokens.toLocaleString('en')} tokens)${external ? ' with an external trainer' : ''} → ${path.relative('.', p.dir)}`);
      const bar = external ? undefined : o.progress?.(p);
      const context = { plan, corpus, tokenizer, onProgress: bar?.update, stopAfterSteps: o.interrupt?.stage === p.index ? o.interrupt.steps : undefined };
      const result = await (external
        ? runExternalStage({ ...context, echo: o.echo, before: { tokens: before?.tokens_end ?? 0, flops: before?.flops_end ?? 0 } }, p, previous)
        : runTrainStage(context, p, previous)
      ).finally(() => bar?.stop());
      if (result.steps < p.startStep + p.steps) {
        o.log(`${header}: stopped at step ${result.steps} of ${p.startStep + p.steps}; run the plan again to resume`);
        return { complete: false, stages: records };
      }
      const flopsBefore = before?.flops_end ?? 0;
      record = {
        label: p.label,
        stage: p.stage,
        inputs,
        params: result.params,
        active_params: p.activeParams,
        steps: p.steps,
        tokens: p.tokens,
        tokens_end: result.tokens,
        flops: result.flops - flopsBefore,
        flops_end: result.flops,
        wall_s: result.wallSeconds,
        tokens_per_s: p.tokens / Math.max(result.wallSeconds, 1e-9),
        train_loss: result.trainLoss,
        eval_loss: result.evalLoss,
        summary: `eval loss ${result.evalLoss.toFixed(3)} nats/token after ${result.tokens.toLocaleString('en')} tokens`,
      };
    } else {
      const started = performance.now();
      const out = runTransformStage({ corpus, tokenizer, seq: plan.seq }, p, previous!);
      o.log(`${header}: ${out.summary}`);
      record = {
        label: p.label,
        stage: p.stage,
        inputs,
        params: countParams(out.config),
        active_params: flopsPerToken(out.config, plan.seq).activeMatmulParams,
        steps: 0,
        tokens: 0,
        tokens_end: before?.tokens_end ?? 0,
        flops: 0,
        flops_end: before?.flops_end ?? 0,
        wall_s: (performance.now() - started) / 1000,
        summary: out.summary,
      };
    }
    records.push(writeStageRecord(p.dir, record));
    if (o.stopAfterStages !== undefined && records.length >= o.stopAfterStages && records.length < layout.length) {
      return { complete: false, stages: records };
    }
  }
  const report = await writePipelineReport(plan, layout, records, o.law);
  return { complete: true, stages: records, report };
}
