import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cli as run } from './test-util.js';

const DATA = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../../shared/data');
const CHINCHILLA = join(DATA, 'chinchilla/svg_extracted_data.csv');
const GPT3 = join(DATA, 'scaling-dev/gpt3_curves.csv');
const OPT = join(DATA, 'scaling-dev/opt_trajectories.csv');

/** The CLI's exit code, stdout and stderr. */
async function cli(...args: string[]) {
  const r = await run(...args);
  return { code: r.code, out: r.stdout, err: r.stderr };
}

describe('efficientscale fit / predict / plan', () => {
  const dir = mkdtempSync(join(tmpdir(), 'es-scaling-'));
  const law = join(dir, 'law.json');
  const plot = join(dir, 'fit.svg');

  it('fits the Chinchilla data with a bootstrap and writes the law and a plot', async () => {
    const r = await cli('fit', CHINCHILLA, '--drop-highest-loss', '5', '--bootstrap', '20', '--out', law, '--plot', plot, '--json');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(json.params.E).toBeCloseTo(1.817, 2);
    expect(json.params.alpha).toBeCloseTo(0.347, 2);
    expect(json.fit.points).toBe(240);
    expect(json.bootstrap.thetas).toHaveLength(20);
    expect(JSON.parse(readFileSync(law, 'utf8')).params).toEqual(json.params);
    const svg = readFileSync(plot, 'utf8');
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('training tokens D');
  });

  it('prints a human summary', async () => {
    const r = await cli('fit', CHINCHILLA, '--drop-highest-loss', '5');
    expect(r.code).toBe(0);
    expect(r.out).toContain('L(N, D) = E + A / N^alpha + B / D^beta');
    expect(r.out).toMatch(/fitted on 240 points from \d+ model sizes/);
    expect(r.out).toMatch(/alpha +0\.347/);
  });

  it('predicts a loss with an interval', async () => {
    const r = await cli('predict', '--law', law, '--params', '7e10', '--tokens', '1.4e12', '--json');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(json.loss).toBeGreaterThan(1.85);
    expect(json.loss).toBeLessThan(2.0);
    expect(json.interval[0]).toBeLessThan(json.loss);
    expect(json.interval[1]).toBeGreaterThan(json.loss);
    const human = await cli('predict', '--law', law, '--params', '7e10', '--tokens', '1.4e12');
    expect(human.out).toMatch(/^predicted loss at N=7\.000e\+10, D=1\.400e\+12: 1\.9\d* \(95% interval/);
  });

  it('plans a compute budget', async () => {
    const r = await cli('plan', '--law', law, '--flops', '5.76e23', '--json');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(6 * json.params.value * json.tokens.value).toBeCloseTo(5.76e23, -20);
    expect(json.tokensPerParam.value).toBeGreaterThan(10);
    expect(json.tokensPerParam.value).toBeLessThan(40);
    const human = await cli('plan', '--law', law, '--flops', '5.76e23');
    expect(human.out).toContain('parameters N');
  });

  it("fits a law to runs' metrics.jsonl files", async () => {
    const files = [2e7, 6e7, 2e8, 6e8].map((N, i) => {
      const lines = [1, 2, 4, 8, 16].map((k) => {
        const tokens = N * 2 * k;
        const loss = 1.9 + 400 / N ** 0.33 + 1500 / tokens ** 0.35;
        return JSON.stringify({ step: k * 100, tokens, flops: 6 * N * tokens, loss, params: N });
      });
      const file = join(dir, `run${i}-metrics.jsonl`);
      writeFileSync(file, `${lines.join('\n')}\n`);
      return file;
    });
    const r = await cli('fit', ...files, '--json');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(json.fit.points).toBe(20);
    expect(json.params.alpha).toBeCloseTo(0.33, 2);
    expect(json.params.E).toBeCloseTo(1.9, 1);
  });

  it('reports bad input as one line and exit code 1', async () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'params,tokens,loss\n1e7,1e9,4\n1e8,-5,3\n');
    const r = await cli('fit', bad);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`error: ${bad} row 3: tokens: expected a positive finite number, found -5\n`);
    const missing = await cli('predict', '--law', join(dir, 'nope.json'), '--params', '1', '--tokens', '1');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^error: --law .*nope\.json: expected a readable law file, found ENOENT\n$/);
  });
});

describe('efficientscale evaluate', () => {
  it('scores GPT-3 and OPT per family and plots predicted against observed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'es-eval-'));
    const r = await cli('evaluate', GPT3, OPT, '--plot', join(dir, 'eval.svg'), '--json');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(json.families.map((f: { family: string }) => f.family)).toEqual(['GPT-3', 'OPT']);
    for (const f of json.families) expect(f.are).toBeLessThan(0.05);
    expect(json.plots).toEqual([join(dir, 'eval-GPT-3.svg'), join(dir, 'eval-OPT.svg')]);
    expect(readFileSync(json.plots[0], 'utf8')).toContain('predicted');
    const human = await cli('evaluate', GPT3, '--smaller-models', '4');
    expect(human.out).toMatch(/^GPT-3: target GPT-3 175b \(N=1\.750e\+11\), fit on 4 smaller models, \d+ test points, ARE \d+\.\d\d%\nearly checkpoints dropped: the first 10% of each run's tokens\n$/);
  });
});
