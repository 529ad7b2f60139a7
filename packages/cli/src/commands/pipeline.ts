import * as path from 'node:path';
import { Option, type Command } from 'commander';
import { backendNames, mismatch, type BackendName } from '@efficientscale/core';
import { existsSync } from 'node:fs';
import { numberList, useBackend } from './options.js';
import { readAnyLawFile } from './predict.js';
import type { Plan } from '../pipeline/plan.js';
import type { PipelineLaw } from '../pipeline/predict.js';
import { trainingProgress } from './progress.js';

interface PipelineFlags {
  dryRun?: boolean;
  json?: boolean;
  backend?: BackendName;
  out?: string;
  seeds?: number[];
  lrSweep?: number[];
  law?: string;
  pilots?: boolean;
}

export function registerPipeline(program: Command): void {
  program
    .command('pipeline')
    .description('run a plan of stages (train, grow, upcycle, lowrank, baseline), each a checkpoint directory; re-running skips finished stages and resumes an interrupted one; writes report.md and loss plots')
    .argument('<plan>', 'a plan file (JSON), e.g. plans/quick.json')
    .option('--dry-run', 'print each stage\'s parameters, tokens, FLOPs and estimated time, and train nothing')
    .addOption(new Option('--backend <name>', 'tensor backend (default: the plan\'s)').choices([...backendNames]))
    .option('--out <dir>', 'output directory instead of the plan\'s "out"')
    .option('--seeds <list>', 'run the plan (pipeline and baseline) once per seed, e.g. 0,1,2, each into OUT/seed-N; the report gives each seed\'s saving, their median and range', numberList('--seeds', (x) => Number.isSafeInteger(x) && x >= 0, 'non-negative integers'))
    .option('--lr-sweep <multipliers>', 'run the baseline at each multiple of its peak learning rate, e.g. 0.5,1,2, and measure the saving against the best', numberList('--lr-sweep', (x) => Number.isFinite(x) && x > 0, 'positive numbers'))
    .option('--law <law.json>', 'a whole-curve law (fit --law annealing on runs of several sizes): the dry run predicts each stage\'s final eval loss, the report sets prediction beside measurement; when the file does not exist, the plan\'s "pilots" are trained first and the law fitted on them is written there')
    .option('--pilots', 'train the plan\'s pilots, fit the law on them (to --law, default OUT/pilots/law.json) and stop')
    .option('--json', 'print one JSON object at the end')
    .action(async (planFile: string, flags: PipelineFlags) => {
      // The pipeline modules (and the technique packages behind them) load only when this command runs.
      const p = await import('../pipeline/index.js');
      const loaded = p.loadPlan(planFile);
      const outPlan = flags.out ? { ...loaded, out: flags.out } : loaded;
      const plan = flags.lrSweep ? p.withLrSweep(outPlan, flags.lrSweep) : outPlan;
      if (flags.dryRun && flags.law && !existsSync(flags.law)) {
        throw mismatch(`--law ${flags.law}`, 'an existing law file (train the plan\'s pilots first: pipeline PLAN --pilots --law FILE)', 'no such file');
      }
      const backend = await useBackend(flags.backend ?? (plan.backend as BackendName), flags.json);
      const law = await pipelineLaw(plan, flags, p);
      if (flags.pilots) return;
      if (flags.dryRun) {
        // Refused here whatever the run would refuse before training: corpus, output directory, stages on disk.
        for (const target of flags.seeds ? flags.seeds.map((seed) => p.seedPlan(plan, seed)) : [plan]) p.preflight(target);
        const d = await p.dryRun(plan, backend.name, law);
        const seeds = flags.seeds?.length ?? 1;
        const times = seeds > 1 ? `× ${seeds} seeds: about ${p.formatSeconds(seeds * d.est_seconds)} in all\n` : '';
        process.stdout.write(flags.json ? `${JSON.stringify({ backend: backend.name, seeds, ...d })}\n` : p.formatDryRun(d) + times);
        return;
      }
      const options = {
        // Under --json, stdout holds the one JSON object and stderr stays for errors.
        log: (line: string) => (flags.json ? undefined : process.stderr.write(`${line}\n`)),
        progress: () => trainingProgress(0, !flags.json),
        echo: flags.json ? undefined : (text: string) => process.stderr.write(text),
        law,
      };
      if (flags.seeds) {
        const run = await p.runSeeds(plan, flags.seeds, options);
        const seeds = run.results.filter((r) => r.result.complete).map((r) => p.seedResult(r.seed, r.out, r.result));
        const written = run.complete ? await p.writeSeedsReport(plan, seeds, flags.lrSweep) : undefined;
        const summary = p.summarizeSavings(seeds.map((s) => s.saving));
        if (flags.json) {
          process.stdout.write(`${JSON.stringify({ backend: backend.name, out: path.resolve(plan.out), complete: run.complete, seeds, saving: summary, files: written?.files })}\n`);
          return;
        }
        if (!written) return;
        const lines = seeds.map((s) => `seed ${s.seed}: saving ${s.saving === null ? 'not reached' : `${(100 * s.saving).toFixed(1)}%`} (pipeline ${s.pipelineFinalLoss?.toFixed(3) ?? '-'}, baseline ${s.targetLoss?.toFixed(3) ?? '-'} at peak LR ${s.baselineLr ?? '-'})`);
        process.stdout.write(`${lines.join('\n')}\ncompute saved: ${p.summarySentence(summary)}\nreport: ${written.files.map((f) => path.relative('.', f)).join(', ')}\n`);
        return;
      }
      const result = await p.runPipeline(plan, options);
      const r = result.report;
      if (flags.json) {
        const seeds = result.complete ? [p.seedResult(plan.seed, plan.out, result)] : [];
        process.stdout.write(`${JSON.stringify({ backend: backend.name, out: path.resolve(plan.out), complete: result.complete, seeds, stages: result.stages.map(({ inputs: _inputs, ...s }) => s), report: r })}\n`);
        return;
      }
      if (!r) return;
      process.stdout.write(
        `done in ${p.formatSeconds(r.wallSeconds)}: ${r.pipelineTokens.toLocaleString('en')} tokens, ${r.pipelineFlops.toExponential(2)} FLOPs, final eval loss ${r.pipelineFinalLoss?.toFixed(3) ?? '-'} nats/token\n` +
          `report: ${r.files.map((f) => path.relative('.', f)).join(', ')}\n` +
          `${p.savingSentence(r.saving)}\n` +
          (p.baselineSweepSentence(r.baselines) ? `${p.baselineSweepSentence(r.baselines)}\n` : '') +
          (p.equalComputeSentence(r.saving) ? `${p.equalComputeSentence(r.saving)}\n` : ''),
      );
    });
}

/**
 * The law the pipeline predicts with: --law's file, or (when it does not exist yet, or with --pilots) one
 * fitted on the plan's pilots, trained first. The law must span model sizes: the stages change size.
 */
async function pipelineLaw(plan: Plan, flags: PipelineFlags, p: typeof import('../pipeline/index.js')): Promise<PipelineLaw | undefined> {
  if (!flags.law && !flags.pilots) return undefined;
  p.checkPredictable(plan);
  const file = flags.law ?? path.join(p.pilotsDir(plan), 'law.json');
  const log = (line: string) => (flags.json ? undefined : process.stderr.write(`${line}\n`));
  if (flags.pilots || !existsSync(file)) {
    if (flags.dryRun) throw mismatch(`--law ${file}`, 'an existing law file (train the plan\'s pilots first: pipeline PLAN --pilots --law FILE)', 'no such file');
    const dirs = await p.runPilots(plan, { log, progress: () => trainingProgress(0, !flags.json) });
    const fitted = p.fitPilotLaw(dirs, file);
    log(`law fitted on ${dirs.length} pilots (${fitted.fit.sizes} sizes, RMS error ${(fitted.fit.rmsRelativeError * 100).toFixed(2)}%) written to ${file}`);
    if (flags.pilots) {
      if (flags.json) process.stdout.write(`${JSON.stringify({ lawFile: file, pilots: dirs, fitted })}\n`);
      return undefined;
    }
  }
  const law = readAnyLawFile(file);
  if (law.kind !== 'curve' || !law.joint) {
    throw mismatch(`--law ${file}`, 'a whole-curve law fitted on runs of several model sizes (the stages change size)', law.kind === 'curve' ? 'a law of one model size' : `a ${law.file.law} law`);
  }
  return { estimate: law, source: file };
}
