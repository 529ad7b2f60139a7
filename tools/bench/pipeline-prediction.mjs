#!/usr/bin/env node
// Scores the pipeline's prediction of its own outcome and prints a Markdown section for BENCHMARKS.md:
// `efficientscale pipeline PLAN --seeds 0,1,2 --law OUT/pilots/law.json` (the plan's pilots trained and the
// annealing law fitted on them first when the law file is missing), then each seed's baseline and pipeline
// final eval loss as predicted before training beside the measurement, every stage's prediction, and the
// plot. PREDICTION_PLAN (default plans/quick.json), PREDICTION_SEEDS (0,1,2) and PREDICTION_DIR (default
// runs/quick-pred; complete stages and pilots are reused) change it. seed 0's prediction.svg is copied to
// docs/img/<plan>-prediction.svg. Run alone: `node tools/bench/pipeline-prediction.mjs` (needs `pnpm build`;
// about 20 minutes a seed on a busy 2-core machine).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const cli = resolve(root, 'packages/cli/dist/bin.js');
const plan = process.env.PREDICTION_PLAN ?? 'plans/quick.json';
const seeds = process.env.PREDICTION_SEEDS ?? '0,1,2';
const out = resolve(root, process.env.PREDICTION_DIR ?? 'runs/quick-pred');
if (!existsSync(cli)) {
  console.error(`pipeline-prediction bench: expected the built CLI at ${cli}, found nothing (run pnpm build)`);
  process.exit(1);
}
const law = join(out, 'pilots', 'law.json');
const args = ['pipeline', plan, '--seeds', seeds, '--out', out, '--law', law, '--json'];
const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
const line = (r.stdout ?? '').trim().split('\n').filter((l) => l.startsWith('{')).pop();
if (r.status !== 0 || !line) {
  console.error(`pipeline-prediction bench: the CLI exited with ${r.status}`);
  process.exit(1);
}
const result = JSON.parse(line);
const name = basename(plan, '.json');
mkdirSync(join(root, 'docs/img'), { recursive: true });
const first = result.seeds[0];
copyFileSync(join(resolve(root, first.out), 'prediction.svg'), join(root, 'docs/img', `${name}-prediction.svg`));

const pct = (e) => (e === null || e === undefined ? '-' : `${e >= 0 ? '+' : ''}${(100 * e).toFixed(2)}%`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const LIMIT = 0.03;
const verdict = (errs) => {
  const m = median(errs.map(Math.abs));
  const worst = Math.max(...errs.map(Math.abs));
  return `median |error| ${(100 * m).toFixed(2)}%, worst ${(100 * worst).toFixed(2)}%: ${m <= LIMIT ? '**met**' : `**missed** by ${(100 * (m - LIMIT)).toFixed(2)} points`} on the median (target ≤ 3%)${worst > LIMIT && m <= LIMIT ? `, not on every seed` : ''}`;
};
const finals = (key) => result.seeds.map((s) => s.prediction?.[key]?.error).filter((e) => typeof e === 'number');
const seedRows = result.seeds.map((s) => {
  const b = s.prediction?.baseline;
  const p = s.prediction?.pipeline;
  const cell = (x) => (x ? `${x.predicted.toFixed(3)} / ${x.measured?.toFixed(3) ?? '-'} (${pct(x.error)})` : '-');
  return `| ${s.seed} | ${cell(b)} | ${cell(p)} |`;
});
const stageRows = result.seeds.flatMap((s) => {
  const report = JSON.parse(readFileSync(join(resolve(root, s.out), 'report.json'), 'utf8'));
  return report.prediction.rows.map(
    (row) =>
      `| ${s.seed} | ${row.label} | ${row.predicted.toFixed(3)} | ${row.measured?.toFixed(3) ?? '-'} | ${pct(row.error)} | ${row.fromMeasuredStart === null ? '' : `${row.fromMeasuredStart.toFixed(3)} (${pct(row.fromMeasuredStartError)})`} |`,
  );
});
const pilotLaw = JSON.parse(readFileSync(law, 'utf8'));
// How much the fitted floor still depends on size between the smallest and the largest model predicted.
const sizes = result.seeds.length ? JSON.parse(readFileSync(join(resolve(root, first.out), 'report.json'), 'utf8')).stages.map((s) => s.params).filter((n) => n > 0) : [];
const { AN, alphaN } = pilotLaw.params;
const floorSpan = sizes.length && AN !== undefined ? AN * Math.min(...sizes) ** -alphaN - AN * Math.max(...sizes) ** -alphaN : undefined;
process.stdout.write(
  [
    '## The pipeline predicts its own outcome',
    '',
    `\`efficientscale pipeline ${plan} --seeds ${seeds} --out ${basename(out)} --law ${basename(out)}/pilots/law.json\` (native backend; ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}). The law: ${pilotLaw.law} (${pilotLaw.formula ?? 'joint over sizes'}), fitted on the plan's ${(JSON.parse(readFileSync(resolve(root, plan), 'utf8')).pilots ?? []).length} pilots (small dense runs, \`pipeline ${plan} --pilots\`), before any stage trained; one prediction for every seed. A stage after a transform starts where its size's curve has the loss the stage before it ended at ("effective tokens"); the MoE stage and the baseline are predicted as dense models of the MoE's total parameters. Errors are (predicted − measured)/measured final eval loss; losses are deterministic.`,
    '',
    `Baseline: ${verdict(finals('baseline'))}. Pipeline: ${verdict(finals('pipeline'))}.${floorSpan !== undefined ? ` The pilots' floor E + AN/N^alphaN falls by ${floorSpan.toExponential(1)} nats from ${Math.min(...sizes).toLocaleString('en')} to ${Math.max(...sizes).toLocaleString('en')} parameters (AN ${AN.toExponential(1)}, alphaN ${alphaN.toFixed(2)})${floorSpan < 0.01 ? ': the pilots\' curves do not separate by size, so the law predicts every size alike' : ''}.` : ''}`,
    '',
    '| seed | baseline: predicted / measured (error) | pipeline: predicted / measured (error) |',
    '| ---: | ---: | ---: |',
    ...seedRows,
    '',
    'Every stage ("from the measured start": the stage predicted from the loss the stage before it really ended at, which isolates the model of the transform):',
    '',
    '| seed | stage | predicted | measured | error | from the measured start (error) |',
    '| ---: | --- | ---: | ---: | ---: | ---: |',
    ...stageRows,
    '',
    `Plot (seed ${first.seed}): [docs/img/${name}-prediction.svg](docs/img/${name}-prediction.svg).`,
    '',
  ].join('\n'),
);
