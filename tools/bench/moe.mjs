#!/usr/bin/env node
// One MoE layer (E = 8 experts, top-2) against a dense SwiGLU FFN with the same active parameters
// (dense intermediate size = 2 × an expert's), forward + backward, on the backend `auto` picks, in one
// run: the two alternate in rounds so a busy machine slows both alike. Prints a Markdown section.
// Needs a build (pnpm build). Run alone: `node tools/bench/moe.mjs`; BENCH_ROUNDS, BENCH_ITERS, BENCH_TOKENS
// change the effort.
import os from 'node:os';
import { dimsOf, getFfnKind, llamaConfig, selectBackend, tf } from '../../packages/core/dist/index.js';
import { moeFfn } from '../../packages/moe/dist/index.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const iters = Number(process.env.BENCH_ITERS ?? 5);
const tokens = Number(process.env.BENCH_TOKENS ?? 2048);
const hidden = 256;
const expertFfn = 512;
const experts = 8;
const topK = 2;

const backend = await selectBackend('auto');
const seeded = (shape, seed) => tf.variable(tf.randomNormal(shape, 0, 0.05, 'float32', seed));

const base = llamaConfig({ vocab: 64, hidden, ffn: expertFfn, layers: 1, heads: 4 });
const moeConfig = { ...base, architectures: ['MixtralForCausalLM'], model_type: 'mixtral', num_local_experts: experts, num_experts_per_tok: topK, router_aux_loss_coef: 0.02 };
const moeWeights = { 'block_sparse_moe.gate.weight': seeded([experts, hidden], 1) };
for (let e = 0; e < experts; e++) {
  moeWeights[`block_sparse_moe.experts.${e}.w1.weight`] = seeded([expertFfn, hidden], 10 + 3 * e);
  moeWeights[`block_sparse_moe.experts.${e}.w3.weight`] = seeded([expertFfn, hidden], 11 + 3 * e);
  moeWeights[`block_sparse_moe.experts.${e}.w2.weight`] = seeded([hidden, expertFfn], 12 + 3 * e);
}
const denseFfn = topK * expertFfn;
const dense = {
  'mlp.gate_proj.weight': seeded([denseFfn, hidden], 2),
  'mlp.up_proj.weight': seeded([denseFfn, hidden], 3),
  'mlp.down_proj.weight': seeded([hidden, denseFfn], 4),
};
const denseConfig = llamaConfig({ vocab: 64, hidden, ffn: denseFfn, layers: 1, heads: 4 });
const denseCtx = { config: denseConfig, dims: dimsOf(denseConfig), layer: 0, name: (s) => `model.layers.0.${s}`, param: (s) => dense[s] };
const ctx = {
  config: moeConfig,
  dims: dimsOf(moeConfig),
  layer: 0,
  name: (s) => `model.layers.0.${s}`,
  param: (s) => moeWeights[s],
};
const x = seeded([tokens, hidden], 5);
// A fixed random projection of the output as the loss, so backward sees a dense gradient.
const probe = tf.randomNormal([tokens, hidden], 0, 1, 'float32', 6);

// Both layers are the model's own FFN slot kinds (core's dense SwiGLU, the moe package's Mixtral block).
function denseLoss() {
  return tf.sum(tf.mul(getFfnKind('dense').forward(denseCtx, x).y, probe));
}
function moeLoss() {
  const { y, auxLoss } = moeFfn.forward(ctx, x);
  return tf.add(tf.sum(tf.mul(y, probe)), auxLoss);
}
const denseVars = [x, ...Object.values(dense)];
const moeVars = [x, ...Object.values(moeWeights)];

/** Seconds for one forward + backward, gradients read back (as an optimizer step would use them). */
function time(lossFn, vars) {
  const started = performance.now();
  const { value, grads } = tf.variableGrads(lossFn, vars);
  const all = Object.values(grads);
  for (const g of all) g.dataSync();
  tf.dispose([value, ...all]);
  return (performance.now() - started) / 1000;
}

for (let i = 0; i < 3; i++) { time(denseLoss, denseVars); time(moeLoss, moeVars); }
const leakBefore = tf.memory().numTensors;
const samples = { dense: [], moe: [] };
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < iters; i++) samples.dense.push(time(denseLoss, denseVars));
  for (let i = 0; i < iters; i++) samples.moe.push(time(moeLoss, moeVars));
}
if (tf.memory().numTensors !== leakBefore) throw new Error(`moe bench: ${tf.memory().numTensors - leakBefore} tensors leaked`);
const median = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
const tps = { dense: tokens / median(samples.dense), moe: tokens / median(samples.moe) };
const ratio = tps.moe / tps.dense;

// BENCH_PROFILE=1: where each layer's kernel time goes (tf.profile of one more fwd+bwd each), on stderr.
if (process.env.BENCH_PROFILE === '1') {
  for (const [name, fn, vars] of [['dense', denseLoss, denseVars], ['moe', moeLoss, moeVars]]) {
    const p = await tf.profile(() => time(fn, vars));
    const total = p.kernels.reduce((n, k) => n + k.kernelTimeMs, 0);
    const mm = p.kernels.filter((k) => k.name === 'BatchMatMul');
    const mmMs = mm.reduce((n, k) => n + k.kernelTimeMs, 0);
    console.error(`moe bench profile, ${name}: ${p.kernels.length} kernels, ${total.toFixed(1)} ms; ${mm.length} matrix products ${mmMs.toFixed(1)} ms (${((100 * mmMs) / total).toFixed(0)}%)`);
  }
}

const cpus = os.cpus();
console.log(`## moe: one MoE layer vs a dense FFN of the same active size\n`);
console.log(
  `Backend: ${backend.name} (picked by \`auto\`: ${backend.detail}). Machine: ${cpus.length} × ${cpus[0]?.model.trim()} (shared machine), Node ${process.version}. ` +
    `${tokens} tokens × hidden ${hidden}; MoE: ${experts} experts of intermediate size ${expertFfn}, top-${topK}, Mixtral routing, load-balancing loss; ` +
    `dense SwiGLU of intermediate size ${denseFfn} (= ${topK} × ${expertFfn}, the same active parameters). Forward + backward (gradients of every weight ` +
    `and of the input, read back), median of ${rounds * iters} after 3 warm-ups, dense and MoE alternating in ${rounds} rounds.\n`,
);
console.log('| layer | ms per fwd+bwd | tokens/s | vs dense |\n| --- | ---: | ---: | ---: |');
console.log(`| dense SwiGLU, ffn ${denseFfn} | ${(1000 * median(samples.dense)).toFixed(1)} | ${Math.round(tps.dense)} | 100% |`);
console.log(`| MoE E=${experts}, k=${topK}, expert ffn ${expertFfn} | ${(1000 * median(samples.moe)).toFixed(1)} | ${Math.round(tps.moe)} | ${(100 * ratio).toFixed(0)}% |`);
console.log(`\nTarget: MoE at >= 70% of dense tokens/s (issue 10). Command: \`pnpm bench moe\` (or \`node tools/bench/moe.mjs\` after \`pnpm build\`; \`BENCH_PROFILE=1\` adds a kernel-time breakdown on stderr).`);
