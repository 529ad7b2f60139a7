#!/usr/bin/env node
// Streamed transforms (`--stream`) on a synthetic 1B+ parameter Llama checkpoint (bfloat16, sharded as
// transformers writes it): width growth, depth growth, upcycling and the low-rank conversion, wall time and
// peak RSS of each (the command's own process.resourceUsage().maxRSS) against the 1.5 GiB target and the size
// of the largest tensor; and `generate` loading the whole model (float32 in tfjs) from the bf16 shards,
// against the model's float32 size. Prints a Markdown section for BENCHMARKS.md. Needs the built CLI
// (pnpm build) and ~20 GB of free disk under the OS temp dir (removed at the end). Run alone:
// `node tools/bench/stream.mjs`; BENCH_LAYERS, BENCH_EXPERTS, BENCH_RANK change the size.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const cli = resolve(root, 'packages/cli/dist/bin.js');
if (!fs.existsSync(cli)) {
  console.error(`stream bench: expected the built CLI at ${cli}, found nothing (run pnpm build)`);
  process.exit(1);
}
const layers = Number(process.env.BENCH_LAYERS ?? 20);
const experts = Number(process.env.BENCH_EXPERTS ?? 4);
const rank = Number(process.env.BENCH_RANK ?? 128);
const shape = { vocab: 32000, hidden: 2048, heads: 16, kvHeads: 4, ffn: 5632, layers };
const headDim = shape.hidden / shape.heads;
const work = fs.mkdtempSync(join(os.tmpdir(), 'es-stream-bench-'));

const config = {
  architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: shape.vocab, hidden_size: shape.hidden, intermediate_size: shape.ffn,
  num_hidden_layers: layers, num_attention_heads: shape.heads, num_key_value_heads: shape.kvHeads, head_dim: headDim, hidden_act: 'silu',
  rms_norm_eps: 1e-5, rope_parameters: { rope_type: 'default', rope_theta: 500000 }, max_position_embeddings: 4096, tie_word_embeddings: false,
  attention_bias: false, mlp_bias: false, dtype: 'bfloat16',
};
const tensors = [['model.embed_tokens.weight', [shape.vocab, shape.hidden]]];
for (let i = 0; i < layers; i++) {
  const p = `model.layers.${i}.`;
  tensors.push(
    [p + 'input_layernorm.weight', [shape.hidden]],
    [p + 'self_attn.q_proj.weight', [shape.heads * headDim, shape.hidden]],
    [p + 'self_attn.k_proj.weight', [shape.kvHeads * headDim, shape.hidden]],
    [p + 'self_attn.v_proj.weight', [shape.kvHeads * headDim, shape.hidden]],
    [p + 'self_attn.o_proj.weight', [shape.hidden, shape.heads * headDim]],
    [p + 'post_attention_layernorm.weight', [shape.hidden]],
    [p + 'mlp.gate_proj.weight', [shape.ffn, shape.hidden]],
    [p + 'mlp.up_proj.weight', [shape.ffn, shape.hidden]],
    [p + 'mlp.down_proj.weight', [shape.hidden, shape.ffn]],
  );
}
tensors.push(['model.norm.weight', [shape.hidden]], ['lm_head.weight', [shape.vocab, shape.hidden]]);
const count = (s) => s.reduce((a, b) => a * b, 1);
const params = tensors.reduce((n, [, s]) => n + count(s), 0);
const largest = Math.max(...tensors.map(([, s]) => count(s)));

// bfloat16 shards of at most ~1 GiB, random bits from xorshift (small values, std ≈ 0.02; norms near 1).
console.error(`stream bench: writing a ${(params / 1e9).toFixed(2)}B-parameter bf16 checkpoint to ${work}/source`);
const source = join(work, 'source');
fs.mkdirSync(source);
let state = 2463534242;
const shards = [];
let current = [];
let bytes = 0;
for (const t of tensors) {
  if (current.length && bytes + count(t[1]) * 2 > 2 ** 30) { shards.push(current); current = []; bytes = 0; }
  current.push(t);
  bytes += count(t[1]) * 2;
}
shards.push(current);
const weightMap = {};
const generated = performance.now();
shards.forEach((list, s) => {
  const name = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`;
  const header = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [n, sh] of list) { header[n] = { dtype: 'BF16', shape: sh, data_offsets: [offset, offset + count(sh) * 2] }; offset += count(sh) * 2; weightMap[n] = name; }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const fd = fs.openSync(join(source, name), 'w');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  fs.writeSync(fd, len);
  fs.writeSync(fd, json);
  for (const [n, sh] of list) {
    const out = new Uint16Array(count(sh));
    const norm = n.endsWith('norm.weight');
    for (let i = 0; i < out.length; i++) {
      state ^= state << 13; state ^= state >>> 17; state ^= state << 5;
      // bf16 bits: sign, exponent 2^-6 or 2^-7 (or 2^0 for norms), random mantissa
      out[i] = norm ? 0x3f80 | (state & 0x0f) : (state & 0x8000) | (((state >>> 16) & 1 ? 0x3c : 0x3c - 1) << 7) | (state & 0x7f);
    }
    fs.writeSync(fd, new Uint8Array(out.buffer));
  }
  fs.closeSync(fd);
});
fs.writeFileSync(join(source, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
fs.writeFileSync(join(source, 'config.json'), JSON.stringify(config, null, 2));
// A tokenizer.json covering the whole vocabulary (Llama-style byte fallback, then placeholder pieces), so generate can decode any id.
const vocab = {};
for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = b;
for (let id = 256; id < shape.vocab; id++) vocab[`<extra_${id}>`] = id;
fs.writeFileSync(join(source, 'tokenizer.json'), JSON.stringify({
  version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null, pre_tokenizer: null, post_processor: null,
  decoder: { type: 'Sequence', decoders: [{ type: 'ByteFallback' }, { type: 'Fuse' }] },
  model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: true, vocab, merges: [] },
}));
const sourceBytes = shards.flat().reduce((n, [, s]) => n + count(s) * 2, 0);
console.error(`stream bench: source written in ${((performance.now() - generated) / 1000).toFixed(1)} s`);

const commands = [];
function run(args) {
  commands.push(`node packages/cli/dist/bin.js ${args.join(' ').replaceAll(work, '$TMP')}`);
  console.error(`stream bench: ${args.slice(0, 2).join(' ')}`);
  for (let attempt = 1; ; attempt++) {
    const r = spawnSync(process.execPath, [cli, ...args, '--json'], { cwd: root, encoding: 'utf8', maxBuffer: 16 << 20 });
    const line = (r.stdout ?? '').trim().split('\n').filter((l) => l.startsWith('{')).pop();
    if (r.status === 0 && line) return JSON.parse(line);
    // A concurrent `pnpm build` of another package empties its dist/ for a moment: wait and retry.
    if (/ERR_MODULE_NOT_FOUND/.test(r.stderr ?? '') && attempt < 4) {
      console.error('stream bench: a package dist/ is being rebuilt; retrying in 30 s');
      spawnSync('sleep', ['30']);
      continue;
    }
    return { error: `exited with ${r.status}: ${(r.stderr ?? '').trim().split('\n').pop().slice(0, 200)}` };
  }
}
const transforms = [
  // Width: hidden 2048 → 3072 with heads 16 → 24 and KV heads 4 → 6 (head_dim 128 kept), function-preserving (fpi).
  ['grow --hidden 3072 --heads 24 --kv-heads 6', ['grow', source, '--out', join(work, 'wide'), '--hidden', '3072', '--heads', '24', '--kv-heads', '6', '--stream', '--shard-mb', '2048']],
  [`grow --layers ${layers + layers / 5} --depth-method copy`, ['grow', source, '--out', join(work, 'deep'), '--layers', String(layers + layers / 5), '--depth-method', 'copy', '--stream', '--shard-mb', '2048']],
  [`upcycle --experts ${experts} --top-k 2`, ['upcycle', source, '--out', join(work, 'moe'), '--experts', String(experts), '--top-k', '2', '--stream', '--shard-mb', '2048']],
  [`lowrank --rank ${rank}`, ['lowrank', source, '--out', join(work, 'lowrank'), '--rank', String(rank), '--stream', '--shard-mb', '2048']],
].map(([label, args]) => {
  const r = run(args);
  fs.rmSync(args[3], { recursive: true, force: true });
  return [label, r];
});
// Loading the whole model for use (tensor by tensor into tfjs, float32) and one greedy token.
const loadStarted = performance.now();
const gen = run(['generate', source, '--prompt', 'a', '--tokens', '1', '--temperature', '0']);
if (!gen.error) gen.wall_s = (performance.now() - loadStarted) / 1000;
fs.rmSync(work, { recursive: true, force: true });

const gb = (b) => (b / 2 ** 30).toFixed(2);
const target = 1.5;
const row = (label, r) => r.error
  ? `| ${label} | not measured: ${r.error.replace(/\|/g, '/')} | | | | | |`
  : `| ${label} --stream | ${(r.paramsBefore / 1e9).toFixed(2)}B → ${(r.paramsAfter / 1e9).toFixed(2)}B | ${r.dtype} | ${r.shards} | ${gb(r.bytes)} | ${r.wall_s.toFixed(1)} | ${(r.peak_rss_mb / 1024).toFixed(2)} ${r.peak_rss_mb / 1024 < target ? '(met)' : '(**missed**)'} |`;
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(`## Streamed transforms on a ${(params / 1e9).toFixed(2)}B-parameter checkpoint

\`node tools/bench/stream.mjs\` (BENCH_LAYERS=${layers}, BENCH_EXPERTS=${experts}, BENCH_RANK=${rank}); ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, shared machine (load average ${os.loadavg().map((l) => l.toFixed(1)).join(', ')} at the end).
Source: synthetic Llama (${layers} layers, hidden ${shape.hidden}, ${shape.heads} heads / ${shape.kvHeads} KV, FFN ${shape.ffn}, vocab ${shape.vocab}), bfloat16 in ${shards.length} shards (${gb(sourceBytes)} GiB), as transformers writes it; outputs keep bfloat16, in shards of at most 2 GiB. Largest tensor: ${(largest * 4 / 2 ** 20).toFixed(0)} MiB as float32.
Peak RSS is the command's own \`process.resourceUsage().maxRSS\` (Node, tfjs and its backend loaded, everything); target: under ${target} GiB for the width growth and the low-rank conversion (issue 21). Wall times are on a shared machine: memory, not speed, is what this section measures.

| command | parameters | stored | shards written | GiB written | wall s | peak RSS GiB |
| --- | --- | --- | ---: | ---: | ---: | ---: |
${transforms.map(([label, r]) => row(label, r)).join('\n')}
${gen.error ? `| generate --tokens 1 | not measured: ${gen.error.replace(/\|/g, '/')} | | | | | |` : `| generate --tokens 1 (loads all ${(params / 1e9).toFixed(2)}B as float32: ${gb(params * 4)} GiB) | ${(params / 1e9).toFixed(2)}B | F32 in memory | | 0 | ${gen.wall_s.toFixed(1)} | ${(gen.peak_rss_mb / 1024).toFixed(2)} |`}

Commands: ${commands.map((c) => `\`${c}\``).join('; ')} ($TMP: a scratch directory under the OS temp dir).
`);
