#!/usr/bin/env node
// Progressive depth training (Bu 2025, "Deep Progressive Training", arXiv 2511.04981) in the regime the
// paper reports: one 6-layer byte-level target trained from scratch to 50 tokens per parameter, against
// progressive runs that start at 1 layer (and at 0) and grow once at 80% of the steps, all on the recipe's
// warmup-stable-decay schedule (2% warmup, the last 10% decaying to 0, no re-warmup at the growth), for
// several seeds (each seed: initial weights and data order). Also the recipe's pilot: the catch-up time
// after growth measured on a short run, and a progressive run grown where the pilot says. Prints a
// Markdown section; writes the plots and the raw curves to packages/progressive/bench/. Needs a build.
// Run alone: `node tools/bench/progressive.mjs`; PROGRESSIVE_SEEDS (default 0,1,2), PROGRESSIVE_TPP
// (tokens per parameter, default 50), PROGRESSIVE_HIDDENS (the target's widths, one table and plot each,
// default 16,32) and PROGRESSIVE_BACKEND (default native) change it. PROGRESSIVE_CACHE names a directory keeping each seed's
// runs (seed-N-STEPS.json): a seed found there is not run again, so seeds can run as separate processes
// side by side and one last run with every seed writes the section.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ByteTokenizer, countParams, defaultAdamW, llamaConfig, loadDefaultCorpus, selectBackend, splitTrainVal, wsdSchedule } from '../../packages/core/dist/node.js';
import { catchUp, planProgressive, runPilot, trainProgressive } from '../../packages/progressive/dist/index.js';
import { median, medianRange, pct, plotSeeds, reach, root, seedsFrom } from './lib/seeds.mjs';

const outDir = path.join(root, 'packages/progressive/bench');
const seeds = seedsFrom('PROGRESSIVE_SEEDS');
const tokensPerParam = Number(process.env.PROGRESSIVE_TPP ?? 50);
const backend = await selectBackend(process.env.PROGRESSIVE_BACKEND ?? 'native');
const corpus = loadDefaultCorpus();
const { train, val } = splitTrainVal(new ByteTokenizer().encode(corpus.text), 0.02);

const L = 6;
const widths = (process.env.PROGRESSIVE_HIDDENS ?? '16,32').split(',').map(Number);
let runSeconds = 0;
const tables = [];
for (const hidden of widths) tables.push(...(await measure(hidden)));
process.stdout.write(
  [
    '## progressive',
    '',
    `Command: \`pnpm bench progressive\` (\`node tools/bench/progressive.mjs\`; seeds ${seeds.join(', ')}; targets of hidden ${widths.join(' and ')}). Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores shared with other jobs (load average ${os.loadavg().map((x) => x.toFixed(1)).join(', ')} at the end), backend ${backend.detail}; ${(runSeconds / 60).toFixed(1)} min of run time in all (seeds may run side by side as separate processes; runs read from PROGRESSIVE_CACHE count with the time they took then). Losses and FLOPs do not depend on the machine's load.`,
    '',
    ...tables,
  ].join('\n'),
);

/** Trains every seed's runs for a target of this width (or reads them from the cache); returns its tables. */
async function measure(hidden) {
  // Heads keep 8 dimensions each and the SwiGLU width is 2.75× the hidden size.
  const heads = Math.max(1, Math.round(hidden / 8));
  const ffn = Math.round(hidden * 2.75);
  const target = llamaConfig({ vocab: 256, hidden, ffn, layers: L, heads, maxPositions: 64 });
  const params = countParams(target);
  const batch = 16;
  const seq = 64;
  const steps = Math.ceil((tokensPerParam * params) / (batch * seq));
  const lr = 5e-3;
  const schedule = wsdSchedule(lr, steps, 0.02, 0.1);
  const trainerFor = (seed) => ({ batchSize: batch, seqLen: seq, accumulation: 1, schedule, adamw: { ...defaultAdamW, weightDecay: 0.01 }, clipNorm: 1, seed, evalBatches: 8 });
  const evalEvery = Math.max(1, Math.round(steps / 32));

  /** One growth planned by progressive (which checks it is in the stable phase), as trainProgressive stages. */
  function grown(seed, options) {
    const plan = planProgressive(target, { ...options, seed }, steps, schedule);
    return { config: plan.config, stages: plan.schedule.map((s) => ({ at: s.step / steps, grow: s.stage })), growStep: plan.schedule[0].step };
  }

  const results = [];
  const pilots = [];
  async function run(name, seed, config, stages, growStep) {
    const t0 = performance.now();
    const r = await trainProgressive({ config, trainIds: train, valIds: val, trainer: trainerFor(seed), totalSteps: steps, stages, evalEvery });
    const out = { name, seed, growStep, evals: r.evals, evalLoss: r.evalLoss, flops: r.flops, tokens: r.tokens, gaps: r.growths.map((g) => g.report.maxLogitGap), seconds: (performance.now() - t0) / 1000 };
    results.push(out);
    console.error(`progressive bench: seed ${seed} ${name}: eval loss ${r.evalLoss.toFixed(4)}, ${r.flops.toExponential(3)} FLOPs, ${out.seconds.toFixed(0)} s`);
    return out;
  }

  const cache = process.env.PROGRESSIVE_CACHE;
  /** Bumped when the pilot's criterion changes (2: the catch-up must hold for two smoothing windows). */
  const PILOT_VERSION = 2;
  const cacheFile = (seed) => cache && path.join(cache, `seed-${seed}-${steps}.json`);

  const names = { scratch: `scratch (${L} layers)`, one: `progressive 1 → ${L} at 80% (copy)`, zero: `progressive 0 → ${L} at 80% (random)`, pilot: `progressive 1 → ${L} (copy), grown where the pilot says` };
  for (const seed of seeds) {
    const cached = cacheFile(seed) && fs.existsSync(cacheFile(seed)) ? JSON.parse(fs.readFileSync(cacheFile(seed), 'utf8')) : undefined;
    if (cached) {
      // The pilot's runs count only if made with the pilot as it is now.
      const samePilot = cached.pilotVersion === PILOT_VERSION;
      results.push(...cached.results.filter((r) => samePilot || r.name !== names.pilot));
      if (samePilot) pilots.push(...cached.pilots);
      else await runPilotFor(seed);
      console.error(`progressive bench: seed ${seed} read from ${cacheFile(seed)}${samePilot ? '' : ' (pilot run again)'}`);
    } else await runSeed(seed);
    if (cache) {
      fs.mkdirSync(cache, { recursive: true });
      fs.writeFileSync(cacheFile(seed), JSON.stringify({ pilotVersion: PILOT_VERSION, results: results.filter((r) => r.seed === seed), pilots: pilots.filter((p) => p.seed === seed) }));
    }
  }
  async function runSeed(seed) {
    await run(names.scratch, seed, target, []);
    const one = grown(seed, { fromLayers: 1 });
    await run(names.one, seed, one.config, one.stages, one.growStep);
    const zero = grown(seed, { fromLayers: 0 });
    await run(names.zero, seed, zero.config, zero.stages, zero.growStep);
    await runPilotFor(seed);
  }
  async function runPilotFor(seed) {
    const t0 = performance.now();
    const pilot = await runPilot({ target, progressive: { fromLayers: 1, seed }, trainIds: train, valIds: val, trainer: trainerFor(seed), totalSteps: steps });
    pilots.push({ seed, steps: pilot.steps, grewAt: pilot.grewAt, catchUpSteps: pilot.catchUpSteps, growStep: pilot.growStep, flops: pilot.flops, note: pilot.note, seconds: (performance.now() - t0) / 1000 });
    console.error(`progressive bench: seed ${seed} pilot: ${pilot.note}`);
    if (pilot.growAt !== undefined) {
      const placed = grown(seed, { fromLayers: 1, growAt: [pilot.growAt] });
      await run(names.pilot, seed, placed.config, placed.stages, placed.growStep);
    }
  }
  // Run time of every run and pilot (seeds may have run as separate processes side by side).
  runSeconds += results.reduce((n, r) => n + r.seconds, 0) + pilots.reduce((n, p) => n + p.seconds, 0);

  // Per run and seed: against the same seed's scratch run.
  const scratchOf = (seed) => results.find((r) => r.seed === seed && r.name === names.scratch);
  const tokensPerStep = batch * seq;
  for (const r of results) {
    const s = scratchOf(r.seed);
    r.gap = r.evalLoss / s.evalLoss - 1;
    r.flopShare = r.flops / s.flops;
    const reached = reach(r.evals.map((e) => ({ x: e.flops, y: e.evalLoss })), s.evalLoss);
    r.flopsToReach = reached === undefined ? undefined : reached / s.flops;
    if (r.growStep !== undefined) {
      const met = catchUp(r.evals.map((e) => ({ x: e.tokens, y: e.evalLoss })), s.evals.map((e) => ({ x: e.tokens, y: e.evalLoss })), r.growStep * tokensPerStep);
      r.catchUpTokens = met.after;
      r.catchUpFinalGap = met.finalGap;
    }
  }
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, `experiment-h${hidden}.json`), JSON.stringify({ steps, tokensPerParam, params, target, schedule, backend: backend.name, seeds, results, pilots }, null, 1) + '\n');
  const runsShown = Object.values(names).filter((n) => results.some((r) => r.name === n));
  const subtitle = `${seeds.length} seeds (one line each); dashed: the median of the scratch runs' final eval loss`;
  const scratchMedian = median(results.filter((r) => r.name === names.scratch).map((r) => r.evalLoss));
  await plotSeeds(path.join(outDir, `experiment-h${hidden}.svg`), results, 'flops', `Progressive training, hidden ${hidden}, at ${tokensPerParam} tokens/parameter: eval loss against FLOPs`, subtitle, scratchMedian);
  await plotSeeds(path.join(outDir, `experiment-h${hidden}-tokens.svg`), results, 'tokens', `Progressive training, hidden ${hidden}, at ${tokensPerParam} tokens/parameter: eval loss against tokens`, `${subtitle}; the growth is at 80% of the tokens`, scratchMedian);

  const f3 = (x) => x.toFixed(3);
  const sci = (x) => x.toExponential(2);
  const k = (x) => (x === undefined ? 'not back' : `${Math.round(x / 1000)}k`);
  const rowsOf = (name) => results.filter((r) => r.name === name);
  return [
    `### Hidden ${hidden} (${params.toLocaleString('en')} parameters)`,
    '',
    `Target: Llama-style, ${L} layers, hidden ${hidden}, ${heads} heads, SwiGLU ${ffn}, byte vocabulary (${params.toLocaleString('en')} parameters); every run trains ${steps} steps of ${batch} × ${seq} tokens (${(steps * tokensPerStep).toLocaleString('en')} tokens, ${((steps * tokensPerStep) / params).toFixed(1)} per parameter of the target) on the embedded corpus with the recipe's schedule: wsd, peak LR ${lr}, warmup ${schedule.warmup} steps (2%), linear decay to 0 over the last ${Math.round(0.1 * steps)} (10%), no re-warmup at the growth; AdamW, weight decay 0.01, clip 1. Each seed sets the initial weights and the data order; each run is compared with the scratch run of its own seed. Eval loss on 8 fixed held-out batches every ${evalEvery} steps. FLOPs: training FLOPs counted per step at the size the model had then. Catch-up: the tokens after the growth until the run's eval curve is at or below the scratch run's at equal tokens (read at the evaluations).`,
    '',
    '| run | final eval loss | vs scratch | FLOPs (share of scratch) | FLOPs to reach scratch\'s final loss | catch-up after growth (tokens) |',
    '|---|---|---|---|---|---|',
    ...runsShown.map((name) => {
      const rs = rowsOf(name);
      const grows = rs[0].growStep !== undefined;
      return `| ${name} | ${medianRange(rs.map((r) => r.evalLoss), f3)} | ${name === names.scratch ? '—' : medianRange(rs.map((r) => r.gap), (x) => `${x >= 0 ? '+' : ''}${pct(x, 2)}`)} | ${medianRange(rs.map((r) => r.flopShare), (x) => pct(x, 0))} | ${medianRange(rs.map((r) => r.flopsToReach), (x) => pct(x, 0))} | ${grows ? medianRange(rs.map((r) => r.catchUpTokens), k, Infinity, 'not back') : '—'} |`;
    }),
    '',
    'Each cell: the median over the seeds, then (lowest to highest). "not reached": the run\'s eval loss never got down to its scratch run\'s final loss; "not back": it stayed above the scratch curve after the growth.',
    '',
    'Every seed:',
    '',
    `| run | seed | growth at step | final eval loss | vs scratch | FLOPs share | catch-up tokens | still above scratch at the end by | probe logit gap at growth | wall s |`,
    '|---|---|---|---|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.name} | ${r.seed} | ${r.growStep ?? '—'} | ${f3(r.evalLoss)} | ${r.name === names.scratch ? '—' : pct(r.gap, 2)} | ${pct(r.flopShare, 0)} | ${r.growStep === undefined ? '—' : k(r.catchUpTokens)} | ${r.catchUpFinalGap === undefined || r.catchUpFinalGap <= 0 ? '—' : f3(r.catchUpFinalGap)} | ${r.gaps.length ? r.gaps.map((g) => g.toExponential(1)).join(', ') : '—'} | ${r.seconds.toFixed(0)} |`),
    '',
    `The pilot (\`runPilot\`, \`train --progressive --pilot\`): ${pilots[0]?.steps} steps of the target from scratch and of the 1-layer start grown (copy) right after warmup, at the peak LR, same data; catch-up = the first step from which the grown run's training loss (trailing mean) stays at or below the fixed-size run's for two smoothing windows; the growth then goes to the decay's start minus the catch-up.`,
    '',
    '| seed | catch-up in the pilot (steps) | growth placed at step | pilot FLOPs (share of scratch) | note |',
    '|---|---|---|---|---|',
    ...pilots.map((p) => `| ${p.seed} | ${p.catchUpSteps ?? 'not caught up'} | ${p.growStep ?? '—'} | ${sci(p.flops)} (${pct(p.flops / scratchOf(p.seed).flops, 0)}) | ${p.note} |`),
    '',
    `Plots: [packages/progressive/bench/experiment-h${hidden}.svg](packages/progressive/bench/experiment-h${hidden}.svg) (against FLOPs), [packages/progressive/bench/experiment-h${hidden}-tokens.svg](packages/progressive/bench/experiment-h${hidden}-tokens.svg) (against tokens); curves: packages/progressive/bench/experiment-h${hidden}.json.`,
    '',
  ];
}
