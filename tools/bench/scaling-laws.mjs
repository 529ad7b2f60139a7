#!/usr/bin/env node
// Times scaling-law fits with the built @efficientscale/scaling-laws (run `pnpm build` first) and prints
// a Markdown section for BENCHMARKS.md on stdout. Run alone: `node tools/bench/scaling-laws.mjs`.
import { existsSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dist = resolve(root, 'packages/scaling-laws/dist/index.js');
if (!existsSync(dist)) {
  console.error(`scaling-laws bench: expected the built package at ${dist}, found nothing (run pnpm build)`);
  process.exit(1);
}
const sl = await import(pathToFileURL(dist).href);
const data = resolve(root, '../shared/data');

/** Median wall time of `runs` calls, after one warm-up call. */
function time(fn, runs) {
  fn();
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return ms[Math.floor(ms.length / 2)];
}

/** n points from a known Chinchilla law with up to ±1% uniform multiplicative noise (seeded). */
function synthetic(n) {
  const rand = sl.mulberry32(1);
  const law = { A: 400, B: 1500, E: 1.9, alpha: 0.33, beta: 0.35 };
  const sizes = 10;
  return Array.from({ length: n }, (_, i) => {
    const N = 1e7 * 1000 ** ((i % sizes) / (sizes - 1));
    const D = N * (2 + 200 * rand());
    const L = law.E + law.A / N ** law.alpha + law.B / D ** law.beta;
    return { params: N, tokens: D, loss: L * (1 + 0.02 * (rand() - 0.5)), model: `m${i % sizes}` };
  });
}

const rows = [];
const chinchilla = sl.dropHighestLoss(sl.readDataset(resolve(data, 'chinchilla/svg_extracted_data.csv')), 5);
let fit;
rows.push(['Chinchilla (Epoch AI data), Huber, 8 of 4,500 grid starts', chinchilla.length, time(() => (fit = sl.fitLaw(chinchilla)), 5)]);
rows.push(['Chinchilla, 64 best-ranked grid starts', chinchilla.length, time(() => sl.fitLaw(chinchilla, { starts: 64 }), 3)]);
rows.push(['Chinchilla, bootstrap over models, 200 resamples', chinchilla.length, time(() => sl.bootstrapFit(chinchilla, fit, { samples: 200 }), 1)]);
for (const n of [1000, 5000]) {
  const pts = synthetic(n);
  rows.push([`synthetic Chinchilla law, 10 model sizes`, n, time(() => sl.fitLaw(pts), 3)]);
}
const gpt3 = sl.readDataset(resolve(data, 'scaling-dev/gpt3_curves.csv'));
rows.push(['GPT-3 curves, whole-curve fit', gpt3.length, time(() => sl.fitLaw(gpt3), 3)]);
rows.push(["GPT-3 + OPT, Hitchhiker's Guide protocol (2 families)", gpt3.length + 142, time(() => sl.evaluateFamilies([...gpt3, ...sl.readDataset(resolve(data, 'scaling-dev/opt_trajectories.csv'))]), 3)]);

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const lines = [
  '## Scaling-law fits',
  '',
  `Wall time of \`@efficientscale/scaling-laws\` (built, single thread), median of several runs after a warm-up, on ${cpu} (${os.cpus().length} cores), Node ${process.version}. Measured with \`pnpm bench\`.`,
  '',
  '| workload | points | time (ms) |',
  '|---|---:|---:|',
  ...rows.map(([what, n, ms]) => `| ${what} | ${n} | ${ms.toFixed(0)} |`),
  '',
];
process.stdout.write(`${lines.join('\n')}\n`);
