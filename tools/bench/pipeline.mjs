#!/usr/bin/env node
// Runs `efficientscale pipeline PLAN --seeds 0,1,2 --lr-sweep 0.5,1,2` with the built CLI on the native
// backend for every plan in plans/ and prints a Markdown section for BENCHMARKS.md: per plan, every seed's
// saving against the best of its swept baselines, their median and range, each seed's stages, and the
// plots. PIPELINE_PLANS (comma-separated; default every plans/*.json), PIPELINE_SEEDS, PIPELINE_SWEEP,
// PIPELINE_BACKEND and PIPELINE_DIR (the parent of one output directory per plan, named after the plan; a
// finished one is reused, complete stages are skipped; default a fresh temp dir) change it. The plots are
// copied to docs/img/ as <plan>-seeds-loss-vs-{flops,tokens}.svg.
// Run alone: `node tools/bench/pipeline.mjs` (needs `pnpm build`).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const cli = resolve(root, 'packages/cli/dist/bin.js');
const plans = process.env.PIPELINE_PLANS?.split(',') ?? readdirSync(join(root, 'plans')).filter((f) => f.endsWith('.json')).sort().map((f) => `plans/${f}`);
const seeds = process.env.PIPELINE_SEEDS ?? '0,1,2';
const sweep = process.env.PIPELINE_SWEEP ?? '0.5,1,2';
const backend = process.env.PIPELINE_BACKEND ?? 'native';
if (!existsSync(cli)) {
  console.error(`pipeline bench: expected the built CLI at ${cli}, found nothing (run pnpm build)`);
  process.exit(1);
}
const parent = process.env.PIPELINE_DIR ?? mkdtempSync(join(os.tmpdir(), 'es-bench-pipeline-'));
const sections = plans.map(measure);
process.stdout.write(sections.join('\n'));

/** Runs one plan's seeds (or reads them back) and returns its Markdown. */
function measure(plan) {
  const name = basename(plan, '.json');
  const out = join(parent, name);
  const args = ['pipeline', plan, '--seeds', seeds, '--lr-sweep', sweep, '--out', out, '--backend', backend, '--json'];
  const started = performance.now();
  console.error(`pipeline bench: efficientscale ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = (r.stdout ?? '').trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (r.status !== 0 || !line) {
    console.error(`pipeline bench: the CLI exited with ${r.status} on ${plan}`);
    process.exit(1);
  }
  const result = JSON.parse(line);
  mkdirSync(join(root, 'docs/img'), { recursive: true });
  for (const axis of ['flops', 'tokens']) copyFileSync(join(out, `loss-vs-${axis}.svg`), join(root, 'docs/img', `${name}-seeds-loss-vs-${axis}.svg`));

  const sci = (x) => (x === null || x === undefined ? '-' : x.toExponential(2));
  const pct = (x) => (x === null || x === undefined ? 'not reached' : `${(100 * x).toFixed(1)}%`);
  const s = result.saving;
  const range = s.min === undefined ? `${s.seeds - s.reached} of ${s.seeds} seeds not reached${s.max === undefined ? '' : `, best ${pct(s.max)}`}` : `range ${pct(s.min)} to ${pct(s.max)}`;
  let stageSeconds = 0;
  const stageRows = result.seeds.flatMap((seed) => {
    const report = JSON.parse(readFileSync(join(seed.out, 'report.json'), 'utf8'));
    stageSeconds += report.stages.reduce((n, st) => n + st.wall_s, 0);
    return report.stages.map((st) => `| ${seed.seed} | ${st.label} | ${st.params.toLocaleString('en')} | ${st.tokens.toLocaleString('en')} | ${st.flops ? sci(st.flops) : '0'} | ${st.wall_s.toFixed(1)} | ${st.eval_loss?.toFixed(3) ?? ''} |`);
  });
  return [
    `## Pipeline: ${plan}`,
    '',
    `Command: \`node packages/cli/dist/bin.js ${args.join(' ').replace(out, '<dir>')}\` (\`pnpm bench pipeline\`). Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'} shared with other jobs (load average ${os.loadavg().map((x) => x.toFixed(1)).join(', ')} at the end), Node ${process.version}, backend ${result.backend}, ${new Date().toISOString().slice(0, 10)}; ${(stageSeconds / 60).toFixed(1)} min of stage wall time in all (${((performance.now() - started) / 60000).toFixed(1)} min in this call: complete stages already in the directory are skipped). Losses and FLOPs do not depend on the machine's load.`,
    '',
    `**Compute saved: median ${pct(s.median)} (${range}) over ${s.seeds} seeds**, each seed against the best of its baselines at ×${sweep.split(',').join(', ×')} of the plan's peak learning rate. A seed's saving: 1 − the FLOPs its pipeline spent until its eval loss first reached the best baseline's final eval loss, over that baseline's FLOPs.`,
    '',
    '| seed | pipeline final eval loss | best baseline: peak LR, final eval loss | every baseline (peak LR: final loss) | pipeline FLOPs to reach it | baseline FLOPs | saving | tokens to get back to the baseline\'s curve after each transform |',
    '| ---: | ---: | --- | --- | ---: | ---: | ---: | --- |',
    ...result.seeds.map((x) => `| ${x.seed} | ${x.pipelineFinalLoss?.toFixed(3) ?? '-'} | ${x.baselineLr}, ${x.targetLoss?.toFixed(3) ?? '-'} | ${x.baselines.map((b) => `${b.lr}: ${b.finalLoss?.toFixed(3) ?? '-'}`).join('; ')} | ${sci(x.pipelineFlops)} | ${sci(x.baselineFlops)} | ${pct(x.saving)} | ${x.catchUp.map((c) => `${c.stage}: ${c.tokens === null ? 'not back' : `${Math.round(c.tokens / 1000)}k`}`).join('; ')} |`),
    '',
    'Every stage of every seed (wall times on the shared machine are rough):',
    '',
    '| seed | stage | parameters | tokens | FLOPs | wall s | eval loss |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: |',
    ...stageRows,
    '',
    `Plots (every seed's pipeline, solid, and its best baseline, dashed): [loss against FLOPs](docs/img/${name}-seeds-loss-vs-flops.svg), [against tokens](docs/img/${name}-seeds-loss-vs-tokens.svg).`,
    '',
  ].join('\n');
}
