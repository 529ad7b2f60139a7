#!/usr/bin/env node
// Training-step throughput of the Llama-style model on each available backend against PyTorch on the
// same machine, in one run, and `train --preset tiny`'s step on native against the stock cpu backend.
// Prints a Markdown section for BENCHMARKS.md. Needs the built CLI (pnpm build) and, for the PyTorch
// column, /usr/bin/python3 with torch (apt-get install -y python3-torch).
// Run alone: `node tools/bench/train-step.mjs`. BENCH_STEPS / BENCH_WARMUP change the step counts.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const cli = resolve(root, 'packages/cli/dist/bin.js');
const torchScript = resolve(root, '../shared/bench/torch_llama_bench.py');
const python = '/usr/bin/python3';
const steps = Number(process.env.BENCH_STEPS ?? 5);
const warmup = Number(process.env.BENCH_WARMUP ?? 2);
if (!existsSync(cli)) {
  console.error(`train-step bench: expected the built CLI at ${cli}, found nothing (run pnpm build)`);
  process.exit(1);
}

const shapes = {
  benchmark: { layers: 4, hidden: 256, heads: 4, ffn: 688, vocab: 512, seq: 128, batch: 16 },
  larger: { layers: 8, hidden: 512, heads: 8, ffn: 1376, vocab: 512, seq: 256, batch: 16 },
  tiny: { layers: 2, hidden: 64, heads: 4, ffn: 172, vocab: 256, seq: 64, batch: 8 },
};
const flags = (shape) => Object.entries(shape).flatMap(([k, v]) => [`--${k}`, String(v)]);

function runJson(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 16 << 20, env: { ...process.env, ...env } });
  const line = (r.stdout ?? '').trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (r.status !== 0 || !line) return { error: `${cmd} exited with ${r.status}: ${(r.stderr ?? '').trim().split('\n').slice(-2).join(' ')}` };
  return JSON.parse(line);
}

const commands = [];
function ours(shape, backend, n = steps, w = warmup, env = {}) {
  const args = [cli, 'bench', ...flags(shape), '--backend', backend, '--steps', String(n), '--warmup', String(w), '--json'];
  const prefix = Object.entries(env).map(([k, v]) => `${k}=${v} `).join('');
  commands.push(`${prefix}node packages/cli/dist/bin.js ${args.slice(1).join(' ')}`);
  console.error(`train-step bench: ${prefix}${backend} ${JSON.stringify(shape)}`);
  return runJson(process.execPath, args, env);
}
function torch(shape) {
  if (!existsSync(torchScript)) return { error: `no ${torchScript}` };
  const { batch, ...rest } = shape;
  const args = [torchScript, ...flags({ ...rest, batch }), '--steps', String(steps), '--warmup', String(warmup)];
  commands.push(`${python} ../shared/bench/torch_llama_bench.py ${args.slice(1).join(' ')}`);
  console.error(`train-step bench: pytorch ${JSON.stringify(shape)}`);
  return runJson(python, args);
}

const fmt = (x, d = 0) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '–');
const rows = [];
function row(label, backend, r, ref) {
  if (r.error) return rows.push(`| ${label} | ${backend} | not measured: ${r.error.replace(/\|/g, '/')} | | | |`);
  const ratio = ref && !ref.error ? r.tokens_per_s / ref.tokens_per_s : NaN;
  rows.push(`| ${label} | ${backend} | ${fmt(r.step_ms, 1)} | ${fmt(r.tokens_per_s)} | ${fmt(r.gflop_per_s, 1)} | ${fmt(ratio, 2)} |`);
}

// Benchmark shape and the larger one: PyTorch, native, then PyTorch again (the machine is shared; the
// two PyTorch runs bracket ours and show the noise), in one go.
for (const [label, shape] of [['benchmark', shapes.benchmark], ['larger', shapes.larger]]) {
  const t1 = torch(shape);
  const native = ours(shape, 'native');
  const t2 = torch(shape);
  const best = [t1, t2].filter((t) => !t.error).sort((a, b) => b.tokens_per_s - a.tokens_per_s)[0] ?? t1;
  row(label, `pytorch (${t1.peer ?? '?'}, ${t1.threads ?? '?'} thread)`, t1, best);
  row(label, 'pytorch again', t2, best);
  row(label, 'native', native, best);
}
// train --preset tiny's model and batch: native against the stock cpu backend, with stock tfjs ops only
// (EFFICIENTSCALE_FUSED=0) and with core's JavaScript fused kernels.
const tinyStock = ours(shapes.tiny, 'cpu', 3, 1, { EFFICIENTSCALE_FUSED: '0' });
const tinyCpu = ours(shapes.tiny, 'cpu', 3, 1);
const tinyNative = ours(shapes.tiny, 'native', 10, 3);
row('tiny preset', 'cpu, stock tfjs ops (EFFICIENTSCALE_FUSED=0)', tinyStock, tinyStock);
row('tiny preset', 'cpu + core\'s JavaScript fused kernels', tinyCpu, tinyStock);
row('tiny preset', 'native', tinyNative, tinyStock);

const cpus = os.cpus();
const out = [
  '## Training step: native backend vs PyTorch and tfjs-backend-cpu',
  '',
  `Machine: ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`,
  `Full training steps (forward, backward, gradient clip, AdamW) timed after ${warmup} warm-up steps; mean of ${steps} steps. ` +
    'The ratio column is tokens/s over the best PyTorch run of the same shape (benchmark and larger rows) or over tfjs-backend-cpu running stock tfjs ops (tiny rows).',
  '',
  '| shape | backend | step ms | tokens/s | GFLOP/s | ratio |',
  '| --- | --- | ---: | ---: | ---: | ---: |',
  ...rows,
  '',
  'Shapes: benchmark = ' + JSON.stringify(shapes.benchmark) + '; larger = ' + JSON.stringify(shapes.larger) +
    '; tiny = the model and batch of `efficientscale train --preset tiny` ' + JSON.stringify(shapes.tiny) + '.',
  '',
  'Commands (from the repository root, in this order):',
  '',
  '```sh',
  ...commands,
  '```',
];
process.stdout.write(out.join('\n') + '\n');
