#!/usr/bin/env node
// Scores the whole-curve laws (annealing, multi-power) on the project's own runs and prints a Markdown
// section for BENCHMARKS.md: the final eval loss of each run predicted from its first 30% of steps
// (Chinchilla-form fits to the same points beside), a WSD run predicted from a constant and a cosine run
// of its size, and the largest size predicted from the two smaller. The runs are tools/curve-runs.sh's
// (trained first when missing: about an hour on a busy 2-core machine); plots go to docs/img/curves-*.svg.
// Run alone: `node tools/bench/curve-laws.mjs` (needs `pnpm build`). Losses are deterministic.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const runsDir = process.env.CURVE_RUNS ?? join(root, 'runs/curves');
const cli = join(root, 'packages/cli/dist/bin.js');
const dist = (p) => pathToFileURL(join(root, 'packages/scaling-laws/dist', p)).href;
if (!existsSync(cli)) {
  console.error(`curve-laws bench: expected the built CLI at ${cli}, found nothing (run pnpm build)`);
  process.exit(1);
}
const SIZES = ['h32', 'h64', 'h96'];
const SCHEDULES = ['constant', 'cosine', 'wsd'];
const names = SIZES.flatMap((h) => SCHEDULES.map((s) => `${h}-${s}`));
if (names.some((n) => !existsSync(join(runsDir, `${n}.json`)))) {
  console.error('curve-laws bench: training the missing runs (tools/curve-runs.sh)');
  const r = spawnSync('bash', [join(root, 'tools/curve-runs.sh'), runsDir], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) process.exit(1);
}
const sl = await import(dist('index.js'));
const { readRunCurve, readDataset } = await import(dist('node.js'));

const runs = Object.fromEntries(names.map((n) => [n, readRunCurve(join(runsDir, n))]));
const final = (r) => r.losses[r.losses.length - 1];
const predictFinal = (fit, r) => sl.predictCurve({ law: fit.law, joint: fit.joint, theta: fit.theta }, r.lr, { steps: [r.lr.length], params: r.params }).loss[0];
const err = (pred, r) => pred / final(r) - 1;
const pct = (e) => `${e >= 0 ? '+' : ''}${(100 * e).toFixed(2)}%`;
const are = (errs) => errs.reduce((s, e) => s + Math.abs(e), 0) / errs.length;
const FRACTION = 0.3;
const EARLY_CUT = 0.1;
const early = (r) => sl.truncateCurve(r, Math.round(FRACTION * r.lr.length));
const started = performance.now();

// 1. Early prediction: one joint fit on the first 30% of all nine runs; each run's final loss predicted.
const earlyRows = [];
const earlyErr = {};
for (const law of ['annealing', 'multipower']) {
  const fit = sl.fitCurveLaw(names.map((n) => early(runs[n])), { law, earlyFraction: EARLY_CUT });
  earlyErr[law] = names.map((n) => err(predictFinal(fit, runs[n]), runs[n]));
}
// Per run, as `predict --from-run RUN --until-step N --law prior.json` does: L0, A, alpha fitted on the run's
// first 30%, the annealing shape (C, lambda; multi-power B, C, beta, gamma) held from a law fitted on the
// constant + cosine runs of another size (h32's for h64 and h96, h64's for h32): the first 30% of a WSD run
// has no decay at all and a cosine's only a little, so the shape must come from runs that did decay.
const PRIOR_OF = { h32: 'h64', h64: 'h32', h96: 'h32' };
const heldErr = {};
for (const law of ['annealing', 'multipower']) {
  const shape = {};
  for (const h of ['h32', 'h64']) {
    const fit = sl.fitCurveLaw([runs[`${h}-constant`], runs[`${h}-cosine`]], { law });
    shape[h] = Object.fromEntries(sl.getCurveLaw(law).annealingParams.map((n) => [n, fit.params[n]]));
  }
  heldErr[law] = names.map((n) => {
    const r = runs[n];
    const fit = sl.fitCurveLaw([{ ...early(r), lr: r.lr }], { law, earlyFraction: EARLY_CUT, fixed: shape[PRIOR_OF[n.split('-')[0]]] });
    return err(predictFinal(fit, r), r);
  });
}
// Chinchilla L(N, D) on the same evaluations (tokens within the first 30%, past the first 10%): it cannot tell schedules apart.
const tokensPerStep = (r) => r.tokens[r.tokens.length - 1] / r.tokens.length;
const points = names.flatMap((n) => {
  const r = runs[n];
  const tps = tokensPerStep(r);
  return readDataset(join(runsDir, n), { lossColumn: 'eval_loss' }).filter((p) => p.tokens > EARLY_CUT * tps * r.lr.length && p.tokens <= FRACTION * tps * r.lr.length);
});
const chin = sl.fitLaw(points);
earlyErr.chinchilla = names.map((n) => err(sl.predictLoss({ law: 'chinchilla', theta: chin.theta }, runs[n].params, tokensPerStep(runs[n]) * runs[n].lr.length).value, runs[n]));
names.forEach((n, i) => earlyRows.push(`| ${n} | ${final(runs[n]).toFixed(4)} | ${pct(heldErr.annealing[i])} | ${pct(heldErr.multipower[i])} | ${pct(earlyErr.annealing[i])} | ${pct(earlyErr.multipower[i])} | ${pct(earlyErr.chinchilla[i])} |`));

// 2. Cross-schedule: constant + cosine of a size fitted, its WSD run predicted.
const crossRows = [];
const crossErr = { annealing: [], multipower: [] };
for (const h of SIZES) {
  const row = [`| ${h} (${runs[`${h}-wsd`].params.toLocaleString('en')} params) | ${final(runs[`${h}-wsd`]).toFixed(4)}`];
  for (const law of ['annealing', 'multipower']) {
    const fit = sl.fitCurveLaw([runs[`${h}-constant`], runs[`${h}-cosine`]], { law });
    const e = err(predictFinal(fit, runs[`${h}-wsd`]), runs[`${h}-wsd`]);
    crossErr[law].push(e);
    row.push(pct(e));
  }
  crossRows.push(`${row.join(' | ')} |`);
}

// 3. Cross-size: constant + cosine of the two smaller sizes fitted jointly, the largest size's runs predicted.
// Two sizes cannot fix the floor's three parameters E, AN, alphaN: alphaN is held at Chinchilla's published
// N-exponent (0.34, Hoffmann et al.; 0.3478 in Epoch AI's replication), as `--fix alphaN=0.34` does.
const small = ['h32', 'h64'].flatMap((h) => [runs[`${h}-constant`], runs[`${h}-cosine`]]);
const sizeRows = [];
const sizeErr = {};
for (const [law, fixed] of [['annealing', { alphaN: 0.34 }], ['multipower', { alphaN: 0.34 }], ['annealing', { alphaN: 0.2 }], ['annealing', { alphaN: 0.5 }]]) {
  const fit = sl.fitCurveLaw(small, { law, fixed });
  const errs = SCHEDULES.map((s) => err(predictFinal(fit, runs[`h96-${s}`]), runs[`h96-${s}`]));
  sizeErr[`${law} ${fixed.alphaN}`] = errs;
  sizeRows.push(`| ${law}, alphaN held at ${fixed.alphaN} | ${errs.map(pct).join(' | ')} |`);
}
const seconds = (performance.now() - started) / 1000;

// The plots: the commands the README shows, run by the CLI.
const img = join(root, 'docs/img');
const es = (...args) => {
  const r = spawnSync(process.execPath, [cli, ...args, '--force'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`efficientscale ${args.join(' ')}: ${r.stderr}`);
};
const tmp = os.tmpdir();
es('fit', join(runsDir, 'h96-constant'), join(runsDir, 'h96-cosine'), '--law', 'annealing', '--out', join(tmp, 'curves-h96.json'), '--plot', join(img, 'curves-fit.svg'));
es('predict', '--law', join(tmp, 'curves-h96.json'), '--schedule', join(runsDir, 'h96-wsd'), '--plot', join(img, 'curves-cross-schedule.svg'));
es('fit', join(runsDir, 'h32-constant'), join(runsDir, 'h32-cosine'), '--law', 'annealing', '--out', join(tmp, 'curves-h32.json'));
es('predict', '--from-run', join(runsDir, 'h96-cosine'), '--until-step', String(Math.round(FRACTION * runs['h96-cosine'].lr.length)), '--law', join(tmp, 'curves-h32.json'), '--bootstrap', '50', '--plot', join(img, 'curves-early.svg'));

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const target = (x, limit) => (x <= limit ? `**met** (≤ ${(limit * 100).toFixed(0)}%)` : `**missed** (target ≤ ${(limit * 100).toFixed(0)}%, by ${((x - limit) * 100).toFixed(2)} points)`);
const worst = (errs) => Math.max(...errs.map(Math.abs));
process.stdout.write(
  [
    '## Whole-curve laws on our own runs',
    '',
    `Runs: \`bash tools/curve-runs.sh\` (hidden 32, 64, 96 × constant, cosine, WSD; 1500/2000/2000 steps of 1024 tokens; the held-out loss 80 times a run). Fits with the built package (Huber δ = 1e-3 on log L, L-BFGS from 8 grid starts, each run's warmup and first 10% of steps dropped); ${seconds.toFixed(0)} s of fitting on ${os.cpus().length} × ${cpu}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}. Errors are (predicted − measured)/measured final eval loss; losses are deterministic.`,
    '',
    `### Final loss from the first 30% of steps`,
    '',
    `Each run's last eval loss predicted from its first 30% of steps. "Shape held" (\`predict --from-run RUN --until-step N --law prior.json\`): L0, A and alpha fitted on the run's first 30%, the annealing shape (C, lambda; multi-power B, C, beta, gamma) held from a fit on the constant and cosine runs of another size (hidden 32's for 64 and 96, hidden 64's for 32). ARE: annealing ${pct(are(heldErr.annealing)).slice(1)}, multi-power ${pct(are(heldErr.multipower)).slice(1)}: annealing law ${target(are(heldErr.annealing), 0.02)}. "Free": one fit on the first 30% of all nine runs, jointly over sizes (L0(N) = E + AN/N^alphaN), nothing held: the first 30% of a WSD run has no decay and a cosine's little, so the annealing terms are guessed (cosine runs off by about 20%). ARE: annealing ${pct(are(earlyErr.annealing)).slice(1)}, multi-power ${pct(are(earlyErr.multipower)).slice(1)}. Chinchilla's L(N, D) on the same evaluations (one point per evaluation, blind to the schedule): ARE ${pct(are(earlyErr.chinchilla)).slice(1)}.`,
    '',
    '| run | measured | annealing, shape held | multi-power, shape held | annealing, free | multi-power, free | Chinchilla |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...earlyRows,
    '',
    '### A WSD run from a constant and a cosine run of its size',
    '',
    `Annealing law, worst of three sizes ${pct(worst(crossErr.annealing)).slice(1)}: ${target(worst(crossErr.annealing), 0.01)}; multi-power worst ${pct(worst(crossErr.multipower)).slice(1)}.`,
    '',
    '| size | measured WSD final | annealing | multi-power |',
    '| --- | ---: | ---: | ---: |',
    ...crossRows,
    '',
    '### The largest size from the two smaller',
    '',
    `Constant + cosine runs of hidden 32 and 64 fitted jointly; the hidden-96 runs predicted (WSD: a schedule not fitted). Two sizes leave E, AN and alphaN of the floor on a ridge, so alphaN is held at Chinchilla's published 0.34 (the rows at 0.2 and 0.5 show how much that choice moves the answer). WSD with the annealing law: ${target(Math.abs(sizeErr['annealing 0.34'][2]), 0.03)}.`,
    '',
    '| law | hidden-96 constant | hidden-96 cosine | hidden-96 WSD |',
    '| --- | ---: | ---: | ---: |',
    ...sizeRows,
    '',
    'Plots: `docs/img/curves-fit.svg` (`efficientscale fit runs/curves/h96-constant runs/curves/h96-cosine --law annealing --out law.json --plot curves-fit.svg`), `docs/img/curves-cross-schedule.svg` (`efficientscale predict --law law.json --schedule runs/curves/h96-wsd --plot …`), `docs/img/curves-early.svg` (`efficientscale fit runs/curves/h32-constant runs/curves/h32-cosine --law annealing --out h32.json`, then `efficientscale predict --from-run runs/curves/h96-cosine --until-step 600 --law h32.json --bootstrap 50 --plot …`: the annealing shape held from hidden 32).',
    '',
  ].join('\n'),
);
