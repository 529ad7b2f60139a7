#!/usr/bin/env node
// Scale-Up experiment: one target architecture, one token budget, trained five ways on the embedded
// corpus (byte tokenizer): from scratch; progressive 0 → L and 1 → L layers, growing at 80% of the steps;
// Scale-Up (a narrower, shallower model trained for half the steps, grown in width and depth with each
// width method, then trained on); one progressive run also with --depth-lr-scale. Every run uses the same warmup-stable-decay LR schedule, data order and
// eval windows. Prints a Markdown section; writes the eval-loss-against-FLOPs plot and the raw curves to
// packages/progressive/bench/. Needs a build (pnpm build, or pnpm exec nx run progressive:build).
// A second experiment holds compute fixed instead of tokens: a longer scratch run (PROGRESSIVE_LONG_STEPS,
// default 1600), the same model from scratch on half its FLOPs, and progressive and Scale-Up runs whose
// step counts are chosen so that they spend that same half (they see more tokens than the short scratch run).
// Run alone: `node tools/bench/progressive.mjs`; PROGRESSIVE_STEPS (default 400), PROGRESSIVE_LONG_STEPS and
// PROGRESSIVE_BACKEND (default native) change the effort.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ByteTokenizer, defaultAdamW, flopsPerToken, llamaConfig, loadDefaultCorpus, selectBackend, splitTrainVal, countParams } from '../../packages/core/dist/index.js';
import { planProgressive, trainProgressive } from '../../packages/progressive/dist/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const outDir = path.join(root, 'packages/progressive/bench');
const steps = Number(process.env.PROGRESSIVE_STEPS ?? 400);
const backend = await selectBackend(process.env.PROGRESSIVE_BACKEND ?? 'native');
const corpus = loadDefaultCorpus();
const { train, val } = splitTrainVal(new ByteTokenizer().encode(corpus.text), 0.02);

const schedule = { kind: 'wsd', lr: 3e-3, warmup: Math.round(steps / 20), total: steps, decayFraction: 0.2, minRatio: 0.1 };
const trainer = { batchSize: 16, seqLen: 64, accumulation: 1, schedule, adamw: { ...defaultAdamW, weightDecay: 0.01 }, clipNorm: 1, seed: 1, evalBatches: 8 };
const evalEvery = Math.max(1, Math.round(steps / 16));
const shape = { vocab: 256, heads: 4, maxPositions: 128 };
const target = llamaConfig({ ...shape, hidden: 64, ffn: 172, layers: 6 });
const small = llamaConfig({ ...shape, hidden: 32, ffn: 86, heads: 2, layers: 3 });
const L = target.num_hidden_layers;

/** Progressive stages from planProgressive (which checks each growth is in the stable LR phase). */
function progressiveStages(fromLayers, method, depthLrScale = false) {
  const plan = planProgressive(target, { fromLayers, growAt: [0.8], method, depthLrScale }, steps, schedule);
  return { config: plan.config, stages: plan.schedule.map((s) => ({ at: s.step / steps, grow: s.stage, depthLrScale })) };
}
const scaleUp = (widthMethod) => ({
  config: small,
  stages: [{ at: 0.5, grow: { hidden: 64, ffn: 172, heads: 4, kvHeads: 4, layers: L, widthMethod, depthMethod: 'copy', seed: 1 } }],
});
const runs = [
  { name: `scratch (${L} layers, hidden 64)`, config: target, stages: [] },
  { name: `progressive 0 → ${L} at 80% (zero)`, ...progressiveStages(0, 'zero') },
  { name: `progressive 1 → ${L} at 80% (zero)`, ...progressiveStages(1, 'zero') },
  { name: `progressive 1 → ${L} at 80% (copy)`, ...progressiveStages(1, 'copy') },
  { name: `progressive 1 → ${L} at 80% (copy, new blocks' LR × 1/${L})`, ...progressiveStages(1, 'copy', true) },
  ...['fpi', 'aki', 'lossless'].map((m) => ({ name: `Scale-Up 3L h32 → ${L}L h64 at 50% (${m} + copy)`, ...scaleUp(m) })),
];

const started = performance.now();
const results = [];
for (const run of runs) {
  const t0 = performance.now();
  const r = trainProgressive({ config: run.config, trainIds: train, valIds: val, trainer, totalSteps: steps, stages: run.stages, evalEvery });
  const gaps = r.growths.map((g) => g.report.maxLogitGap);
  results.push({ name: run.name, evals: r.evals, evalLoss: r.evalLoss, flops: r.flops, tokens: r.tokens, params: countParams(r.config), gaps, seconds: (performance.now() - t0) / 1000 });
  console.error(`progressive bench: ${run.name}: eval loss ${r.evalLoss.toFixed(4)}, ${r.flops.toExponential(3)} FLOPs, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
const wall = (performance.now() - started) / 1000;

// Equal compute: every run below spends half the FLOPs of a `longSteps` scratch run.
const longSteps = Number(process.env.PROGRESSIVE_LONG_STEPS ?? 1600);
const stepFlops = (c) => flopsPerToken(c, trainer.seqLen).trainPerToken * trainer.batchSize * trainer.seqLen;
const grownConfig = (c, g) => llamaConfig({ ...shape, hidden: g.hidden ?? c.hidden_size, ffn: g.ffn ?? c.intermediate_size, heads: g.heads ?? c.num_attention_heads, layers: g.layers ?? c.num_hidden_layers });
/** The step count at which a run with these growth stages spends `budget` FLOPs (segments at their sizes). */
function stepsForBudget(config, stages, budget) {
  const sizes = [config];
  for (const s of stages) sizes.push(grownConfig(sizes.at(-1), s.grow));
  const ats = [0, ...stages.map((s) => s.at), 1];
  const perStep = sizes.reduce((sum, c, i) => sum + (ats[i + 1] - ats[i]) * stepFlops(c), 0);
  return Math.round(budget / perStep);
}
const budget = 0.5 * longSteps * stepFlops(target);
const copyTo = (layers) => ({ layers, depthMethod: 'copy', seed: 1 });
const equalRuns = [
  { name: `scratch, ${longSteps} steps (the reference)`, config: target, stages: [], steps: longSteps },
  { name: 'scratch, half the FLOPs', config: target, stages: [] },
  { name: `progressive 1 → ${L} at 60% (copy)`, config: llamaConfig({ ...shape, hidden: 64, ffn: 172, layers: 1 }), stages: [{ at: 0.6, grow: copyTo(L) }] },
  { name: `progressive 2 → 3 → ${L} at 30%, 60% (copy)`, config: llamaConfig({ ...shape, hidden: 64, ffn: 172, layers: 2 }), stages: [{ at: 0.3, grow: copyTo(3) }, { at: 0.6, grow: copyTo(L) }] },
  { name: `Scale-Up 3L h32 → ${L}L h64 at 50% (lossless + copy)`, ...scaleUp('lossless') },
];
const equalResults = [];
for (const run of equalRuns) {
  const t0 = performance.now();
  const n = run.steps ?? stepsForBudget(run.config, run.stages, budget);
  const sched = { ...schedule, total: n };
  const every = Math.max(1, Math.round(n / 16));
  const r = trainProgressive({ config: run.config, trainIds: train, valIds: val, trainer: { ...trainer, schedule: sched }, totalSteps: n, stages: run.stages, evalEvery: every });
  equalResults.push({ name: run.name, steps: n, evals: r.evals, evalLoss: r.evalLoss, flops: r.flops, tokens: r.tokens, seconds: (performance.now() - t0) / 1000 });
  console.error(`progressive bench (equal compute): ${run.name}: ${n} steps, eval loss ${r.evalLoss.toFixed(4)}, ${r.flops.toExponential(3)} FLOPs, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
const wallAll = (performance.now() - started) / 1000;

/** FLOPs at which an eval curve first reaches `loss`, interpolated linearly between the evals around it. */
function flopsToReach(evals, loss) {
  for (let i = 0; i < evals.length; i++) {
    if (evals[i].evalLoss > loss) continue;
    if (i === 0) return evals[0].flops;
    const a = evals[i - 1];
    const b = evals[i];
    return a.flops + ((a.evalLoss - loss) / (a.evalLoss - b.evalLoss)) * (b.flops - a.flops);
  }
  return undefined;
}

const scratch = results[0];
const goal = scratch.evalLoss;
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, 'experiment.json'), JSON.stringify({ steps, trainer, target, small, backend: backend.name, results, equalCompute: { longSteps, budget, results: equalResults } }, null, 1) + '\n');

// The plot: eval loss against training FLOPs, one line per run, the scratch run's final loss dashed.
const cliRequire = createRequire(path.join(root, 'packages/cli/package.json'));
const vega = await import(pathToFileURL(cliRequire.resolve('vega')).href);
const { compile } = await import(pathToFileURL(cliRequire.resolve('vega-lite')).href);
/** Eval loss against training FLOPs, one line per run, `goalLoss` dashed; written as SVG to `file`. */
async function plot(runs, goalLoss, file, title, subtitle) {
  const rows = runs.flatMap((r) => r.evals.map((e) => ({ run: r.name, flops: e.flops, loss: e.evalLoss })));
  const xs = rows.map((r) => r.flops);
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle },
    width: 620,
    height: 380,
    background: 'white',
    layer: [
      {
        data: { values: rows },
        mark: { type: 'line', point: { filled: true, size: 20 }, strokeWidth: 1.5 },
        encoding: {
          x: { field: 'flops', type: 'quantitative', title: 'training FLOPs', scale: { type: 'log', nice: false }, axis: { format: '~s' } },
          y: { field: 'loss', type: 'quantitative', title: 'eval loss (nats/token)', scale: { zero: false, domain: [Math.floor(goalLoss * 10 - 1) / 10, Math.ceil(Math.max(...runs.map((r) => r.evals[1]?.evalLoss ?? goalLoss)) * 10) / 10], clamp: true } },
          color: { field: 'run', type: 'nominal', title: null, sort: runs.map((r) => r.name), scale: { scheme: 'tableau10' }, legend: { orient: 'bottom', columns: 2, labelLimit: 400 } },
        },
      },
      {
        data: { values: [{ flops: Math.min(...xs), loss: goalLoss }, { flops: Math.max(...xs), loss: goalLoss }] },
        mark: { type: 'line', strokeDash: [5, 4], color: 'gray' },
        encoding: { x: { field: 'flops', type: 'quantitative' }, y: { field: 'loss', type: 'quantitative' } },
      },
    ],
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  fs.writeFileSync(file, await view.toSVG());
  view.finalize();
}
await plot(results, goal, path.join(outDir, 'experiment.svg'), `Eval loss against training FLOPs (${L}-layer target, ${(scratch.tokens / 1e6).toFixed(2)}M tokens each)`, 'dots: evaluations; dashed: the scratch run\'s final eval loss');
await plot(equalResults, equalResults[0].evalLoss, path.join(outDir, 'equal-compute.svg'), `Equal compute: half of a ${longSteps}-step scratch run (${L}-layer target)`, `dots: evaluations; dashed: the ${longSteps}-step scratch run's final eval loss`);

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const halfBack = flopsToReach(equalResults[0].evals, equalResults[1].evalLoss);
const halfReads = halfBack === undefined ? 'not reached' : `${((100 * halfBack) / equalResults[0].flops).toFixed(0)}%`;
const lines = [
  '## progressive',
  '',
  `Command: \`pnpm bench progressive\` (\`node tools/bench/progressive.mjs\`, ${steps} steps). Machine: ${cpu}, ${os.cpus().length} cores (shared machine), backend ${backend.detail}; ${wall.toFixed(0)} s for the equal-token runs, ${wallAll.toFixed(0)} s in all.`,
  '',
  `Target: Llama-style, ${L} layers, hidden 64, 4 heads, FFN 172, byte vocabulary (${countParams(target).toLocaleString('en')} parameters); every run trains ${steps} steps of ${trainer.batchSize} × ${trainer.seqLen} tokens (${scratch.tokens.toLocaleString('en')} tokens) on the embedded corpus, wsd LR (peak ${schedule.lr}, warmup ${schedule.warmup}, decay over the last 20%), same data order; eval loss on ${trainer.evalBatches} fixed held-out batches every ${evalEvery} steps. FLOPs are training FLOPs counted per step at the size the model had then (3 × forward, attention included).`,
  '',
  `| run | final eval loss | vs scratch | total FLOPs | FLOPs to reach scratch's ${goal.toFixed(3)} | scratch's FLOPs to reach this run's final loss | probe logit gap at growth | wall s |`,
  '|---|---|---|---|---|---|---|---|',
  ...results.map((r) => {
    const reach = flopsToReach(r.evals, goal);
    const reachText = reach === undefined ? 'not reached' : `${reach.toExponential(2)} (${((100 * reach) / scratch.flops).toFixed(0)}%)`;
    const back = flopsToReach(scratch.evals, r.evalLoss);
    const backText = back === undefined ? 'not reached' : `${back.toExponential(2)} (${((100 * back) / scratch.flops).toFixed(0)}%)`;
    const gap = r.gaps.length ? r.gaps.map((g) => g.toExponential(1)).join(', ') : '—';
    return `| ${r.name} | ${r.evalLoss.toFixed(3)} | ${(100 * (r.evalLoss / goal - 1)).toFixed(1)}% | ${r.flops.toExponential(2)} (${((100 * r.flops) / scratch.flops).toFixed(0)}%) | ${reachText} | ${backText} | ${gap} | ${r.seconds.toFixed(0)} |`;
  }),
  '',
  'The last FLOPs column reads the scratch run\'s eval curve: the compute a fixed-size run spent to get as low as this run ended. Mid-run points of the scratch curve are before its LR decay, which favours the shorter runs somewhat.',
  '',
  `Plot: [packages/progressive/bench/experiment.svg](packages/progressive/bench/experiment.svg); curves: packages/progressive/bench/experiment.json.`,
  '',
  `### Equal compute: half of a ${longSteps}-step scratch run`,
  '',
  `The same target, data order and LR shape (wsd over each run's own steps), with compute held fixed instead of tokens: each run below but the first spends half the FLOPs of the ${longSteps}-step scratch run (${budget.toExponential(2)}); the growing runs get as many steps as that buys them, so they see more tokens than the fixed-size run on the same budget.`,
  '',
  `| run | steps | tokens | training FLOPs | final eval loss | vs the ${longSteps}-step scratch run | vs scratch on half the FLOPs | the reference run's FLOPs to reach this loss | wall s |`,
  '|---|---|---|---|---|---|---|---|---|',
  ...equalResults.map((r) => {
    const [ref, half] = equalResults;
    const back = flopsToReach(ref.evals, r.evalLoss);
    const backText = back === undefined ? 'not reached' : `${back.toExponential(2)} (${((100 * back) / ref.flops).toFixed(0)}%)`;
    return `| ${r.name} | ${r.steps} | ${r.tokens.toLocaleString('en')} | ${r.flops.toExponential(2)} (${((100 * r.flops) / ref.flops).toFixed(0)}%) | ${r.evalLoss.toFixed(3)} | ${(100 * (r.evalLoss / ref.evalLoss - 1)).toFixed(1)}% | ${(r.evalLoss - half.evalLoss >= 0 ? '+' : '') + (r.evalLoss - half.evalLoss).toFixed(3)} | ${backText} | ${r.seconds.toFixed(0)} |`;
  }),
  '',
  `Plot: [packages/progressive/bench/equal-compute.svg](packages/progressive/bench/equal-compute.svg). The reference run is evaluated 16 times along its own schedule, and its curve mid-run (before its LR decay) lies above what a run that ends there reaches: the fixed-size run on half the FLOPs itself reads as ${halfReads} there, so that column overstates every saving, and the fair comparison is the column against scratch on half the FLOPs.`,
  '',
];
process.stdout.write(lines.join('\n'));
