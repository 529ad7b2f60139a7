#!/usr/bin/env node
// Training-step throughput on the webgpu backend beside native and PyTorch, in one run, the adapter
// named. On SwiftShader (no GPU: Chromium's CPU Vulkan driver) the figures only show the per-step
// overhead of the WebGPU path, so only the `overhead` shape runs there: the benchmark model (same layers,
// same kernels, same dispatch count) on 16 tokens a step, where the work is negligible beside the cost of
// each dispatch (the benchmark shape itself took over 30 minutes for 4 steps on the shared 2-core machine).
// On a GPU machine tools/gpu-check.sh runs the same shapes with PyTorch on CUDA.
// Run alone: `node tools/bench/webgpu.mjs`. BENCH_STEPS / BENCH_WARMUP change the step counts.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const cli = resolve(root, 'packages/cli/dist/bin.js');
const torchScript = resolve(root, '../shared/bench/torch_llama_bench.py');
const python = process.env.BENCH_PYTHON ?? '/usr/bin/python3';
const torchDevice = process.env.BENCH_TORCH_DEVICE ?? 'cpu';
const steps = Number(process.env.BENCH_STEPS ?? 3);
const warmup = Number(process.env.BENCH_WARMUP ?? 1);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
if (!existsSync(cli)) {
  console.error(`webgpu bench: expected the built CLI at ${cli}, found nothing (run pnpm build)`);
  process.exit(1);
}

export const shapes = {
  benchmark: { layers: 4, hidden: 256, heads: 4, ffn: 688, vocab: 512, seq: 128, batch: 16 },
  larger: { layers: 8, hidden: 512, heads: 8, ffn: 1376, vocab: 512, seq: 256, batch: 16 },
  gpu: { layers: 12, hidden: 768, heads: 12, ffn: 2048, vocab: 32000, seq: 1024, batch: 8 },
  overhead: { layers: 4, hidden: 256, heads: 4, ffn: 688, vocab: 512, seq: 16, batch: 1 },
};
const flags = (shape) => Object.entries(shape).flatMap(([k, v]) => [`--${k}`, String(v)]);
const commands = [];

function runJson(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 16 << 20 });
  const line = (r.stdout ?? '').trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (r.status !== 0 || !line) return { error: `${cmd} exited with ${r.status}: ${(r.stderr ?? '').trim().split('\n').slice(-1).join(' ')}` };
  return JSON.parse(line);
}
function ours(shape, backend) {
  const args = [cli, 'bench', ...flags(shape), '--backend', backend, '--steps', String(steps), '--warmup', String(warmup), '--json'];
  commands.push(`node packages/cli/dist/bin.js ${args.slice(1).join(' ')}`);
  console.error(`webgpu bench: ${backend} ${JSON.stringify(shape)}`);
  return runJson(process.execPath, args);
}
function torch(shape) {
  if (!existsSync(torchScript)) return { error: `no ${torchScript}` };
  const args = [torchScript, ...flags(shape), '--steps', String(steps), '--warmup', String(warmup), '--device', torchDevice];
  commands.push(`${python} ../shared/bench/torch_llama_bench.py ${args.slice(1).join(' ')}`);
  console.error(`webgpu bench: pytorch (${torchDevice}) ${JSON.stringify(shape)}`);
  return runJson(python, args);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const fmt = (x, d = 0) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '–');
const rows = [];
let adapter = 'no WebGPU adapter';
const probe = ours({ ...shapes.benchmark, layers: 1, batch: 1, seq: 16 }, 'webgpu');
commands.pop();
if (!probe.error) adapter = probe.device.replace(/:.*$/, ''); // the adapter, without the CLI's advice after it
const software = /SwiftShader|CPU emulation/.test(adapter);
const wanted = (process.env.BENCH_SHAPES ?? (software ? 'overhead' : 'benchmark,larger,gpu')).split(',');

for (const name of wanted) {
  const shape = shapes[name];
  const runs = { pytorch: [], webgpu: [], native: [] };
  // alternate the sides round by round (the machine may be shared); medians and ranges reported
  for (let r = 0; r < rounds; r++) {
    runs.pytorch.push(torch(shape));
    runs.webgpu.push(ours(shape, 'webgpu'));
    if (name !== 'gpu') runs.native.push(ours(shape, 'native'));
  }
  const torchOk = runs.pytorch.filter((x) => !x.error);
  const torchMedian = torchOk.length ? median(torchOk.map((x) => x.tokens_per_s)) : NaN;
  for (const [side, list] of Object.entries(runs)) {
    if (list.length === 0) continue;
    const ok = list.filter((x) => !x.error);
    if (ok.length === 0) {
      rows.push(`| ${name} | ${side} | not measured: ${list[0].error.replace(/\|/g, '/')} | | | |`);
      continue;
    }
    // from the step time: the CLI rounds tokens/s to an integer, and SwiftShader runs well under one
    const tps = ok.map((x) => (side === 'pytorch' || !(x.step_ms > 0) ? x.tokens_per_s : (shape.batch * shape.seq * 1000) / x.step_ms));
    const ms = median(ok.map((x) => x.step_ms));
    const label = side === 'pytorch' ? `pytorch (${torchDevice})` : side === 'webgpu' ? `webgpu (${adapter})` : 'native';
    const d = Math.min(...tps) < 10 ? 2 : 0; // SwiftShader: well under one token per second
    rows.push(`| ${name} | ${label} | ${fmt(ms, 1)} | ${fmt(median(tps), d)} (${fmt(Math.min(...tps), d)}–${fmt(Math.max(...tps), d)}) | ${fmt(median(tps) / torchMedian, 3)} |`);
  }
}

const cpus = os.cpus();
const out = [
  '## Training step on WebGPU beside native and PyTorch',
  '',
  `Machine: ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load average ${os.loadavg()[0].toFixed(1)} at the end, ${new Date().toISOString().slice(0, 10)}. WebGPU adapter: ${adapter}.`,
  `Full training steps (forward, backward, clip, AdamW; each step's loss read back) timed after ${warmup} warm-up step(s), mean of ${steps}; ${rounds} rounds alternating the sides, median tokens/s (range). ` +
    (software ? 'SwiftShader emulates a GPU on the CPU: these figures show the WebGPU path\'s per-step cost, not a GPU\'s speed.' : ''),
  '',
  '| shape | backend | step ms (median) | tokens/s (range) | ratio to PyTorch |',
  '| --- | --- | ---: | ---: | ---: |',
  ...rows,
  '',
  'Shapes: ' + wanted.map((n) => `${n} = ${JSON.stringify(shapes[n])}`).join('; ') + '.',
  '',
  'Commands (from the repository root, in this order):',
  '',
  '```sh',
  ...[...new Set(commands)],
  '```',
];
process.stdout.write(out.join('\n') + '\n');
