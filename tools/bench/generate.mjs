#!/usr/bin/env node
// Greedy generation with the KV cache against re-running the whole window for every token, on the backend
// `auto` picks, in one run: the two alternate in rounds so a busy machine slows both alike, and their
// outputs must be equal. Prints a Markdown section for BENCHMARKS.md. Needs a build of core (pnpm build).
// Run alone: `node tools/bench/generate.mjs`; BENCH_ROUNDS, BENCH_PROMPT, BENCH_NEW change the effort.
import os from 'node:os';
import { generate, initParams, llamaConfig, selectBackend, tf } from '../../packages/core/dist/index.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const promptLength = Number(process.env.BENCH_PROMPT ?? 32);
const newTokens = Number(process.env.BENCH_NEW ?? 96);
const shape = { vocab: 512, hidden: 256, ffn: 688, layers: 4, heads: 4, kvHeads: 2, maxPositions: 256 };

const backend = await selectBackend('auto');
const config = llamaConfig(shape);
const params = initParams(config, 1, 0.05);
const prompt = Array.from({ length: promptLength }, (_, i) => (i * 37 + 11) % shape.vocab);
const options = { maxNewTokens: newTokens, temperature: 0, topK: 0, seed: 0 };

async function timed(cache) {
  const start = performance.now();
  const ids = await generate(config, params, prompt, { ...options, cache });
  return { ids, tokensPerSecond: ids.length / ((performance.now() - start) / 1000) };
}

await timed(true); // warm-up: kernels and first-call setup
await timed(false);
const speeds = { cached: [], uncached: [] };
let equal = true;
for (let r = 0; r < rounds; r++) {
  const a = await timed(true);
  const b = await timed(false);
  speeds.cached.push(a.tokensPerSecond);
  speeds.uncached.push(b.tokensPerSecond);
  equal &&= a.ids.length === b.ids.length && a.ids.every((t, i) => t === b.ids[i]);
}
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const cached = median(speeds.cached);
const uncached = median(speeds.uncached);
tf.dispose(Object.values(params));

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(`## generate: KV cache vs re-running the window

\`node tools/bench/generate.mjs\` (BENCH_ROUNDS=${rounds}, BENCH_PROMPT=${promptLength}, BENCH_NEW=${newTokens}); backend ${backend.name}; ${os.cpus().length} × ${cpu}, shared machine (the two modes alternate, ${rounds} rounds, median shown).
Model: ${shape.layers} layers, hidden ${shape.hidden}, ${shape.heads} heads (${shape.kvHeads} KV), FFN ${shape.ffn}, vocab ${shape.vocab}, random weights; greedy, prompt ${promptLength} tokens, ${newTokens} new tokens.

| mode | tokens/s (median) | rounds |
| --- | ---: | --- |
| KV cache | ${cached.toFixed(1)} | ${speeds.cached.map((s) => s.toFixed(1)).join(', ')} |
| no cache (whole window per token) | ${uncached.toFixed(1)} | ${speeds.uncached.map((s) => s.toFixed(1)).join(', ')} |

Speed-up from the cache: **${(cached / uncached).toFixed(2)}×** (ratio of the medians). Outputs identical in every round: ${equal ? 'yes' : 'NO'}.
`);
if (!equal) process.exit(1);
