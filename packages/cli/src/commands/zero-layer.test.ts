import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { llamaConfig } from '@efficientscale/core';
import { cli } from './test-util.js';

// A 0-layer model (embeddings → final norm → head) is where zero-layer progressive training starts; a
// checkpoint taken before the first growth is one, and the commands that read checkpoints take it.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-zero-layer-'));
const corpus = path.join(tmp, 'corpus.txt');
const configFile = path.join(tmp, 'config.json');
const run = path.join(tmp, 'run');

beforeAll(async () => {
  fs.writeFileSync(corpus, 'It was the best of times, it was the worst of times.\n'.repeat(80));
  fs.writeFileSync(configFile, JSON.stringify({ ...llamaConfig({ vocab: 256, hidden: 16, ffn: 32, layers: 1, heads: 2, maxPositions: 64 }), num_hidden_layers: 0 }));
  const r = await cli('train', '--config', configFile, '--corpus', corpus, '--steps', '20', '--batch', '4', '--seq', '16', '--lr', '0.03', '--backend', 'cpu', '--out', run, '--json');
  expect(r.code, r.stderr).toBe(0);
}, 120_000);

describe('a 0-layer checkpoint', () => {
  it('trains (loss falls), and eval gives the run\'s own eval loss', async () => {
    const log = fs.readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(log.at(-1).loss).toBeLessThan(log[0].loss);
    const e = await cli('eval', run, '--corpus', corpus, '--batch', '4', '--seq', '16', '--batches', '2', '--backend', 'cpu', '--json');
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout).eval_loss).toBeGreaterThan(0);
    expect(JSON.parse(e.stdout).eval_loss).toBeLessThan(log[0].loss);
  });

  it('generates (a bigram model: each token from the one before)', async () => {
    const g = await cli('generate', run, '--prompt', 'It was', '--tokens', '12', '--seed', '1', '--backend', 'cpu', '--json');
    expect(g.code, g.stderr).toBe(0);
    expect(JSON.parse(g.stdout).completion_ids).toHaveLength(12);
  });

  it('is refused in one line where there is no layer to work on: upcycle (in memory or streamed), grow --depth-method copy', async () => {
    const ckpt = path.join(run, 'checkpoint');
    const cases: Array<[string[], RegExp]> = [
      [['upcycle', run, '--out', path.join(tmp, 'u'), '--experts', '2', '--top-k', '1'], /upcycle input: expected a model with at least one layer/],
      [['upcycle', ckpt, '--out', path.join(tmp, 'su'), '--experts', '2', '--top-k', '1', '--stream'], /upcycle input: expected a model with at least one layer/],
      [['grow', ckpt, '--out', path.join(tmp, 'sg'), '--layers', '2', '--depth-method', 'copy', '--stream'], /depth method for a 0-layer model: expected "zero" or "random" \(there is no layer to copy\), found "copy"/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(...args);
      expect(r.code, args[0]).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(fs.existsSync(args[3])).toBe(false);
    }
  });

  it('grows to 2 layers exactly (zero-initialised blocks)', async () => {
    const g = await cli('grow', run, '--out', path.join(tmp, 'grown'), '--layers', '2', '--depth-method', 'zero', '--backend', 'cpu', '--json');
    expect(g.code, g.stderr).toBe(0);
    expect(JSON.parse(g.stdout)).toMatchObject({ exact: true });
    expect(JSON.parse(g.stdout).maxLogitGap).toBeLessThan(1e-5);
  });
});
