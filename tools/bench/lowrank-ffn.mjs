#!/usr/bin/env node
// Dense vs low-rank FFN speed (issue 11): the paper's FFN (two linears d→4d→d with GELU) and our SwiGLU FFN
// kinds (dense vs lowrank), widths 1024/2048/4096, 2k tokens, rank width/4 (≈32% of the parameters),
// forward and forward+backward, on the backend `auto` picks; in the same run PyTorch times the GELU shapes
// (../shared/bench/ffn_lowrank_bench.py, threads matched to ours); then a whole training step of the
// benchmark model with a 32% low-rank FFN vs dense. Prints a Markdown section for BENCHMARKS.md.
// Needs the built packages (pnpm build). Run alone: `node tools/bench/lowrank-ffn.mjs`.
// BENCH_TOKENS (default 2048), BENCH_WIDTHS (default 1024,2048,4096), BENCH_SWIGLU_WIDTHS (default 1024,2048),
// BENCH_REPS (default 3), BENCH_WARMUPS (default 2), BENCH_ROUNDS (default 3: PyTorch then ours, three times; the table takes each time's median) change the run; BENCH_TORCH=0 skips PyTorch. PyTorch's lines also go to
// /tmp/lowrank-ffn-torch.jsonl as they come (a slow shared machine: see how far it got).
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dist = (pkg) => resolve(root, `packages/${pkg}/dist/index.js`);
for (const pkg of ['core', 'lowrank']) {
  if (!existsSync(dist(pkg))) {
    console.error(`lowrank-ffn bench: expected the built package at ${dist(pkg)}, found nothing (run pnpm build)`);
    process.exit(1);
  }
}
const core = await import(pathToFileURL(dist('core')).href);
const lowrank = await import(pathToFileURL(dist('lowrank')).href);
const { tf } = core;
const backend = await core.selectBackend('auto');
const threads = Number(/(\d+) threads/.exec(backend.detail)?.[1] ?? os.cpus().length);
const tokens = Number(process.env.BENCH_TOKENS ?? 2048);
const widths = (process.env.BENCH_WIDTHS ?? '1024,2048,4096').split(',').map(Number);
const reps = Number(process.env.BENCH_REPS ?? 3);
const warmups = Number(process.env.BENCH_WARMUPS ?? 2);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const swigluWidths = (process.env.BENCH_SWIGLU_WIDTHS ?? '1024,2048').split(',').map(Number);
const torchScript = resolve(root, '../shared/bench/ffn_lowrank_bench.py');
const python = '/usr/bin/python3';

/** Mean ms of `reps` calls after `warmups` calls: PyTorch's script's protocol (3 after 2) by default. */
function timeit(f) {
  for (let i = 0; i < warmups; i++) f();
  const t = performance.now();
  for (let i = 0; i < reps; i++) f();
  return (performance.now() - t) / reps;
}
const rand = (shape, std) => tf.randomNormal(shape, 0, std, 'float32', 1);
const linear = (x, w) => tf.matMul(x, w, false, true); // x [T, in] · W[out, in]ᵀ, as the FFN kinds do

// GELU in its tanh form (core's gelu: the fused EsGelu kernel and its gradient where the backend has them,
// x·σ(2z) in stock ops elsewhere); PyTorch's F.gelu is the erf form (the two differ by < 1e-3 and cost
// differently in PyTorch: the bench script times its default, the erf form).
const { gelu } = core;

function geluFfns(d, r) {
  const s = 1 / Math.sqrt(d);
  const dense = { w1: rand([4 * d, d], s), w2: rand([d, 4 * d], s / 2) };
  const low = { v1: rand([r, d], s), u1: rand([4 * d, r], s), v2: rand([r, 4 * d], s), u2: rand([d, r], s) };
  return {
    dense: { weights: Object.values(dense), f: (x, [w1, w2]) => linear(gelu(linear(x, w1)), w2) },
    lowrank: { weights: Object.values(low), f: (x, [v1, u1, v2, u2]) => linear(linear(gelu(linear(linear(x, v1), u1)), v2), u2) },
  };
}

/** Our SwiGLU FFN kinds (core's dense, this package's lowrank) at ffn = 4d, called through the FFN slot. */
function swigluFfns(d, r) {
  const dims = (ffn) => core.llamaConfig({ vocab: 16, hidden: d, ffn, layers: 2, heads: 8 });
  const denseConfig = dims(4 * d);
  const lowConfig = lowrank.lowrankConfig(denseConfig, { rank: r, keepFirstDense: false });
  const make = (config, kind) => {
    const shapes = core.paramShapes(config);
    const names = Object.keys(shapes).filter((n) => n.startsWith('model.layers.0.mlp.'));
    const weights = names.map((n) => rand(shapes[n], 0.02));
    const ffn = core.getFfnKind(kind);
    const dimsOf = core.dimsOf(config);
    const f = (x, ws) => {
      const byName = Object.fromEntries(names.map((n, i) => [n, ws[i]]));
      const ctx = { config, dims: dimsOf, layer: 0, name: (s) => `model.layers.0.${s}`, param: (s) => byName[`model.layers.0.${s}`] };
      return ffn.forward(ctx, x).y;
    };
    return { weights, f };
  };
  return { dense: make(denseConfig, 'dense'), lowrank: make(lowConfig, 'lowrank') };
}

function measure({ weights, f }, x) {
  // The tidy returns nothing: a returned Float32Array would be walked element by element for tensors to keep.
  const fwd = timeit(() => tf.tidy(() => {
    f(x, weights).dataSync();
  }));
  // Gradients for the input and every weight, as PyTorch's m(x).sum().backward() with x.requires_grad.
  const g = tf.grads((xi, ...ws) => tf.sum(f(xi, ws)));
  const fwdbwd = timeit(() => tf.tidy(() => {
    g([x, ...weights]).forEach((t) => t.dataSync());
  }));
  const params = weights.reduce((n, w) => n + w.size, 0);
  return { fwd, fwdbwd, params };
}

function torchRun() {
  const env = { ...process.env, OMP_NUM_THREADS: String(threads) };
  const log = '/tmp/lowrank-ffn-torch.jsonl';
  const fd = openSync(log, 'w');
  const r = spawnSync(python, [torchScript, 'cpu', String(tokens), 'fp32'], { encoding: 'utf8', env, stdio: ['ignore', fd, 'pipe'] });
  closeSync(fd);
  if (r.status !== 0) return { error: `${python} exited with ${r.status}: ${(r.stderr ?? '').trim().split('\n').slice(-1)[0]}` };
  return torchRows(readFileSync(log, 'utf8'));
}
function torchRows(text) {
  const rows = text.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  return { byWidth: Object.fromEntries(rows.map((row) => [row.width, row])) };
}

// the load before this run starts (at the end it counts this run's own threads)
const loadBefore = os.loadavg()[0];
console.error(`lowrank-ffn bench: ${backend.detail}; ${rounds} rounds of PyTorch then ours`);
const skipTorch = process.env.BENCH_TORCH === '0' ? { error: 'skipped (BENCH_TORCH=0)' } : undefined;
// BENCH_TORCH_JSONL=file reuses the lines of an earlier PyTorch run (said so in the section) instead of new ones.
const reused = process.env.BENCH_TORCH_JSONL;
const torchOnce = () => skipTorch ?? (reused ? torchRows(readFileSync(reused, 'utf8')) : existsSync(torchScript) ? torchRun() : { error: `no ${torchScript}` });

/** Our timings of one round: the GELU shape at every width, SwiGLU (no PyTorch peer) in the first round only. */
function ourRound(round) {
  const out = [];
  for (const d of widths) {
    const r = d / 4;
    const x = rand([tokens, d], 1);
    for (const [shape, make] of [['GELU d→4d→d', geluFfns], ['SwiGLU (ffn 4d)', swigluFfns]]) {
      if (make === swigluFfns && (round > 0 || !swigluWidths.includes(d))) continue;
      console.error(`lowrank-ffn bench: round ${round + 1}, ${shape} width ${d}`);
      const ffns = make(d, r);
      const dense = measure(ffns.dense, x);
      const low = measure(ffns.lowrank, x);
      out.push({ shape, d, r, dense, low });
      tf.dispose([...ffns.dense.weights, ...ffns.lowrank.weights]);
    }
    x.dispose();
  }
  return out;
}

// PyTorch and ours alternate round by round, so that both meet the machine in the same states.
const torchRounds = [];
const ourRounds = [];
for (let round = 0; round < rounds; round++) {
  torchRounds.push(torchOnce());
  ourRounds.push(ourRound(round));
}
const torch1 = torchRounds[0];
// The table shows each time as its median over the rounds that measured it (one slow spell of the shared
// machine, on either side, then moves no cell); ratios are of those medians.
const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b), h = v.length >> 1;
  return v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
};
const results = ourRounds[0].map((row) => {
  const same = ourRounds.map((rs) => rs.find((o) => o.shape === row.shape && o.d === row.d)).filter(Boolean);
  const avg = (part) => ({ fwd: median(same.map((o) => o[part].fwd)), fwdbwd: median(same.map((o) => o[part].fwdbwd)), params: row[part].params });
  return { shape: row.shape, d: row.d, r: row.r, dense: avg('dense'), low: avg('low') };
});
const torchMedian = (d) => {
  const rows = torchRounds.map((t) => t.byWidth?.[d]).filter(Boolean);
  if (rows.length === 0) return undefined;
  const m = (k) => median(rows.map((row) => row[k]));
  return {
    lowrank_fwd_ms: m('lowrank_fwd_ms'), lowrank_fwdbwd_ms: m('lowrank_fwdbwd_ms'),
    speedup_fwd: m('dense_fwd_ms') / m('lowrank_fwd_ms'), speedup_fwdbwd: m('dense_fwdbwd_ms') / m('lowrank_fwdbwd_ms'),
  };
};

// Whole training step of the benchmark model (tools/bench/train-step.mjs's shape), dense vs 32% low-rank FFN.
const benchModel = { vocab: 512, hidden: 256, ffn: 688, layers: 4, heads: 4 };
const stepOptions = {
  batchSize: 16, seqLen: 128, accumulation: 1, schedule: { kind: 'constant', lr: 1e-3 },
  adamw: core.defaultAdamW, clipNorm: 1, seed: 0, evalBatches: 1,
};
const ids = Int32Array.from({ length: 200_000 }, (_, i) => (i * 7919 + (i >> 3)) % benchModel.vocab);
function stepMs(config) {
  const trainer = core.Trainer.fresh(config, ids, ids.subarray(0, 4096), stepOptions);
  trainer.step();
  const n = 3;
  const t = performance.now();
  for (let i = 0; i < n; i++) trainer.step();
  const ms = (performance.now() - t) / n;
  const params = core.countParams(config);
  trainer.dispose();
  return { ms, params };
}
const denseModel = core.llamaConfig({ ...benchModel, maxPositions: 128 });
const steps = [
  ['dense', denseModel],
  ['lowrank --fraction 0.32 (layer 0 dense)', lowrank.lowrankConfig(denseModel, { fraction: 0.32 })],
  ['lowrank --fraction 0.32 --no-keep-first-dense', lowrank.lowrankConfig(denseModel, { fraction: 0.32, keepFirstDense: false })],
];
console.error('lowrank-ffn bench: training steps');
const stepRows = [];
let denseStep;
for (const [label, config] of steps) {
  const s = stepMs(config);
  denseStep ??= s;
  stepRows.push(`| ${label} | ${s.params.toLocaleString('en')} | ${s.ms.toFixed(1)} | ${(denseStep.ms / s.ms).toFixed(2)} |`);
}

const f = (x, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
const ffnRows = results.map(({ shape, d, r, dense, low }) => {
  const t = torchMedian(d);
  const torchCells = shape.startsWith('GELU') && t
    ? [f(t.speedup_fwd, 2), f(t.speedup_fwdbwd, 2), `${f(t.lowrank_fwd_ms, 0)} / ${f(t.lowrank_fwdbwd_ms, 0)}`,
      `${f(low.fwd / t.lowrank_fwd_ms, 2)} / ${f(low.fwdbwd / t.lowrank_fwdbwd_ms, 2)}`]
    : ['', '', '', ''];
  return `| ${shape} | ${d} | ${r} | ${f(low.params / dense.params, 3)} | ${f(dense.fwd, 0)} / ${f(low.fwd, 0)} | ${f(dense.fwd / low.fwd, 2)} | ` +
    `${f(dense.fwdbwd, 0)} / ${f(low.fwdbwd, 0)} | ${f(dense.fwdbwd / low.fwdbwd, 2)} | ${torchCells.join(' | ')} |`;
});
const torchNote = torch1.error ? `PyTorch not measured: ${torch1.error}.` :
  `PyTorch: \`OMP_NUM_THREADS=${threads} ${python} ../shared/bench/ffn_lowrank_bench.py cpu ${tokens} fp32\` (mean of 3 calls after 2), ${reused ? `NOT in this run: its lines were reused from ${reused} (an earlier run on the same machine, under other load)` : `run just before ours in each of ${rounds} rounds`}; its default here is 1 thread, so the thread count is set to ours.`;
// Low-rank GELU ms round by round, ours against PyTorch's (the spread says how far to trust one cell).
const roundCell = (d, i) => {
  const o = ourRounds[i].find((row) => row.shape.startsWith('GELU') && row.d === d);
  const t = torchRounds[i].byWidth?.[d];
  return `${f(o?.low.fwd, 0)}/${f(t?.lowrank_fwd_ms, 0)} fwd, ${f(o?.low.fwdbwd, 0)}/${f(t?.lowrank_fwdbwd_ms, 0)} fwd+bwd`;
};
const roundNote = `Low-rank GELU ms by round, ours/PyTorch's: ${widths.map((d) => `width ${d}: ${ourRounds.map((_, i) => `round ${i + 1} ${roundCell(d, i)}`).join('; ')}`).join(' · ')}. The table's times are the medians over the rounds.`;

const cpus = os.cpus();
process.stdout.write([
  '## Low-rank FFN speed (issue 11)',
  '',
  `Machine: ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, load average ${loadBefore.toFixed(1)} before the run, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}. ` +
    `Backend: ${backend.name} (${backend.detail}), float32, ${tokens} tokens, each time the mean of ${reps} calls after ${warmups} warm-up calls, then the median of ${rounds} rounds.`,
  'Rank = width/4; forward+backward computes the gradients of the input and of every weight. Ratio = dense ms / low-rank ms (higher is better; the arithmetic bound of the GELU shape is 3.2×).',
  '',
  '| FFN | width | rank | param fraction | fwd ms dense / low-rank | fwd ratio | fwd+bwd ms dense / low-rank | fwd+bwd ratio | PyTorch fwd ratio | PyTorch fwd+bwd ratio | PyTorch low-rank ms fwd / fwd+bwd | our low-rank ms over PyTorch, fwd / fwd+bwd |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...ffnRows,
  '',
  torchNote,
  roundNote,
  `GELU here is core's \`gelu\`, the tanh form x·σ(2c(x + 0.044715x³)), ${tf.getKernel('EsGelu', tf.getBackend()) ? 'one fused kernel forward (EsGelu) and one backward (EsGeluGrad) on this backend' : 'stock tfjs ops on this backend (no fused EsGelu kernel)'}; PyTorch's is its default erf form. SwiGLU rows are our FFN kinds themselves (core\'s dense with its fused SwiGLU kernel, the lowrank kind).`,
  '',
  `Whole training step (forward, backward, clip, AdamW) of the benchmark model ${JSON.stringify(benchModel)}, batch 16 × 128 tokens, mean of 3 steps after 1, the three models one after the other:`,
  '',
  '| FFN | parameters | step ms | dense / this |',
  '| --- | ---: | ---: | ---: |',
  ...stepRows,
  '',
  'Command: `pnpm bench lowrank-ffn` (or `node tools/bench/lowrank-ffn.mjs` on built packages).',
  '',
].join('\n'));
