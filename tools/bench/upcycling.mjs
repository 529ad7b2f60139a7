#!/usr/bin/env node
// Sparse upcycling at equal tokens, several seeds, at several budgets, through `efficientscale pipeline
// --seeds` (one wsd LR curve over each run's steps, carried through the upcycle): (a) a dense model trained
// for 2 × PHASE steps; (b) the same dense model's first PHASE steps (identical to (a)'s: same seed, same
// curve), upcycled to 8 experts top-2 (AdamW moments copied into the experts) and trained PHASE more steps;
// (c) that MoE from scratch for 2 × PHASE steps, (b)'s baseline stage. One table and one plot per PHASE:
// upcycling's edge over the MoE from scratch shrinks as the budget grows, its edge over dense grows.
// Prints a Markdown section; writes the plots to packages/moe/docs/. Needs a build. Run alone:
// `node tools/bench/upcycling.mjs`; UPCYCLING_SEEDS (default 0,1,2), UPCYCLING_PHASES (default 150,1000),
// UPCYCLING_DIR (run directories, one phase-N folder per phase; default a fresh temp dir; a finished
// directory is reused: complete stages are skipped).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { median, medianRange, plotSeeds, root, seedsFrom } from './lib/seeds.mjs';

const cli = path.join(root, 'packages/cli/dist/bin.js');
if (!fs.existsSync(cli)) {
  console.error(`upcycling: expected the built CLI at ${cli}, found nothing (run pnpm build)`);
  process.exit(1);
}
const seeds = seedsFrom('UPCYCLING_SEEDS');
const phases = (process.env.UPCYCLING_PHASES ?? '150,1000').split(',').map(Number);
const dir = process.env.UPCYCLING_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'es-upcycling-'));
fs.mkdirSync(dir, { recursive: true });
const docs = path.join(root, 'packages/moe/docs');
fs.mkdirSync(docs, { recursive: true });

const settings = { corpus: 'embedded', tokenizer: 'byte', backend: 'native', batch: 8, seq: 64, lr: 0.003, schedule: { kind: 'wsd', warmup: 0.02, decay: 0.1 }, evalsPerStage: 10, evalBatches: 8, checkpointsPerStage: 1 };
const model = { hidden: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 128 };
const started = performance.now();
const commands = [];
const metrics = (file) => fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const evalsOf = (files) => files.flatMap(metrics).filter((m) => typeof m.eval_loss === 'number').map((m) => ({ tokens: m.tokens, flops: m.flops, evalLoss: m.eval_loss }));
const f3 = (x) => x.toFixed(3);
const signed = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(3)}`;
const verdict = (xs, bar) => (median(xs) <= -bar ? `met (median ${signed(median(xs))} ≤ −${bar})` : `missed by ${(median(xs) + bar).toFixed(3)} nats (median ${signed(median(xs))}, target ≤ −${bar})`);

/** Runs (or reads back) one budget's three arms for every seed; returns its table and verdicts. */
async function measure(phase) {
  const phaseDir = path.join(dir, `phase-${phase}`);
  fs.mkdirSync(phaseDir, { recursive: true });
  const plans = {
    dense: { name: 'dense', ...settings, out: path.join(phaseDir, 'dense'), stages: [{ type: 'train', name: 'dense', model, steps: 2 * phase }] },
    upcycled: {
      name: 'upcycled',
      ...settings,
      out: path.join(phaseDir, 'upcycled'),
      stages: [
        { type: 'train', name: 'dense', model, steps: phase },
        { type: 'upcycle', name: 'upcycle', experts: 8, topK: 2, routerInit: 'random', seed: 1 },
        { type: 'train', name: 'moe', steps: phase },
        { type: 'baseline', name: 'moe-scratch' },
      ],
    },
  };
  for (const [name, plan] of Object.entries(plans)) {
    const file = path.join(phaseDir, `${name}.json`);
    fs.writeFileSync(file, JSON.stringify(plan, null, 2));
    const args = ['pipeline', file, '--seeds', seeds.join(','), '--json'];
    commands.push(`efficientscale ${args.join(' ').replaceAll(dir, '$UPCYCLING_DIR')}`);
    console.error(`upcycling: efficientscale ${args.join(' ')}`);
    const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status !== 0) {
      console.error(`upcycling: the CLI exited with ${r.status}`);
      process.exit(1);
    }
  }
  const stageDir = (plan, seed, d) => path.join(plan.out, `seed-${seed}`, d, 'metrics.jsonl');
  const rows = seeds.map((seed) => {
    const a = evalsOf([stageDir(plans.dense, seed, '01-dense')]);
    const b = evalsOf([stageDir(plans.upcycled, seed, '01-dense'), stageDir(plans.upcycled, seed, '03-moe')]);
    const c = evalsOf([stageDir(plans.upcycled, seed, '04-moe-scratch')]);
    return { seed, a, b, c, la: a.at(-1).evalLoss, lb: b.at(-1).evalLoss, lc: c.at(-1).evalLoss, tokens: b.at(-1).tokens };
  });
  const names = { a: `(a) dense, ${2 * phase} steps`, b: `(b) dense ${phase} steps, then upcycled to 8 experts top-2 for ${phase}`, c: `(c) the same MoE from scratch, ${2 * phase} steps` };
  const curves = rows.flatMap((r) => [{ name: names.a, seed: r.seed, evals: r.a }, { name: names.b, seed: r.seed, evals: r.b }, { name: names.c, seed: r.seed, evals: r.c }]);
  const plot = `upcycling-seeds-${phase}.svg`;
  await plotSeeds(path.join(docs, plot), curves, 'tokens', `Sparse upcycling at equal tokens (${2 * phase} steps): eval loss against tokens`, `${seeds.length} seeds (one line each); dashed: the median of (a)'s final eval loss`, median(rows.map((r) => r.la)));
  const ba = rows.map((r) => r.lb - r.la);
  const bc = rows.map((r) => r.lb - r.lc);
  return [
    `### ${2 * phase} steps (${rows[0].tokens.toLocaleString('en')} tokens each; (a) and (b) share their first ${phase} steps exactly)`,
    '',
    '| seed | (a) dense | (b) upcycled | (c) MoE from scratch | (b) − (a) | (b) − (c) |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.seed} | ${f3(r.la)} | ${f3(r.lb)} | ${f3(r.lc)} | ${signed(r.lb - r.la)} | ${signed(r.lb - r.lc)} |`),
    `| median (range) | ${medianRange(rows.map((r) => r.la), f3)} | ${medianRange(rows.map((r) => r.lb), f3)} | ${medianRange(rows.map((r) => r.lc), f3)} | ${medianRange(ba, signed)} | ${medianRange(bc, signed)} |`,
    '',
    `Targets (final eval loss, nats/token, median of the seeds): (b) ≥ 0.03 below (a): ${verdict(ba, 0.03)}; (b) ≥ 0.05 below (c): ${verdict(bc, 0.05)}. Plot: \`packages/moe/docs/${plot}\`.`,
    '',
  ];
}

const tables = [];
for (const phase of phases) tables.push(...(await measure(phase)));
const wall = (performance.now() - started) / 1000;
const lines = [
  '## upcycling',
  '',
  `Command: \`pnpm bench upcycling\` (\`node tools/bench/upcycling.mjs\`; seeds ${seeds.join(', ')}; budgets of ${phases.map((p) => 2 * p).join(' and ')} steps), which runs:`,
  '',
  '```',
  ...commands,
  '```',
  '',
  `Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores shared with other jobs (load average ${os.loadavg().map((x) => x.toFixed(1)).join(', ')} at the end), native backend; ${(wall / 60).toFixed(1)} min in this call (complete stages already in the directory are skipped). Dense: hidden 64, 2 layers, 4 heads (2 KV), SwiGLU 128; MoE: every FFN → 8 experts of 128, top-2, random router, Mixtral's load-balancing coefficient 0.001. Batch 8 × 64 tokens; each run one wsd curve over its own steps (peak LR 0.003, warmup 2%, last 10% decaying to 0; (b)'s curve runs through the upcycle without re-warmup). Each seed sets initial weights and data order. Eval loss on 8 fixed held-out batches. All three arms at equal tokens.`,
  '',
  ...tables,
  "Each seed's pipeline report (stages, plots): `$UPCYCLING_DIR/phase-N/{dense,upcycled}/seed-N/report.md`.",
  '',
];
process.stdout.write(lines.join('\n'));
