#!/usr/bin/env node
// Scale-Up: a model half as wide and half as deep is trained, grown 2× in width and depth (function-
// preserving `fpi`, or `aki`; new layers copies with zeroed outputs) and trained on, on one warmup-stable-
// decay schedule over the whole run (no re-warmup at the growth), against the final architecture trained
// from scratch at ≤ 20 tokens per parameter. Compute is held to 75% of the scratch run's (the grown runs get
// as many steps as that buys, so they see more tokens): the question is whether they reach the scratch
// run's final eval loss with ≥ 25% fewer FLOPs. Several seeds (initial weights and data order). Prints a
// Markdown section; writes plots and curves to packages/progressive/bench/. Needs a build.
// Run alone: `node tools/bench/scale-up.mjs`; SCALEUP_SEEDS (default 0,1,2), SCALEUP_TPPS (tokens per
// parameter of the final model, one table and plot each, default 10,20), SCALEUP_BUDGET (share of scratch's FLOPs, default 0.75),
// SCALEUP_METHODS (default fpi+copy,aki+copy), SCALEUP_CACHE (see below).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ByteTokenizer, countParams, defaultAdamW, flopsPerToken, llamaConfig, loadDefaultCorpus, selectBackend, splitTrainVal, wsdSchedule } from '../../packages/core/dist/node.js';
import { catchUp, trainProgressive } from '../../packages/progressive/dist/index.js';
import { median, medianRange, pct, plotSeeds, reach, root, seedsFrom } from './lib/seeds.mjs';

const outDir = path.join(root, 'packages/progressive/bench');
const seeds = seedsFrom('SCALEUP_SEEDS');
const budgets = (process.env.SCALEUP_TPPS ?? '10,20').split(',').map(Number);
const budget = Number(process.env.SCALEUP_BUDGET ?? 0.75);
const backend = await selectBackend(process.env.SCALEUP_BACKEND ?? 'native');
const { train, val } = splitTrainVal(new ByteTokenizer().encode(loadDefaultCorpus().text), 0.02);

const target = llamaConfig({ vocab: 256, hidden: 32, ffn: 86, layers: 4, heads: 2, kvHeads: 2, maxPositions: 64 });
const small = llamaConfig({ vocab: 256, hidden: 16, ffn: 43, layers: 2, heads: 1, kvHeads: 1, maxPositions: 64 });
const growTo = { hidden: 32, ffn: 86, heads: 2, kvHeads: 2, layers: 4 };
const batch = 16;
const seq = 64;
const lr = 5e-3;
const growAt = 0.5;
const methods = (process.env.SCALEUP_METHODS ?? 'fpi+copy,aki+copy').split(',').map((m) => m.split('+'));

let seconds = 0;
const tables = [];
for (const tpp of budgets) tables.push(...(await measure(tpp)));
process.stdout.write(
  [
    '## scale-up',
    '',
    `Command: \`pnpm bench scale-up\` (\`node tools/bench/scale-up.mjs\`; seeds ${seeds.join(', ')}; ${budgets.join(' and ')} tokens per parameter). Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores shared with other jobs (load average ${os.loadavg().map((x) => x.toFixed(1)).join(', ')} at the end), backend ${backend.detail}; ${(seconds / 60).toFixed(1)} min of run time in all (runs read from SCALEUP_CACHE count with the time they took then).`,
    '',
    ...tables,
  ].join('\n'),
);

/** Trains every seed's runs at one token budget (or reads them from the cache); returns its tables. */
async function measure(tokensPerParam) {
  const steps = Math.ceil((tokensPerParam * countParams(target)) / (batch * seq));
  const stepFlops = (c) => flopsPerToken(c, seq).trainPerToken * batch * seq;
  // Steps at which the growing run spends `budget` × the scratch run's FLOPs (growAt of them at the small size).
  const grownSteps = Math.round((budget * steps * stepFlops(target)) / (growAt * stepFlops(small) + (1 - growAt) * stepFlops(target)));
  const trainerFor = (seed, n) => ({ batchSize: batch, seqLen: seq, accumulation: 1, schedule: wsdSchedule(lr, n, 0.02, 0.1), adamw: { ...defaultAdamW, weightDecay: 0.01 }, clipNorm: 1, seed, evalBatches: 8 });
  const results = [];
  async function run(name, seed, config, n, stages) {
    const t0 = performance.now();
    const r = await trainProgressive({ config, trainIds: train, valIds: val, trainer: trainerFor(seed, n), totalSteps: n, stages, evalEvery: Math.max(1, Math.round(n / 32)) });
    const out = { name, seed, steps: n, growStep: stages.length ? Math.round(stages[0].at * n) : undefined, evals: r.evals, evalLoss: r.evalLoss, flops: r.flops, tokens: r.tokens, gaps: r.growths.map((g) => g.report.maxLogitGap), seconds: (performance.now() - t0) / 1000 };
    results.push(out);
    console.error(`scale-up bench: seed ${seed} ${name}: ${n} steps, eval loss ${r.evalLoss.toFixed(4)}, ${r.flops.toExponential(3)} FLOPs, ${out.seconds.toFixed(0)} s`);
  }
  const scratchName = 'scratch (hidden 32, 4 layers)';
  const nameOf = (w, d) => `Scale-Up h16 2L → h32 4L at ${pct(growAt, 0)} (${w} + ${d})`;
  // SCALEUP_CACHE: a directory keeping each seed's runs (seed-N-STEPS.json), so seeds can run as separate processes.
  const cache = process.env.SCALEUP_CACHE;
  const cacheFile = (seed) => cache && path.join(cache, `seed-${seed}-${steps}-${grownSteps}.json`);
  for (const seed of seeds) {
    if (cacheFile(seed) && fs.existsSync(cacheFile(seed))) {
      results.push(...JSON.parse(fs.readFileSync(cacheFile(seed), 'utf8')).results.filter((r) => r.name === scratchName || methods.some(([w, d]) => r.name === nameOf(w, d))));
      console.error(`scale-up bench: seed ${seed} read from ${cacheFile(seed)}`);
      continue;
    }
    await run(scratchName, seed, target, steps, []);
    for (const [w, d] of methods) await run(nameOf(w, d), seed, small, grownSteps, [{ at: growAt, grow: { ...growTo, widthMethod: w, depthMethod: d, seed } }]);
    if (cache) {
      fs.mkdirSync(cache, { recursive: true });
      fs.writeFileSync(cacheFile(seed), JSON.stringify({ results: results.filter((r) => r.seed === seed) }));
    }
  }

  const scratchOf = (seed) => results.find((r) => r.seed === seed && r.name === scratchName);
  for (const r of results) {
    const s = scratchOf(r.seed);
    r.gap = r.evalLoss / s.evalLoss - 1;
    r.flopShare = r.flops / s.flops;
    const reached = reach(r.evals.map((e) => ({ x: e.flops, y: e.evalLoss })), s.evalLoss);
    r.saving = reached === undefined ? undefined : 1 - reached / s.flops;
    if (r.growStep !== undefined) {
      const met = catchUp(r.evals.map((e) => ({ x: e.tokens, y: e.evalLoss })), s.evals.map((e) => ({ x: e.tokens, y: e.evalLoss })), r.growStep * batch * seq);
      r.catchUpTokens = met.after;
    }
  }
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, `scale-up-${tokensPerParam}.json`), JSON.stringify({ steps, grownSteps, tokensPerParam, budget, target, small, backend: backend.name, seeds, results }, null, 1) + '\n');
  const scratchMedian = median(results.filter((r) => r.name === scratchName).map((r) => r.evalLoss));
  await plotSeeds(path.join(outDir, `scale-up-${tokensPerParam}.svg`), results, 'flops', `Scale-Up 2× width and depth at ${tokensPerParam} tokens/parameter: eval loss against FLOPs`, `${seeds.length} seeds (one line each); dashed: the median of the scratch runs' final eval loss`, scratchMedian);

  const f3 = (x) => x.toFixed(3);
  const names = [scratchName, ...methods.map(([w, d]) => nameOf(w, d))];
  seconds += results.reduce((n, r) => n + r.seconds, 0);
  return [
    `### ${tokensPerParam} tokens per parameter`,
    '',
    `Final architecture: hidden 32, 4 layers, 2 heads, SwiGLU 86, byte vocabulary (${countParams(target).toLocaleString('en')} parameters); from scratch it trains ${steps} steps of ${batch} × ${seq} tokens (${(steps * batch * seq).toLocaleString('en')} tokens, ${((steps * batch * seq) / countParams(target)).toFixed(1)} per parameter). Scale-Up: hidden 16, 2 layers, 1 head, SwiGLU 43 (${countParams(small).toLocaleString('en')} parameters) for ${pct(growAt, 0)} of its steps, then grown 2× in width (${methods.map(([w]) => w).join(', ')}) and depth (${[...new Set(methods.map(([, d]) => d))].join(', ')}: new layers copy the one before with zeroed outputs) with the Adam moments, and trained on; it gets ${grownSteps} steps, which spend ${pct(budget, 0)} of the scratch run's FLOPs. Every run: one wsd schedule over its own steps (peak LR ${lr}, warmup 2%, linear decay to 0 over the last 10%, no re-warmup at the growth), AdamW, weight decay 0.01, clip 1; each seed sets initial weights and data order; eval loss on 8 fixed held-out batches, 32 evaluations per run.`,
    '',
    '| run | final eval loss | vs scratch | FLOPs (share of scratch) | saving: 1 − FLOPs to reach scratch\'s final loss / scratch\'s | catch-up after growth (tokens) |',
    '|---|---|---|---|---|---|',
    ...names.map((name) => {
      const rs = results.filter((r) => r.name === name);
      const isScratch = name === scratchName;
      return `| ${name} | ${medianRange(rs.map((r) => r.evalLoss), f3)} | ${isScratch ? '—' : medianRange(rs.map((r) => r.gap), (x) => `${x >= 0 ? '+' : ''}${pct(x, 2)}`)} | ${medianRange(rs.map((r) => r.flopShare), (x) => pct(x, 0))} | ${isScratch ? '—' : medianRange(rs.map((r) => r.saving), (x) => pct(x, 1), -Infinity)} | ${isScratch ? '—' : medianRange(rs.map((r) => r.catchUpTokens), (x) => `${Math.round(x / 1000)}k`, Infinity, 'not back')} |`;
    }),
    '',
    'Each cell: the median over the seeds, then (lowest to highest); "not reached" counts as the worst.',
    '',
    '| run | seed | steps | final eval loss | vs scratch | FLOPs share | saving | probe logit gap at growth | wall s |',
    '|---|---|---|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.name} | ${r.seed} | ${r.steps} | ${f3(r.evalLoss)} | ${r.name === scratchName ? '—' : pct(r.gap, 2)} | ${pct(r.flopShare, 0)} | ${r.name === scratchName ? '—' : r.saving === undefined ? 'not reached' : pct(r.saving, 1)} | ${r.gaps.length ? r.gaps.map((g) => g.toExponential(1)).join(', ') : '—'} | ${r.seconds.toFixed(0)} |`),
    '',
    `Plot: [packages/progressive/bench/scale-up-${tokensPerParam}.svg](packages/progressive/bench/scale-up-${tokensPerParam}.svg); curves: packages/progressive/bench/scale-up-${tokensPerParam}.json.`,
    '',
  ];
}
