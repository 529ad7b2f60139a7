/**
 * Pilot runs: small models a plan trains first, from scratch, so that a whole-curve law fitted on them
 * can predict the plan's stages before they train (`pipeline PLAN --law law.json`). Each pilot logs its
 * held-out loss 50 times into OUT/pilots/<name>; a finished pilot is not trained again.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { countParams, defaultAdamW, llamaConfig, mismatch, startRun, tokenizerByName, writeFileAtomic, type Progress, type RunSpec } from '@efficientscale/core/node';
import { bootstrapCurveFit, fitCurveLaw, toCurveLawFile, type CurveLawFile } from '@efficientscale/scaling-laws';
import { readRunCurve } from '@efficientscale/scaling-laws/node';
import { PILOTS_DIR, type Plan } from './plan.js';
import { loadPlanCorpus } from './run.js';
import { planCurve } from './spec.js';

export type Pilot = NonNullable<Plan['pilots']>[number];

/** Evaluations a pilot logs: enough for a curve (the plan's evalsPerStage is for plots). */
export const PILOT_EVALS = 50;

/** The N-exponent of the floor held when the pilots have two sizes only (Chinchilla's, Hoffmann et al.). */
export const TWO_SIZE_ALPHA_N = 0.34;

/** A pilot's schedule kind: its own, else the plan's (a per-stage plan's pilots default to cosine). */
const pilotKind = (plan: Plan, pilot: Pilot) => pilot.schedule ?? (plan.schedule.kind === 'per-stage' ? 'cosine' : plan.schedule.kind);

export function pilotName(plan: Plan, pilot: Pilot, i: number): string {
  return pilot.name ?? `${i + 1}-h${pilot.model.hidden}-l${pilot.model.layers}-${pilotKind(plan, pilot)}`;
}

export const pilotsDir = (plan: Plan) => path.join(plan.out, PILOTS_DIR);

function pilotSpec(plan: Plan, pilot: Pilot, corpus: string): RunSpec {
  const tokensPerStep = plan.batch * plan.seq * plan.accumulation;
  if (pilot.steps !== undefined && pilot.tokens !== undefined) throw mismatch('pilot', 'at most one of "steps" and "tokens"', 'both');
  const steps = pilot.steps ?? (pilot.tokens !== undefined ? Math.max(1, Math.ceil(pilot.tokens / tokensPerStep)) : undefined);
  if (steps === undefined) throw mismatch('pilot', 'one of "steps" or "tokens"', 'neither');
  const schedule = planCurve({ ...plan.schedule, kind: pilotKind(plan, pilot) }, pilot.lr ?? plan.lr, steps);
  return {
    totalSteps: steps,
    valFraction: 0.02,
    evalEvery: Math.max(1, Math.floor(steps / PILOT_EVALS)),
    checkpointEvery: steps,
    corpus,
    trainer: {
      batchSize: plan.batch,
      seqLen: plan.seq,
      accumulation: plan.accumulation,
      schedule,
      adamw: { ...defaultAdamW, weightDecay: 0.01 },
      clipNorm: 1,
      seed: plan.seed,
      evalBatches: plan.evalBatches,
    },
  };
}

const finished = (dir: string, steps: number) => {
  const state = path.join(dir, 'checkpoint', 'trainer_state.json');
  if (!fs.existsSync(state)) return false;
  try {
    return (JSON.parse(fs.readFileSync(state, 'utf8')) as { step?: number }).step === steps;
  } catch {
    return false;
  }
};

/** Trains the plan's pilots that are not finished yet; returns their run directories. */
export async function runPilots(plan: Plan, o: { log: (line: string) => void; progress?: () => { update: (p: Progress) => void; stop: () => void } }): Promise<string[]> {
  const pilots = plan.pilots ?? [];
  if (pilots.length === 0) throw mismatch(`plan ${plan.name ?? ''}`.trim(), 'a "pilots" list (small runs to fit the law on) or an existing --law file', 'no pilots');
  const corpus = loadPlanCorpus(plan);
  const tokenizer = tokenizerByName(plan.tokenizer);
  const dirs: string[] = [];
  for (const [i, pilot] of pilots.entries()) {
    const name = pilotName(plan, pilot, i);
    const dir = path.join(pilotsDir(plan), name);
    const spec = pilotSpec(plan, pilot, corpus.name);
    dirs.push(dir);
    if (finished(dir, spec.totalSteps)) {
      o.log(`pilot ${i + 1}/${pilots.length} ${name}: complete, skipped`);
      continue;
    }
    fs.rmSync(dir, { recursive: true, force: true }); // an interrupted pilot starts again: it is small
    const m = pilot.model;
    const config = llamaConfig({ vocab: tokenizer.vocabSize, hidden: m.hidden, ffn: m.ffn, layers: m.layers, heads: m.heads, kvHeads: m.kvHeads, maxPositions: m.maxPositions ?? Math.max(256, plan.seq) });
    o.log(`pilot ${i + 1}/${pilots.length} ${name}: training ${countParams(config).toLocaleString('en')} parameters for ${spec.totalSteps} steps → ${path.relative('.', dir)}`);
    const bar = o.progress?.();
    try {
      await startRun({ outDir: dir, text: corpus.text, tokenizer, config, spec, onProgress: bar?.update });
    } finally {
      bar?.stop();
    }
  }
  return dirs;
}

/**
 * Fits the annealing law to the pilots (jointly over their sizes; with two sizes the floor's N-exponent
 * is held at Chinchilla's 0.34), bootstraps it over pilots when there are three or more, and writes it.
 */
export function fitPilotLaw(dirs: readonly string[], out: string, bootstrap = 100): CurveLawFile {
  const runs = dirs.map((d) => readRunCurve(d));
  const sizes = new Set(runs.map((r) => r.params)).size;
  const options = { law: 'annealing' as const, ...(sizes === 2 ? { fixed: { alphaN: TWO_SIZE_ALPHA_N } } : {}) };
  const fit = fitCurveLaw(runs, options);
  const boot = runs.length >= 3 && bootstrap > 0 ? bootstrapCurveFit(runs, fit, { ...options, samples: bootstrap, seed: 0 }) : undefined;
  const file = toCurveLawFile(fit, boot);
  writeFileAtomic(out, `${JSON.stringify(file, null, 2)}\n`);
  return file;
}
