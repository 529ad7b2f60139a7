#!/usr/bin/env node
// Runs `efficientscale pipeline plans/quick.json` (or PIPELINE_PLAN) with the built CLI on the native
// backend into a fresh directory and prints a Markdown section for BENCHMARKS.md: each stage's size,
// tokens, FLOPs, wall time and tokens/s, and the FLOP saving against the scratch baseline.
// Run alone: `node tools/bench/pipeline.mjs` (needs `pnpm build`; a few minutes on 2 cores).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const cli = resolve(root, 'packages/cli/dist/bin.js');
const plan = process.env.PIPELINE_PLAN ?? 'plans/quick.json';
const backend = process.env.PIPELINE_BACKEND ?? 'native';
if (!existsSync(cli)) {
  console.error(`pipeline bench: expected the built CLI at ${cli}, found nothing (run pnpm build)`);
  process.exit(1);
}
const out = mkdtempSync(join(os.tmpdir(), 'es-bench-pipeline-'));
const args = [cli, 'pipeline', plan, '--out', out, '--backend', backend, '--json'];
const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
const line = (r.stdout ?? '').trim().split('\n').filter((l) => l.startsWith('{')).pop();
if (r.status !== 0 || !line) {
  console.error(`pipeline bench: the CLI exited with ${r.status}`);
  process.exit(1);
}
const result = JSON.parse(line);
const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
rmSync(out, { recursive: true, force: true });

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const sci = (x) => x.toExponential(2);
const rows = report.stages.map(
  (s) => `| ${s.label} | ${s.stage.type} | ${s.params.toLocaleString('en')} | ${s.active_params.toLocaleString('en')} | ${s.tokens.toLocaleString('en')} | ${s.flops ? sci(s.flops) : '0'} | ${s.wall_s.toFixed(1)} | ${s.tokens_per_s ? Math.round(s.tokens_per_s).toLocaleString('en') : ''} | ${s.eval_loss?.toFixed(3) ?? ''} |`,
);
const s = report.saving;
const saving = !s
  ? 'No baseline stage.'
  : s.saving === undefined
    ? `Not reached: the pipeline's eval loss never got down to the baseline's final ${s.targetLoss.toFixed(3)} nats/token.`
    : `The pipeline reached the baseline's final eval loss ${s.targetLoss.toFixed(3)} nats/token after ${sci(s.pipelineFlops)} FLOPs against the baseline's ${sci(s.baselineFlops)}: ${s.saving >= 0 ? `a saving of ${(100 * s.saving).toFixed(1)}%` : `${(-100 * s.saving).toFixed(1)}% more`}.`;
process.stdout.write(
  [
    `## Pipeline: ${plan}`,
    '',
    `Machine: ${os.cpus().length} × ${cpu}, Node ${process.version}, backend ${result.backend}, ${new Date().toISOString().slice(0, 10)}; shared machine (other jobs running), so wall times and tokens/s are rough; losses and FLOPs do not depend on the machine.`,
    '',
    '| stage | kind | parameters | active params/token | tokens | FLOPs | wall s | tokens/s | eval loss |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    saving,
    '',
    `Command: \`node packages/cli/dist/bin.js pipeline ${plan} --out <fresh dir> --backend ${backend} --json\`.`,
    '',
  ].join('\n'),
);
