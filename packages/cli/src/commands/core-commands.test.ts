import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { llamaConfig, readSafetensors, writeSafetensors } from '@efficientscale/core/node';
import { cli } from './test-util.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const hfReference = path.resolve(here, '../../../../../shared/data/hf-reference');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-cli-'));
const corpus = path.join(tmp, 'corpus.txt');
const configFile = path.join(tmp, 'config.json');
const run = path.join(tmp, 'run');
const quick = ['--config', configFile, '--corpus', corpus, '--batch', '2', '--seq', '16', '--backend', 'cpu'];

/** Copies a checkpoint dir so a test can damage the copy. */
function copyCheckpoint(name: string): string {
  const dir = path.join(tmp, name);
  fs.cpSync(path.join(run, 'checkpoint'), dir, { recursive: true });
  return dir;
}

beforeAll(async () => {
  fs.writeFileSync(corpus, 'It was the best of times, it was the worst of times, it was the age of wisdom.\n'.repeat(60));
  fs.writeFileSync(configFile, JSON.stringify(llamaConfig({ vocab: 256, hidden: 16, ffn: 32, layers: 1, heads: 2, maxPositions: 64 })));
  const r = await cli('train', ...quick, '--steps', '3', '--out', run, '--json');
  expect(r.code, r.stderr).toBe(0);
});

describe('efficientscale train / eval / generate', () => {
  it('train --json reports losses, tokens, FLOPs and the backend, and writes an HF-layout checkpoint', async () => {
    const dir = path.join(tmp, 'run2');
    const r = await cli('train', ...quick, '--steps', '2', '--out', dir, '--json');
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout.trim());
    expect(summary).toMatchObject({ backend: 'cpu', steps: 2, tokens: 2 * 2 * 16 });
    expect(summary.eval_loss).toBeGreaterThan(0);
    expect(summary.flops).toBeGreaterThan(0);
    const ckpt = path.join(dir, 'checkpoint');
    expect(fs.readdirSync(ckpt).sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'optimizer.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'trainer_state.json']);
    const config = JSON.parse(fs.readFileSync(path.join(ckpt, 'config.json'), 'utf8'));
    expect(config.architectures).toEqual(['LlamaForCausalLM']);
    expect(config.model_type).toBe('llama');
    // The file as any safetensors reader sees it: u64 header length, JSON header, data.
    const bytes = fs.readFileSync(path.join(ckpt, 'model.safetensors'));
    const n = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
    expect(header.__metadata__).toEqual({ format: 'pt' });
    expect(header['model.embed_tokens.weight']).toMatchObject({ dtype: 'F32', shape: [256, 16] });
    const metrics = fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics.map((m) => m.step)).toEqual([1, 2]);
    expect(Object.keys(metrics[0])).toEqual(expect.arrayContaining(['step', 'tokens', 'flops', 'loss', 'lr', 'tokens_per_s', 'wall_s', 'params']));
  });

  it('eval --json and generate work on the run directory', async () => {
    const e = await cli('eval', run, '--corpus', corpus, '--batch', '2', '--seq', '16', '--batches', '2', '--backend', 'cpu', '--json');
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout).eval_loss).toBeGreaterThan(0);
    const g = await cli('generate', run, '--prompt', 'It was', '--tokens', '5', '--backend', 'cpu');
    expect(g.code, g.stderr).toBe(0);
    expect(g.stdout.startsWith('It was')).toBe(true);
  });

  it('train --tokenizer gpt2 sizes the vocabulary to GPT-2 BPE, and eval and generate use it', async () => {
    const dir = path.join(tmp, 'bpe');
    const r = await cli('train', '--preset', 'tiny', '--tokenizer', 'gpt2', '--corpus', corpus, '--batch', '2', '--seq', '8', '--steps', '2', '--out', dir, '--backend', 'cpu', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ tokenizer: 'gpt2', steps: 2, tokens: 32 });
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint', 'config.json'), 'utf8')).vocab_size).toBe(50257);
    const e = await cli('eval', dir, '--corpus', corpus, '--batch', '1', '--seq', '8', '--batches', '2', '--backend', 'cpu', '--json');
    expect(e.code, e.stderr).toBe(0);
    const g = await cli('generate', dir, '--prompt', 'It was the', '--tokens', '3', '--backend', 'cpu');
    expect(g.code, g.stderr).toBe(0);
    expect(g.stdout.startsWith('It was the')).toBe(true);
  });

  it('train --resume continues to more steps', async () => {
    const dir = path.join(tmp, 'resumable');
    expect((await cli('train', ...quick, '--steps', '2', '--out', dir, '--json')).code).toBe(0);
    const r = await cli('train', '--resume', dir, '--steps', '4', '--corpus', corpus, '--backend', 'cpu', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).steps).toBe(4);
  });
});

describe('the README main job', () => {
  it('pipeline plans/quick.json reaches its scratch baseline\'s final loss with less compute and writes the report', async () => {
    const out = path.join(tmp, 'quick');
    const r = await cli('pipeline', path.resolve(here, '../../../../plans/quick.json'), '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const { report, complete } = JSON.parse(r.stdout.trim());
    expect(complete).toBe(true);
    expect(report.saving.saving).toBeGreaterThan(0.3);
    expect(report.pipelineFinalLoss).toBeLessThan(report.saving.targetLoss);
    for (const f of ['report.md', 'loss-vs-tokens.svg', 'loss-vs-flops.svg']) expect(fs.existsSync(path.join(out, f)), f).toBe(true);
  }, 900_000);

  it('train --preset tiny --json ends below the corpus unigram entropy', async () => {
    const r = await cli('train', '--preset', 'tiny', '--out', path.join(tmp, 'tiny'), '--json');
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout.trim());
    expect(summary.steps).toBe(120);
    expect(summary.eval_loss).toBeLessThan(summary.unigram_entropy - 0.3);
    expect(fs.existsSync(summary.plot)).toBe(true);
  }, 600_000);
});

describe('efficientscale forward', () => {
  it('reproduces the transformers logits of llama-tiny within 1e-4', async () => {
    const out = path.join(tmp, 'logits.safetensors');
    const dir = path.join(hfReference, 'llama-tiny');
    const r = await cli('forward', dir, '--input', path.join(dir, 'reference.safetensors'), '--out', out, '--backend', 'cpu');
    expect(r.code, r.stderr).toBe(0);
    const got = readSafetensors(out).tensors.logits;
    const want = readSafetensors(path.join(dir, 'reference.safetensors')).tensors.logits;
    expect(got.shape).toEqual(want.shape);
    let max = 0;
    for (let i = 0; i < want.data.length; i++) max = Math.max(max, Math.abs(got.data[i] - want.data[i]));
    expect(max).toBeLessThan(1e-4);
  });
});

describe('bad input gets one clear line and a non-zero exit, and changes no file', () => {
  const expectOneLineError = (r: { code: number; stderr: string }, pattern: RegExp) => {
    expect(r.code).not.toBe(0);
    const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('backend') && !l.startsWith('('));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(pattern);
  };

  it('unknown flag', async () => {
    expectOneLineError(await cli('train', '--bogus'), /unknown option '--bogus'/);
  });

  it('bad number', async () => {
    expectOneLineError(await cli('train', '--steps', 'zero'), /--steps.*Expected a positive integer, found "zero"/);
  });

  it('missing checkpoint', async () => {
    expectOneLineError(await cli('eval', path.join(tmp, 'nope'), '--backend', 'cpu'), /nope.*expected .*found/);
  });

  it('truncated model.safetensors', async () => {
    const dir = copyCheckpoint('truncated');
    const file = path.join(dir, 'model.safetensors');
    fs.truncateSync(file, fs.statSync(file).size - 100);
    const before = fs.readFileSync(file);
    expectOneLineError(await cli('eval', dir, '--backend', 'cpu'), /model\.safetensors.*expected.*found/);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });

  it('header length past the end of the file', async () => {
    const dir = copyCheckpoint('header');
    const file = path.join(dir, 'model.safetensors');
    const bytes = fs.readFileSync(file);
    bytes.writeBigUInt64LE(BigInt(bytes.length * 2), 0);
    fs.writeFileSync(file, bytes);
    expectOneLineError(await cli('eval', dir, '--backend', 'cpu'), /model\.safetensors.*header.*expected.*found/i);
  });

  it('a weight with the wrong dtype', async () => {
    const dir = copyCheckpoint('dtype');
    const file = path.join(dir, 'model.safetensors');
    const tensors = readSafetensors(file).tensors;
    const w = tensors['model.norm.weight'];
    tensors['model.norm.weight'] = { dtype: 'I32', shape: w.shape, data: new Int32Array(w.data.length) };
    writeSafetensors(file, tensors);
    expectOneLineError(await cli('eval', dir, '--backend', 'cpu'), /weight "model.norm.weight": expected a floating-point tensor.*found I32/);
  });

  it('a weight whose shape disagrees with config.json', async () => {
    const dir = copyCheckpoint('shape');
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...cfg, intermediate_size: 40 }));
    expectOneLineError(await cli('eval', dir, '--backend', 'cpu'), /mlp\.down_proj\.weight|mlp\.gate_proj\.weight.*expected shape \[40,16\].*found \[32,16\]/);
  });

  it('a config with impossible shapes', async () => {
    const bad = path.join(tmp, 'bad-config.json');
    fs.writeFileSync(bad, JSON.stringify({ ...llamaConfig({ vocab: 256, hidden: 16, ffn: 32, layers: 1, heads: 2 }), num_attention_heads: 3, head_dim: undefined }));
    expectOneLineError(await cli('train', '--config', bad, '--corpus', corpus, '--steps', '1', '--out', path.join(tmp, 'never'), '--backend', 'cpu'), /bad-config\.json: "num_attention_heads": expected a divisor of hidden_size \(16\).*found 3/);
    expect(fs.existsSync(path.join(tmp, 'never'))).toBe(false);
  });

  it('training over an existing run is refused and the run is left as it was', async () => {
    const before = fs.readFileSync(path.join(run, 'checkpoint', 'model.safetensors'));
    expectOneLineError(await cli('train', ...quick, '--steps', '1', '--out', run), /expected a new or empty run directory/);
    expect(fs.readFileSync(path.join(run, 'checkpoint', 'model.safetensors')).equals(before)).toBe(true);
  });

  it('forward with input ids outside the vocabulary', async () => {
    const input = path.join(tmp, 'bad-ids.safetensors');
    writeSafetensors(input, { input_ids: { dtype: 'I32', shape: [1, 2], data: Int32Array.from([1, 999]) } });
    const out = path.join(tmp, 'kept.safetensors');
    fs.writeFileSync(out, 'precious');
    expectOneLineError(await cli('forward', run + '/checkpoint', '--input', input, '--out', out, '--backend', 'cpu', '--force'), /input_ids\[1\]: expected a token id in \[0, 256\), found 999/);
    expect(fs.readFileSync(out, 'utf8')).toBe('precious');
  });
});
