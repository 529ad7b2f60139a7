import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { llamaConfig, readSafetensors, tf, writeSafetensors } from '@efficientscale/core/node';
import { cli } from './test-util.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-outputs-'));
const corpus = path.join(tmp, 'corpus.txt');
const configFile = path.join(tmp, 'config.json');
const run = path.join(tmp, 'run');
const weights = path.join(run, 'checkpoint', 'model.safetensors');
const input = path.join(tmp, 'in.safetensors');
/** A run directory whose metrics.jsonl logs an MoE model's expert load (what expert-load reads). */
const moeRun = path.join(tmp, 'moe-run');
const quick = ['--config', configFile, '--corpus', corpus, '--batch', '2', '--seq', '8', '--backend', 'cpu'];

beforeAll(async () => {
  await tf.setBackend('cpu');
  fs.writeFileSync(corpus, 'It was the best of times, it was the worst of times.\n'.repeat(40));
  fs.writeFileSync(configFile, JSON.stringify(llamaConfig({ vocab: 256, hidden: 16, ffn: 32, layers: 1, heads: 2, maxPositions: 32 })));
  const r = await cli('train', ...quick, '--steps', '1', '--out', run, '--json');
  expect(r.code, r.stderr).toBe(0);
  fs.mkdirSync(moeRun);
  const record = (step: number) => ({ step, tokens: 64 * step, flops: 1e6 * step, loss: 3, ffn_metrics: { expert_load: { 0: [0.5, 0.3, 0.2, 0] } } });
  fs.writeFileSync(path.join(moeRun, 'metrics.jsonl'), [1, 2].map((s) => JSON.stringify(record(s)) + '\n').join(''));
  writeSafetensors(input, { input_ids: { dtype: 'I32', shape: [1, 3], data: new Int32Array([72, 105, 33]) } });
});

/** Exit 1 and one error line (besides the line naming the backend). */
function oneLine(r: { code: number; stderr: string }, pattern: RegExp): void {
  expect(r.code).toBe(1);
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('backend: '));
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

describe('forward --out', () => {
  it("refuses a checkpoint's own weights, even with --force, and leaves their bytes as they were", async () => {
    const before = fs.readFileSync(weights);
    for (const force of [[], ['--force']]) {
      const r = await cli('forward', run, '--input', input, '--out', weights, '--backend', 'cpu', ...force);
      oneLine(r, /^error: --out .*model\.safetensors: expected a file outside any checkpoint directory, found a path inside the checkpoint .*checkpoint$/);
      expect(fs.readFileSync(weights).equals(before)).toBe(true);
    }
    const beside = path.join(run, 'checkpoint', 'logits.safetensors');
    oneLine(await cli('forward', run, '--input', input, '--out', beside, '--backend', 'cpu'), /inside the checkpoint/);
    expect(fs.existsSync(beside)).toBe(false);
    const e = await cli('eval', run, '--corpus', corpus, '--batch', '1', '--seq', '8', '--batches', '1', '--backend', 'cpu', '--json');
    expect(e.code, e.stderr).toBe(0);
  });

  it('refuses to replace an existing file unless --force', async () => {
    const out = path.join(tmp, 'logits.safetensors');
    fs.writeFileSync(out, 'precious');
    oneLine(await cli('forward', run, '--input', input, '--out', out, '--backend', 'cpu'), /^error: --out .*logits\.safetensors: expected a new file \(pass --force to replace it\), found an existing file$/);
    expect(fs.readFileSync(out, 'utf8')).toBe('precious');
    const r = await cli('forward', run, '--input', input, '--out', out, '--backend', 'cpu', '--force');
    expect(r.code, r.stderr).toBe(0);
    expect(readSafetensors(out).tensors.logits.shape).toEqual([1, 3, 256]);
  });
});

describe('report and expert-load --out', () => {
  it('report refuses a file as its directory and existing plots unless --force', async () => {
    const file = path.join(tmp, 'a-file');
    fs.writeFileSync(file, 'x');
    oneLine(await cli('report', run, '--out', file), /^error: --out .*a-file: expected a directory, found a file$/);
    const plots = path.join(tmp, 'plots');
    expect((await cli('report', run, '--out', plots)).code).toBe(0);
    const svg = fs.readFileSync(path.join(plots, 'loss-vs-tokens.svg'));
    oneLine(await cli('report', run, '--out', plots), /loss-vs-tokens\.svg: expected a new file \(pass --force to replace it\)/);
    expect(fs.readFileSync(path.join(plots, 'loss-vs-tokens.svg')).equals(svg)).toBe(true);
    expect((await cli('report', run, '--out', plots, '--force')).code).toBe(0);
  });

  it('expert-load refuses a file as its directory', async () => {
    const file = path.join(tmp, 'another-file');
    fs.writeFileSync(file, 'x');
    oneLine(await cli('expert-load', moeRun, '--out', file), /^error: --out .*another-file: expected a directory, found a file$/);
  });
});

describe('paths under /proc and /sys', () => {
  it.each([
    ['train', ['train', ...quick, '--steps', '1', '--out', '/proc/x']],
    ['forward', ['forward', run, '--input', input, '--out', '/proc/x/logits.safetensors', '--backend', 'cpu']],
    ['report', ['report', run, '--out', '/proc/x']],
    ['expert-load', ['expert-load', moeRun, '--out', '/sys/x']],
  ])('%s --out refuses them at once', async (_name, args) => {
    const started = performance.now();
    oneLine(await cli(...args), /expected a path outside \/proc and \/sys, found a path under \/(proc|sys)$/);
    expect(performance.now() - started).toBeLessThan(10_000);
  }, 20_000);
});

describe('a file where a directory should be', () => {
  it('train --out a-file/sub is one line naming the file', async () => {
    const file = path.join(tmp, 'plain');
    fs.writeFileSync(file, 'x');
    oneLine(await cli('train', ...quick, '--steps', '2', '--out', path.join(file, 'sub')), /^error: --out .*plain\/sub: expected a path below directories only, found .*plain, a file$/);
  });
});
