import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { learningRate, llamaConfig, tf } from '@efficientscale/core';
import { cli } from './test-util.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-train-resume-'));
const corpus = path.join(tmp, 'corpus.txt');
const configFile = path.join(tmp, 'config.json');
const run = path.join(tmp, 'run');
const quick = ['--corpus', corpus, '--backend', 'cpu'];
const metricsOf = (dir: string) => fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8');
const stateOf = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint', 'trainer_state.json'), 'utf8'));

beforeAll(async () => {
  await tf.setBackend('cpu');
  fs.writeFileSync(corpus, 'It was the best of times, it was the worst of times.\n'.repeat(40));
  fs.writeFileSync(configFile, JSON.stringify(llamaConfig({ vocab: 256, hidden: 16, ffn: 32, layers: 1, heads: 2, maxPositions: 32 })));
  const r = await cli('train', '--config', configFile, ...quick, '--batch', '2', '--seq', '8', '--steps', '4', '--lr', '0.002', '--seed', '3', '--out', run, '--json');
  expect(r.code, r.stderr).toBe(0);
});

/** Exit 1 with one error line (besides the backend line), and the run left as it was. */
async function refused(args: string[], pattern: RegExp): Promise<void> {
  const metrics = metricsOf(run);
  const state = fs.readFileSync(path.join(run, 'checkpoint', 'trainer_state.json'));
  const r = await cli('train', '--resume', run, ...quick, ...args);
  expect(r.code, r.stderr).toBe(1);
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('backend: '));
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(metricsOf(run)).toBe(metrics);
  expect(fs.readFileSync(path.join(run, 'checkpoint', 'trainer_state.json')).equals(state)).toBe(true);
}

describe('train --resume refuses flags it would ignore, naming the stored value', () => {
  it.each([
    [['--lr', '0.1'], /^error: --lr 0\.1 with --resume: expected no --lr: a resumed run keeps its stored peak learning rate 0\.002, found --lr 0\.1$/],
    [['--batch', '4'], /expected no --batch: a resumed run keeps its stored batch of 2 sequences, found --batch 4$/],
    [['--seed', '9'], /expected no --seed: a resumed run keeps its stored seed 3, found --seed 9$/],
    [['--schedule', 'wsd'], /expected no --schedule: a resumed run keeps its stored cosine schedule, found --schedule wsd$/],
    [['--preset', 'tiny'], /^error: --preset tiny with --resume: expected no --preset: a resumed run keeps the model and settings it was started with/],
    [['--seq', '16'], /keeps its stored sequence length 8/],
    [['--tokens', '1000'], /expected no --tokens: a resumed run keeps --steps, the total number of steps \(it has done 4 of 4\)/],
    [['--progressive'], /^error: --progressive with --resume: expected no --progressive/],
  ])('%j', async (args, pattern) => {
    await refused(args, pattern);
  });

  it('a flag that repeats the stored value passes', async () => {
    const copy = path.join(tmp, 'same-flags');
    fs.cpSync(run, copy, { recursive: true });
    const r = await cli('train', '--resume', copy, ...quick, '--lr', '0.002', '--batch', '2', '--seed', '3', '--steps', '5', '--json');
    expect(r.code, r.stderr).toBe(0);
  });

  it('--steps at or below the steps done is refused: on a resume it is the total', async () => {
    await refused(['--steps', '2'], /^error: steps to train to \(--steps\): expected more than the checkpoint's 4 steps, found 2$/);
    await refused([], /^error: steps to train to \(--steps\): expected more than the checkpoint's 4 steps, found 4$/);
  });

  it('--help says that --steps is the total on a resume', async () => {
    const r = await cli('train', '--help');
    expect(r.stdout.replace(/\s+/g, ' ')).toContain('with --resume: the total to reach, counting the steps already done');
  });

  it('extending a finished run says how the learning rate changes', async () => {
    const copy = path.join(tmp, 'extended');
    fs.cpSync(run, copy, { recursive: true });
    const schedule = stateOf(copy).spec.trainer.schedule;
    const r = await cli('train', '--resume', copy, ...quick, '--steps', '8', '--json');
    expect(r.code, r.stderr).toBe(0);
    const now = learningRate({ ...schedule, total: 8 }, 4).toExponential(1);
    const ended = learningRate(schedule, 3).toExponential(1);
    expect(now).not.toBe(ended);
    expect(r.stderr).toContain(`schedule extended: cosine over 8 steps instead of 4; the learning rate at step 5 is ${now} (where the old schedule ended at ${ended})`);
    const lrs = metricsOf(copy).trim().split('\n').map((l) => JSON.parse(l).lr as number);
    expect(lrs[4].toExponential(1)).toBe(now);
  });
});

describe('numbers and values', () => {
  it.each(['0x10', '0b11', '1_000', ' ', '', '16abc', 'Infinity'])('--steps %j is a usage error', async (value) => {
    const r = await cli('train', '--steps', value, '--out', path.join(tmp, 'never'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`Expected a positive integer, found "${value}".`);
    expect(fs.existsSync(path.join(tmp, 'never'))).toBe(false);
  });

  it('decimal forms still read: 16, 1e1 and 2.5e-3', async () => {
    const { positiveInt, positiveNumber } = await import('./numbers.js');
    expect(positiveInt('16')).toBe(16);
    expect(positiveInt('1e1')).toBe(10);
    expect(positiveNumber('2.5e-3')).toBe(0.0025);
    expect(positiveNumber('.5')).toBe(0.5);
  });

  it('rms_norm_eps 1e400 is reported as what it reads as, not "null"', async () => {
    const config = path.join(tmp, 'eps.json');
    fs.writeFileSync(config, fs.readFileSync(configFile, 'utf8').replace(/"rms_norm_eps":\s*[^,}]+/, '"rms_norm_eps": 1e400'));
    expect(fs.readFileSync(config, 'utf8')).toContain('1e400');
    const r = await cli('train', '--config', config, ...quick, '--steps', '1', '--out', path.join(tmp, 'eps-run'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/"rms_norm_eps": expected a positive number, found Infinity \(a number beyond float64's range, e\.g\. 1e400\)/);
  });
});
