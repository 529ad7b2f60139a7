import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { llamaConfig } from '@efficientscale/core';
import { cli } from './test-util.js';

// A trained run grown on disk (`grow`), then evaluated and resumed (`eval`, `train --resume`): what a user
// does between stages. The growth must not move the loss, and training must go on without a spike.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-grow-resume-'));
const corpus = path.join(tmp, 'corpus.txt');
const configFile = path.join(tmp, 'config.json');
const config = llamaConfig({ vocab: 256, hidden: 16, ffn: 32, layers: 2, heads: 2, maxPositions: 64 });
const text = 'It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness.\n'.repeat(80);
const common = ['--corpus', corpus, '--backend', 'cpu', '--json'];
const metrics = (dir: string) => fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const evalLoss = async (dir: string) => {
  const r = await cli('eval', dir, ...common, '--batches', '4', '--batch', '4', '--seq', '32');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).eval_loss as number;
};

beforeAll(async () => {
  fs.writeFileSync(corpus, text);
  fs.writeFileSync(configFile, JSON.stringify(config));
  const r = await cli('train', '--config', configFile, ...common, '--steps', '30', '--batch', '4', '--seq', '32', '--lr', '0.01', '--schedule', 'constant', '--out', path.join(tmp, 'run'));
  expect(r.code, r.stderr).toBe(0);
}, 120_000);

describe('a run grown on disk, evaluated and resumed', () => {
  it('lossless width + zero depth: the same eval loss, the same loss on the next batch, and no spike after the first update', async () => {
    const run = path.join(tmp, 'run');
    const grown = path.join(tmp, 'grown');
    const g = await cli('grow', run, '--out', grown, '--hidden', '32', '--ffn', '64', '--layers', '4', '--width-method', 'lossless', '--depth-method', 'zero', '--backend', 'cpu', '--json');
    expect(g.code, g.stderr).toBe(0);
    expect(JSON.parse(g.stdout)).toMatchObject({ exact: true, optimizerState: true });

    const [before, after] = [await evalLoss(run), await evalLoss(grown)];
    expect(Math.abs(after - before)).toBeLessThan(1e-4);

    // The same 5 more steps from the grown and from the original checkpoint.
    for (const dir of [grown, run]) {
      const r = await cli('train', '--resume', dir, '--steps', '35', ...common);
      expect(r.code, r.stderr).toBe(0);
    }
    // The grown checkpoint is a directory of its own: its metrics.jsonl starts at step 31.
    const [a, b] = [grown, run].map((dir) => metrics(dir).filter((m) => m.step > 30));
    expect(a.map((m) => m.step)).toEqual([31, 32, 33, 34, 35]);
    expect(b.map((m) => m.step)).toEqual([31, 32, 33, 34, 35]);
    // step 31 is logged before its update: the grown model computes the original's function
    expect(Math.abs(a[0].loss - b[0].loss)).toBeLessThan(1e-4);
    // after the updates, the wider model trains at least about as well as the original (no spike)
    for (let i = 1; i < 5; i++) expect(a[i].loss, `step ${31 + i}`).toBeLessThan(b[i].loss * 1.05);
    console.log('losses after growth (grown / original):', a.map((m, i) => `${m.loss.toFixed(4)}/${b[i].loss.toFixed(4)}`).join(' '));
  }, 240_000);
});
