import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { llamaConfig, loadModel, saveModel, tf } from '@efficientscale/core/node';
import { cli } from './test-util.js';

/** `train --init-from`: a new run from any checkpoint's weights (and moments), counters at 0. */
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-init-from-'));
const corpus = path.join(tmp, 'corpus.txt');
const configFile = path.join(tmp, 'config.json');
const run = path.join(tmp, 'run');
const weights = path.join(tmp, 'weights');
const quick = ['--corpus', corpus, '--batch', '2', '--seq', '16', '--backend', 'cpu', '--json'];
const state = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint', 'trainer_state.json'), 'utf8'));
const config = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));

async function ok(...args: string[]): Promise<Record<string, unknown>> {
  const r = await cli(...args);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

/** The one error line (the backend line aside). */
async function refused(...args: string[]): Promise<string> {
  const r = await cli(...args);
  expect(r.code).not.toBe(0);
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('backend') && !l.startsWith('(run with --help'));
  expect(lines, r.stderr).toHaveLength(1);
  return lines[0];
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  fs.writeFileSync(corpus, 'It was the best of times, it was the worst of times, it was the age of wisdom.\n'.repeat(60));
  fs.writeFileSync(configFile, JSON.stringify(llamaConfig({ vocab: 256, hidden: 16, ffn: 32, layers: 2, heads: 2, maxPositions: 64 })));
  await ok('train', '--config', configFile, '--steps', '3', '--out', run, ...quick);
  // The run's weights alone (with its tokenizer): what lowrank and export take today.
  const model = loadModel(path.join(run, 'checkpoint'));
  saveModel(weights, model.config, model.params, path.join(run, 'checkpoint'));
  tf.dispose(Object.values(model.params));
});

describe('train --init-from', () => {
  it('trains the outputs of lowrank, export --dense and grow --stream; --resume cannot take lowrank\'s (it says to use --init-from)', async () => {
    const low = path.join(tmp, 'low');
    const dense = path.join(tmp, 'dense');
    const deep = path.join(tmp, 'deep');
    await ok('lowrank', weights, '--out', low, '--rank', '4', '--no-keep-first-dense', '--backend', 'cpu', '--json');
    await ok('export', low, '--out', dense, '--dense', '--backend', 'cpu', '--json');
    await ok('grow', path.join(run, 'checkpoint'), '--out', deep, '--layers', '3', '--depth-method', 'copy', '--stream', '--json');
    for (const from of [low, dense, deep]) {
      const out = `${from}-run`;
      const r = await ok('train', '--init-from', from, '--steps', '2', '--out', out, ...quick);
      expect(r).toMatchObject({ steps: 2, tokens: 2 * 2 * 16, tokenizer: 'byte' });
      expect(config(path.join(out, 'checkpoint')).efficientscale).toEqual(config(from).efficientscale);
      expect(config(path.join(out, 'checkpoint')).num_hidden_layers).toBe(config(from).num_hidden_layers);
    }
    expect(await refused('train', '--resume', low, '--steps', '2', '--out', path.join(tmp, 'nope'), ...quick)).toMatch(/expected a trainer state written by efficientscale train \(to start a new run from its weights: --init-from\), found no such file/);
  });

  it('from a run: its AdamW moments and their Adam step come along, the new run counts its own steps from 0', async () => {
    const out = path.join(tmp, 'continued');
    await ok('train', '--init-from', run, '--steps', '2', '--out', out, ...quick);
    expect(state(out)).toMatchObject({ step: 2, tokens: 64, optimizerStep: 5 });
    expect(fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).step)).toEqual([1, 2]);
  });

  it('refuses flags that would shape another model, and --resume beside it, in one line', async () => {
    for (const [flag, ...rest] of [['--config', configFile], ['--ffn', 'lowrank', '--rank', '2'], ['--progressive'], ['--resume', run]]) {
      expect(await refused('train', '--init-from', run, flag, ...rest, '--steps', '1', '--out', path.join(tmp, 'never'), ...quick)).toContain(`--init-from: expected no ${flag} beside it`);
    }
    expect(await refused('train', '--init-from', path.join(tmp, 'missing'), '--steps', '1', '--out', path.join(tmp, 'never'), ...quick)).toMatch(/missing: expected a checkpoint directory, found nothing at that path/);
    expect(fs.existsSync(path.join(tmp, 'never'))).toBe(false);
  });
});

describe('train --resume', () => {
  it('of a grown checkpoint to fewer steps than it holds is refused in one line and writes nothing (it crashed on metrics.jsonl)', async () => {
    const grown = path.join(tmp, 'grown');
    await ok('grow', run, '--out', grown, '--layers', '3', '--backend', 'cpu', '--json');
    const before = fs.readdirSync(grown).sort();
    expect(await refused('train', '--resume', grown, '--steps', '2', ...quick)).toContain("steps to train to (--steps): expected more than the checkpoint's 3 steps, found 2");
    expect(fs.readdirSync(grown).sort()).toEqual(before);
  });
});

describe('flag messages', () => {
  it('--grow-at 1.5 says what each fraction must be', async () => {
    expect(await refused('train', '--progressive', '--grow-at', '1.5')).toContain('--grow-at: expected a comma-separated list of fractions in (0, 1), found "1.5"');
    expect(await refused('train', '--progressive', '--grow-at', '0.5,2')).toContain('found "0.5,2" ("2" is not one)');
  });
});
