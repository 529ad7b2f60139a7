import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { llamaConfig, MEMORY_ENV, tf } from '@efficientscale/core/node';
import { cli } from './test-util.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-memory-'));
const corpus = path.join(tmp, 'corpus.txt');

beforeAll(async () => {
  await tf.setBackend('cpu');
  fs.writeFileSync(corpus, 'It was the best of times, it was the worst of times.\n'.repeat(40));
});
afterEach(() => {
  delete process.env[MEMORY_ENV];
});

const NEEDS = /^error: memory: expected a run that fits in the [\d.]+ [GM]iB available \(.*\), found one that needs about [\d.]+ [GM]iB at its peak \(weights, gradients and AdamW moments [\d.]+ [GM]iB, activations of \d+ × \d+ tokens [\d.]+ [GM]iB\)$/;

function refusal(r: { code: number; stderr: string }): string {
  expect(r.code, r.stderr).toBe(1);
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('backend: ') && !l.startsWith('training '));
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(NEEDS);
  return lines[0];
}

describe('a run that cannot fit in memory is refused before it allocates, saying what it needs and has', () => {
  it('train --batch 100000 --steps 1 (the tiny preset: hundreds of GiB of activations)', async () => {
    const out = path.join(tmp, 'huge-batch');
    const started = performance.now();
    const line = refusal(await cli('train', '--batch', '100000', '--steps', '1', '--corpus', corpus, '--out', out, '--backend', 'cpu'));
    expect(line).toContain('activations of 100000 × 64 tokens');
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('a config with a vocabulary of 2e6 on a machine with 8 GiB', async () => {
    process.env[MEMORY_ENV] = String(8 * 2 ** 30);
    const config = path.join(tmp, 'vocab.json');
    fs.writeFileSync(config, JSON.stringify(llamaConfig({ vocab: 2_000_000, hidden: 64, ffn: 172, layers: 2, heads: 4, maxPositions: 64 })));
    const out = path.join(tmp, 'huge-vocab');
    const line = refusal(await cli('train', '--config', config, '--steps', '1', '--corpus', corpus, '--out', out, '--backend', 'cpu'));
    expect(line).toContain(`fits in the 8.0 GiB available (${MEMORY_ENV};`);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('bench refuses the same way', async () => {
    refusal(await cli('bench', '--batch', '100000', '--seq', '128', '--backend', 'cpu'));
  });

  it('what fits is not refused: a tiny run trains under a 1 GiB limit', async () => {
    process.env[MEMORY_ENV] = String(2 ** 30);
    const r = await cli('train', '--batch', '2', '--seq', '16', '--steps', '1', '--corpus', corpus, '--out', path.join(tmp, 'fits'), '--backend', 'cpu', '--json');
    expect(r.code, r.stderr).toBe(0);
  });
});
