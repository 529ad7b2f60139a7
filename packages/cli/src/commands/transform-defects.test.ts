import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { llamaConfig, tf } from '@efficientscale/core';
import { cli } from './test-util.js';

/**
 * The transform defects of issue 21, each on what the toolkit itself writes: checkpoints of `train`
 * (they hold trainer_state.json, optimizer moments and the tokenizer files), `train --ffn lowrank` runs,
 * grown checkpoints and run directories.
 */
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-transform-defects-'));
const corpus = path.join(tmp, 'corpus.txt');
const configFile = path.join(tmp, 'config.json');
const run = path.join(tmp, 'run');
const lowRun = path.join(tmp, 'low-run');
const quick = ['--corpus', corpus, '--batch', '2', '--seq', '16', '--backend', 'cpu'];

async function ok(...args: string[]): Promise<Record<string, unknown>> {
  const r = await cli(...args, '--json');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

/** The one error line of a refused command (exit 1, no stack trace), and nothing written at `out`. */
async function refused(out: string, ...args: string[]): Promise<string> {
  const r = await cli(...args);
  expect(r.code, r.stdout).toBe(1);
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('backend') && !l.startsWith('(run with --help'));
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).not.toMatch(/\bat .*\.(js|ts):\d+/);
  expect(fs.existsSync(out)).toBe(false);
  return lines[0];
}

const bytes = (dir: string) => Object.fromEntries(fs.readdirSync(dir).sort().map((f) => [f, fs.readFileSync(path.join(dir, f)).toString('base64')]));

beforeAll(async () => {
  await tf.setBackend('cpu');
  fs.writeFileSync(corpus, 'It was the best of times, it was the worst of times, it was the age of wisdom.\n'.repeat(60));
  fs.writeFileSync(configFile, JSON.stringify(llamaConfig({ vocab: 256, hidden: 16, ffn: 32, layers: 2, heads: 2, maxPositions: 64 })));
  await ok('train', '--config', configFile, '--steps', '3', '--out', run, ...quick);
  await ok('train', '--config', configFile, '--steps', '2', '--out', lowRun, '--ffn', 'lowrank', '--rank', '4', ...quick);
});

describe('transforms take what the toolkit writes', () => {
  it('lowrank and export --dense take a trained checkpoint, its run directory, a grown checkpoint and a train --ffn lowrank run (they refused each with "extra file name ... trainer_state.json")', async () => {
    await ok('lowrank', path.join(run, 'checkpoint'), '--out', path.join(tmp, 'lr-ckpt'), '--rank', '4', '--backend', 'cpu');
    await ok('lowrank', run, '--out', path.join(tmp, 'lr-run'), '--rank', '4', '--backend', 'cpu');
    await ok('grow', run, '--out', path.join(tmp, 'grown'), '--layers', '3', '--backend', 'cpu');
    await ok('lowrank', path.join(tmp, 'grown'), '--out', path.join(tmp, 'lr-grown'), '--rank', '4', '--backend', 'cpu');
    const dense = await ok('export', lowRun, '--dense', '--out', path.join(tmp, 'dense'), '--backend', 'cpu');
    expect(dense).toMatchObject({ layers: [1] });
    await ok('export', path.join(tmp, 'lr-run'), '--dense', '--out', path.join(tmp, 'dense-again'), '--backend', 'cpu');
    // Their outputs carry the tokenizer and no trainer state (they start runs with --init-from).
    for (const out of ['lr-ckpt', 'lr-run', 'dense']) {
      expect(fs.existsSync(path.join(tmp, out, 'tokenizer.json')), out).toBe(true);
      expect(fs.existsSync(path.join(tmp, out, 'trainer_state.json')), out).toBe(false);
    }
    const evaluated = await ok('eval', path.join(tmp, 'lr-run'), ...quick, '--batches', '1');
    expect(evaluated.eval_loss).toBeGreaterThan(0);
  });

  it('upcycle --stream takes a run directory and, for the same --seed, writes the same files as upcycle (stream-upcycle drew its router from another generator and refused run directories)', async () => {
    for (const seed of ['0', '7']) {
      const memory = path.join(tmp, `moe-${seed}`);
      const streamed = path.join(tmp, `moe-${seed}-streamed`);
      const a = await ok('upcycle', run, '--out', memory, '--experts', '4', '--top-k', '2', '--seed', seed, '--noise', '0.01', '--backend', 'cpu');
      const b = await ok('upcycle', run, '--out', streamed, '--experts', '4', '--top-k', '2', '--seed', seed, '--noise', '0.01', '--stream', '--backend', 'cpu');
      expect([a.mode, b.mode]).toEqual(['memory', 'stream']);
      expect(bytes(streamed)).toEqual(bytes(memory));
    }
    expect(bytes(path.join(tmp, 'moe-7'))['model.safetensors']).not.toEqual(bytes(path.join(tmp, 'moe-0'))['model.safetensors']);
  });

  it('grow --stream and lowrank --stream take a run directory too, and write what they write in memory', async () => {
    await ok('grow', run, '--out', path.join(tmp, 'wide'), '--hidden', '32', '--layers', '3', '--width-method', 'lossless', '--seed', '3', '--backend', 'cpu');
    await ok('grow', run, '--out', path.join(tmp, 'wide-s'), '--hidden', '32', '--layers', '3', '--width-method', 'lossless', '--seed', '3', '--stream', '--backend', 'cpu');
    expect(bytes(path.join(tmp, 'wide-s'))).toEqual(bytes(path.join(tmp, 'wide')));
    await ok('lowrank', run, '--out', path.join(tmp, 'lr-s'), '--rank', '4', '--stream', '--backend', 'cpu');
    expect(bytes(path.join(tmp, 'lr-s'))).toEqual(bytes(path.join(tmp, 'lr-run')));
  });
});

describe('refusals say what was expected and what was found, in one line, writing nothing', () => {
  it('lowrank --rank 1000 names the rank asked for (it said "found 16", the clamped rank)', async () => {
    const line = await refused(path.join(tmp, 'x1'), 'lowrank', run, '--out', path.join(tmp, 'x1'), '--rank', '1000', '--backend', 'cpu');
    expect(line).toMatch(/rank: expected a rank below the break-even rank 10\.67 of the \[32, 16\] gate_proj\.weight \(or force\), found 1000 \(16 after clamping to min\(out, in\)\)/);
  });

  it('every transform command', async () => {
    const out = (name: string) => path.join(tmp, name);
    const cases: Array<[string, string[], RegExp]> = [
      ['y1', ['grow', run, '--out', out('y1'), '--hidden', '8'], /new hidden: expected an integer >= the current hidden \(16\); growth never shrinks, found 8/],
      ['y2', ['grow', path.join(tmp, 'nothing-here'), '--out', out('y2'), '--layers', '3'], /nothing-here: expected a checkpoint directory, found nothing at that path/],
      ['y3', ['upcycle', run, '--out', out('y3'), '--experts', '2', '--top-k', '3'], /upcycle topK: expected at most the number of experts \(2\), found 3/],
      ['y4', ['upcycle', run, '--out', out('y4'), '--experts', '2', '--top-k', '1', '--router-init', 'kmeans', '--stream'], /--router-init kmeans: expected no --stream .*, found --stream/],
      ['y5', ['lowrank', run, '--out', out('y5'), '--energy', '0.9', '--stream'], /--energy: expected no --stream .*, found --stream/],
      ['y6', ['lowrank', lowRun, '--out', out('y6'), '--rank', '2'], /toLowRank: expected at least one dense FFN layer to convert, found kinds \[dense, lowrank\] with the first kept dense/],
      ['y7', ['export', run, '--out', out('y7')], /export: expected --dense \(the only export format so far\), found no format flag/],
      ['y8', ['grow', run, '--out', path.join(tmp, 'lr-run'), '--layers', '3'], /--out .*lr-run: expected a new or empty directory, found \d+ entries/],
    ];
    for (const [name, args, message] of cases) {
      const line = await refused(name === 'y8' ? out('never') : out(name), ...args, '--backend', 'cpu');
      expect(line, args.join(' ')).toMatch(message);
      expect(line).toMatch(/: expected .+, found .+/);
    }
  });
});
