import * as path from 'node:path';
import { Option, type Command } from 'commander';
import { backendNames, type BackendName } from '@efficientscale/core';
import { useBackend } from './options.js';
import { trainingProgress } from './progress.js';

interface PipelineFlags {
  dryRun?: boolean;
  json?: boolean;
  backend?: BackendName;
  out?: string;
}

export function registerPipeline(program: Command): void {
  program
    .command('pipeline')
    .description('run a plan of stages (train, grow, upcycle, lowrank, baseline), each a checkpoint directory; re-running skips finished stages and resumes an interrupted one; writes report.md and loss plots')
    .argument('<plan>', 'a plan file (JSON), e.g. plans/quick.json')
    .option('--dry-run', 'print each stage\'s parameters, tokens, FLOPs and estimated time, and train nothing')
    .addOption(new Option('--backend <name>', 'tensor backend (default: the plan\'s)').choices([...backendNames]))
    .option('--out <dir>', 'output directory instead of the plan\'s "out"')
    .option('--json', 'print one JSON object at the end')
    .action(async (planFile: string, flags: PipelineFlags) => {
      // The pipeline modules (and the technique packages behind them) load only when this command runs.
      const { loadPlan, dryRun, formatDryRun, formatSeconds, runPipeline, savingSentence, equalComputeSentence } = await import('../pipeline/index.js');
      const loaded = loadPlan(planFile);
      const plan = flags.out ? { ...loaded, out: flags.out } : loaded;
      const backend = await useBackend(flags.backend ?? (plan.backend as BackendName), flags.json);
      if (flags.dryRun) {
        const d = dryRun(plan, backend.name);
        process.stdout.write(flags.json ? `${JSON.stringify({ backend: backend.name, ...d })}\n` : formatDryRun(d));
        return;
      }
      const result = await runPipeline(plan, {
        // Under --json, stdout holds the one JSON object and stderr stays for errors.
        log: (line) => (flags.json ? undefined : process.stderr.write(`${line}\n`)),
        progress: () => trainingProgress(0, !flags.json),
      });
      const r = result.report;
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ backend: backend.name, out: path.resolve(plan.out), complete: result.complete, stages: result.stages.map(({ inputs: _inputs, ...s }) => s), report: r })}\n`);
        return;
      }
      if (!r) return;
      process.stdout.write(
        `done in ${formatSeconds(r.wallSeconds)}: ${r.pipelineTokens.toLocaleString('en')} tokens, ${r.pipelineFlops.toExponential(2)} FLOPs, final eval loss ${r.pipelineFinalLoss?.toFixed(3) ?? '-'} nats/token\n` +
          `report: ${r.files.map((f) => path.relative('.', f)).join(', ')}\n` +
          `${savingSentence(r.saving)}\n` +
          (equalComputeSentence(r.saving) ? `${equalComputeSentence(r.saving)}\n` : ''),
      );
    });
}
