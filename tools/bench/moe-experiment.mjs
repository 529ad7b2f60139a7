#!/usr/bin/env node
// Sparse upcycling, the experiment of issue 10, through the built CLI on the backend `auto` picks:
// a dense model trains on the embedded corpus (phase 1), then for the same number of further steps
// (a) the dense model continues, (b) its 8-expert top-2 upcycled copy continues (AdamW moments copied),
// and (c) the same MoE architecture trains from scratch for both phases' steps. Prints a Markdown section
// (table + commands); writes loss-vs-tokens.svg, loss-vs-flops.svg and expert-load.svg to packages/moe/docs/.
// Needs a build (pnpm build). Run alone: `node tools/bench/moe-experiment.mjs`; EXP_STEPS (per phase,
// default 150) and EXP_DIR (run directories, default a fresh temp dir) change it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { llamaConfig } from '../../packages/core/dist/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const cli = join(root, 'packages/cli/dist/bin.js');
if (!existsSync(cli)) {
  console.error(`moe-experiment: expected the built CLI at ${cli}, found nothing (run pnpm build)`);
  process.exit(1);
}
const phase = Number(process.env.EXP_STEPS ?? 150);
const dir = process.env.EXP_DIR ?? mkdtempSync(join(os.tmpdir(), 'es-moe-experiment-'));
mkdirSync(dir, { recursive: true });
const docs = join(root, 'packages/moe/docs');
mkdirSync(docs, { recursive: true });

const commands = [];
function run(...args) {
  const shown = `efficientscale ${args.join(' ')}`.replaceAll(dir, '$EXP_DIR').replaceAll(root + '/', '');
  commands.push(shown);
  console.error(`moe-experiment: ${shown}`);
  const started = performance.now();
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    console.error(r.stderr);
    throw new Error(`moe-experiment: ${shown} exited with ${r.status}`);
  }
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  return { ...(line ? JSON.parse(line) : {}), seconds: (performance.now() - started) / 1000, stderr: r.stderr };
}

const denseConfig = join(dir, 'dense-config.json');
writeFileSync(denseConfig, JSON.stringify(llamaConfig({ vocab: 256, hidden: 64, ffn: 128, layers: 2, heads: 4, kvHeads: 2, maxPositions: 256 })));
const common = ['--backend', 'auto', '--json'];
const runDir = (name) => join(dir, name);

const base = run('train', '--config', denseConfig, '--steps', String(phase), '--schedule', 'constant', '--lr', '3e-3', '--batch', '8', '--seq', '64', '--seed', '0', '--out', runDir('dense-phase1'), ...common);
const up = run('upcycle', runDir('dense-phase1'), '--out', runDir('upcycled-init'), '--experts', '8', '--top-k', '2', '--router-init', 'random', '--seed', '1', ...common);
// Switch Transformer's load-balancing coefficient (0.01) instead of Mixtral's 0.001, for both MoE runs:
// a tiny model with a tiny batch lets experts starve otherwise. The config is plain data; shapes are unchanged.
const upConfigFile = join(runDir('upcycled-init'), 'config.json');
writeFileSync(upConfigFile, JSON.stringify({ ...JSON.parse(readFileSync(upConfigFile, 'utf8')), router_aux_loss_coef: 0.01 }, null, 2));
const a = run('train', '--resume', runDir('dense-phase1'), '--out', runDir('a-dense'), '--steps', String(2 * phase), ...common);
const b = run('train', '--resume', runDir('upcycled-init'), '--out', runDir('b-upcycled'), '--steps', String(2 * phase), ...common);
const moeConfig = join(runDir('upcycled-init'), 'config.json');
const c = run('train', '--config', moeConfig, '--steps', String(2 * phase), '--schedule', 'constant', '--lr', '3e-3', '--batch', '8', '--seq', '64', '--seed', '0', '--out', runDir('c-scratch'), ...common);

const report = run('report', runDir('dense-phase1'), runDir('a-dense'), runDir('b-upcycled'), runDir('c-scratch'), '--out', docs, '--title', 'Sparse upcycling (issue 10)', '--json');
const load = run('expert-load', runDir('b-upcycled'), runDir('c-scratch'), '--out', docs, '--title', 'Sparse upcycling (issue 10)', '--json');

// Eval loss of a run at (the evaluation nearest below) a token count: the scratch MoE against (b) at equal tokens.
function evalAt(name, tokens) {
  const records = readFileSync(join(runDir(name), 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const evals = records.filter((r) => typeof r.eval_loss === 'number' && r.tokens <= tokens);
  return evals.at(-1);
}
const fmt = (x, d = 3) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '–');
const rows = [
  ['dense, phase 1 (the checkpoint all start from)', base],
  ['(a) dense, continued', a],
  [`(b) upcycled to 8 experts top-2, continued (max |Δlogit| at upcycling ${up.maxAbsLogitDiff?.toExponential(1)})`, b],
  ['(c) the same MoE from scratch, both phases', c],
];
const cAtPhase = evalAt('c-scratch', phase * 8 * 64);
const loadOf = (name) => load.runs.find((r) => r.run === name);
const cpus = os.cpus();

console.log('## moe-experiment: sparse upcycling against dense and from-scratch MoE\n');
console.log(
  `Backend ${b.backend} (\`--backend auto\`), ${cpus.length} × ${cpus[0]?.model.trim()} (shared machine), Node ${process.version}. Embedded Brown corpus, byte tokens, ` +
    `batch 8 × 64 tokens, constant LR 3e-3 after warm-up, AdamW. Dense: hidden 64, 2 layers, 4 heads (2 KV), SwiGLU 128 ` +
    `(${up.paramsBefore?.toLocaleString('en')} parameters). MoE: every FFN → 8 experts of 128, top-2, Mixtral routing, load-balancing coefficient 0.01 ` +
    `(${up.paramsAfter?.toLocaleString('en')} parameters; active matmul parameters per token ${up.activeMatmulParamsBefore?.toLocaleString('en')} → ` +
    `${up.activeMatmulParamsAfter?.toLocaleString('en')}). ${phase} steps per phase. Eval loss: 8 fixed held-out batches (4,096 tokens).\n`,
);
console.log('| run | steps | tokens | training FLOPs | eval loss | tokens/s | tokens/s vs (a) |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const [label, r] of rows) {
  console.log(`| ${label} | ${r.steps} | ${r.tokens.toLocaleString('en')} | ${r.flops.toExponential(2)} | ${fmt(r.eval_loss)} | ${Math.round(r.tokens_per_s)} | ${fmt(r.tokens_per_s / a.tokens_per_s, 2)} |`);
}
console.log(
  `\nAt equal tokens (${(2 * phase * 512).toLocaleString('en')}): (b) − (a) = ${fmt(b.eval_loss - a.eval_loss)} nats/token, (b) − (c) = ${fmt(b.eval_loss - c.eval_loss)}. ` +
    `(c) after ${cAtPhase?.tokens.toLocaleString('en')} tokens (as many as (b) trained after upcycling): eval loss ${fmt(cAtPhase?.eval_loss)}. ` +
    `Expert load over the last 10 steps (busiest / idlest expert's share of the tokens, even = 12.5%): (b) ${fmt(100 * loadOf('b-upcycled')?.final_max_share, 1)}% / ` +
    `${fmt(100 * loadOf('b-upcycled')?.final_min_share, 1)}%, (c) ${fmt(100 * loadOf('c-scratch')?.final_max_share, 1)}% / ${fmt(100 * loadOf('c-scratch')?.final_min_share, 1)}%.\n`,
);
console.log('Plots: `packages/moe/docs/loss-vs-tokens.svg`, `packages/moe/docs/loss-vs-flops.svg`, `packages/moe/docs/expert-load.svg`.\n');
console.log(`Command: \`pnpm bench moe-experiment\` (or \`node tools/bench/moe-experiment.mjs\` after \`pnpm build\`; EXP_STEPS=${phase}), which runs:\n`);
console.log('```\n' + commands.join('\n') + '\n```');
console.error(`moe-experiment: runs in ${dir}; report ${report.files?.join(', ')}`);
