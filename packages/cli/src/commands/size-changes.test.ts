import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './test-util.js';

/**
 * Run directories as `efficientscale train` writes them (metrics.jsonl with params per record); a run
 * given `grownFrom` had that many parameters for its first `grownAt` of steps (progressive growth).
 */
function writeRun(root: string, N: number, seed: number, grown?: { from: number; at: number }): string {
  let s = seed;
  const noise = () => ((s = (s * 16807) % 2147483647) / 2147483647 - 0.5) * 2e-3;
  const dir = join(root, grown ? `grown-${N}` : `tiny-${N}`);
  mkdirSync(dir, { recursive: true });
  const steps = 40;
  const lines = Array.from({ length: steps }, (_, i) => {
    const tokens = (20 * N * (i + 1)) / steps;
    const early = grown !== undefined && i < grown.at * steps;
    const params = early ? grown.from : N;
    const loss = (1.2 + 40 / params ** 0.3 + 60 / tokens ** 0.3) * (1 + noise());
    return JSON.stringify({ step: i + 1, tokens, flops: 6 * params * tokens, params, loss });
  });
  writeFileSync(join(dir, 'metrics.jsonl'), `${lines.join('\n')}\n`);
  return `${dir}/`;
}

describe('fit and evaluate on runs whose parameter count changes mid-run', () => {
  const root = mkdtempSync(join(tmpdir(), 'es-grown-'));
  const plain = [2e4, 5e4, 1e5].map((N, i) => writeRun(root, N, i + 1));
  const grownSmall = writeRun(root, 2e5, 11, { from: 1e5, at: 0.25 });
  const grownTarget = writeRun(root, 5e5, 12, { from: 2e5, at: 0.5 });
  const runs = [...plain, grownSmall, grownTarget];

  it('evaluate uses each grown run from its last size change on and says so (text and JSON)', async () => {
    const r = await cli('evaluate', ...runs);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^all: target grown-500000 \(N=5\.000e\+5\), fit on 4 smaller models, 12 test points, ARE \d\.\d\d%\n/);
    expect(r.stdout).toContain(
      'size changed mid-run: grown-200000: 1.00e+5 → 2.00e+5 parameters; kept its 30 records from 1100000 tokens on (dropped 10) (--size-changes refuse to stop instead)\n',
    );
    expect(r.stdout).toContain('size changed mid-run: grown-500000: 2.00e+5 → 5.00e+5 parameters; kept its 20 records from 5250000 tokens on (dropped 20)');
    const json = JSON.parse((await cli('evaluate', ...runs, '--json')).stdout).families[0];
    expect(json.sizeChanges).toEqual([
      { model: 'grown-200000', sizes: [1e5, 2e5], keptFromTokens: 1.1e6, kept: 30, dropped: 10 },
      { model: 'grown-500000', sizes: [2e5, 5e5], keptFromTokens: 5.25e6, kept: 20, dropped: 20 },
    ]);
    expect(json.trainModels.map((m: { params: number }) => m.params)).toEqual([2e4, 5e4, 1e5, 2e5]);
    expect(json.are).toBeLessThan(0.02);
  });

  it('--size-changes refuse stops with one line naming the run and where it grew', async () => {
    const r = await cli('evaluate', ...runs, '--size-changes', 'refuse');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: model grown-200000: expected one parameter count \(use --size-changes final to fit on its records from the last size change on\), found 100000, then 200000 \(the size changes at 1100000 tokens, .*grown-200000\/metrics\.jsonl line 11\)\n$/,
    );
  });

  it('fit keeps grown runs at their final size too, in JSON and text', async () => {
    const json = JSON.parse((await cli('fit', ...runs, '--json')).stdout);
    expect(json.fit.points).toBe(3 * 40 + 30 + 20);
    expect(json.sizeChanges.map((c: { model: string }) => c.model)).toEqual(['grown-200000', 'grown-500000']);
    expect(json.params.alpha).toBeCloseTo(0.3, 1);
    const human = await cli('fit', ...runs);
    expect(human.stdout).toContain('size changed mid-run: grown-200000: 1.00e+5 → 2.00e+5 parameters');
    const refused = await cli('fit', ...runs, '--size-changes', 'refuse');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: model grown-200000: expected one parameter count/);
    expect((await cli('fit', ...plain, '--json')).stdout).toContain('"sizeChanges":[]');
  });
});
