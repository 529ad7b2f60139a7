import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
    expect(svg).toContain('loss (nats/token)');
    expect(svg).toContain('class="mark-area'); // the bootstrap band
    expect(svg).toContain('>16.2B<'); // the largest real size in the legend, not 16.2G
    expect(svg).not.toMatch(/>\d+(\.\d+)?G</);
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
    expect(missing.err).toMatch(/^error: --law .*nope\.json: expected a readable law file, found no such file\n$/);
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

/** Run directories as `efficientscale train` writes them (metrics.jsonl only), for a tiny synthetic law. */
function writeRuns(root: string, sizes: readonly number[], seed = 1): string[] {
  let s = seed;
  const noise = () => ((s = (s * 16807) % 2147483647) / 2147483647 - 0.5) * 6e-3; // ±0.3%
  return sizes.map((N) => {
    const dir = join(root, `tiny-${N}`);
    mkdirSync(dir, { recursive: true });
    const steps = 50;
    const lines = Array.from({ length: steps }, (_, i) => {
      const tokens = (20 * N * (i + 1)) / steps;
      const loss = (1.2 + 40 / N ** 0.3 + 60 / tokens ** 0.3) * (1 + noise());
      return JSON.stringify({ step: i + 1, tokens, flops: 6 * N * tokens, params: N, loss, eval_loss: (i + 1) % 10 === 0 ? loss : undefined });
    });
    writeFileSync(join(dir, 'metrics.jsonl'), `${lines.join('\n')}\n`);
    return `${dir}/`;
  });
}

describe('fit and evaluate on small runs of our own (run directories)', () => {
  const root = mkdtempSync(join(tmpdir(), 'es-runs-'));
  const five = writeRuns(join(root, 'five'), [2e4, 5e4, 1e5, 2e5, 5e5]);
  const three = writeRuns(join(root, 'three'), [2e4, 1e5, 5e5], 7);

  it('evaluate with default flags drops the first 10% of each run and predicts the largest', async () => {
    const r = await cli('evaluate', ...five);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^all: target tiny-500000 \(N=5\.000e\+5\), fit on 4 smaller models, 15 test points, ARE 0\.\d\d%\n/);
    expect(r.out).toContain("early checkpoints dropped: the first 10% of each run's tokens\n");
    const json = JSON.parse((await cli('evaluate', ...five, '--json')).out);
    expect(json.families[0].cutoff).toEqual({ kind: 'relative', fraction: 0.1 });
    expect(json.families[0].trainModels.map((m: { points: number }) => m.points)).toEqual([45, 45, 45, 45]);
    const absolute = JSON.parse((await cli('evaluate', ...five, '--min-tokens', '3e5', '--json')).out);
    expect(absolute.families[0].cutoff).toEqual({ kind: 'absolute', tokens: 3e5 });
    expect((await cli('evaluate', ...five, '--min-tokens', '3e5')).out).toContain('early checkpoints dropped: those at or below 3.000e+5 tokens (--min-tokens)\n');
    const old = await cli('evaluate', ...five, '--min-tokens', '1e10');
    expect(old.code).toBe(1);
    expect(old.err).toBe('error: family all: smaller models with checkpoints past 10000000000 tokens: expected at least 2 sizes (the largest model is the target), found 0\n');
  });

  it('two smaller sizes: a one-line warning; --prior fixes the exponents from a fit of other runs', async () => {
    const warned = await cli('evaluate', ...three);
    expect(warned.code).toBe(0);
    expect(warned.err).toMatch(/^warning: all: only 2 model sizes: the N-exponent alpha is weakly identified[^\n]*\n$/);
    const law = join(root, 'prior.json');
    const fit = await cli('fit', ...five, '--out', law, '--json');
    expect(fit.code).toBe(0);
    expect(JSON.parse(fit.out).params.alpha).toBeCloseTo(0.3, 1);
    const fixed = JSON.parse((await cli('evaluate', ...three, '--prior', law, '--json')).out).families[0];
    const prior = JSON.parse(readFileSync(law, 'utf8')).params;
    expect(fixed.fixed).toEqual({ alpha: prior.alpha, beta: prior.beta });
    expect(fixed.warnings).toEqual([]);
    expect(fixed.are).toBeLessThan(0.01);
    const human = await cli('fit', ...three, '--fix', 'alpha=0.3');
    expect(human.err).toBe('');
    expect(human.out).toMatch(/alpha +0\.3 \(fixed\)/);
    const two = await cli('fit', three[0], three[1], '--json');
    expect(two.code).toBe(0);
    expect(JSON.parse(two.out).fit.warnings).toHaveLength(1);
    expect(two.err).toMatch(/^warning: only 2 model sizes: the N-exponent alpha is weakly identified[^\n]*\n$/);
    const one = await cli('fit', three[0]);
    expect(one.code).toBe(1);
    expect(one.err).toBe('error: distinct model sizes: expected at least 2 (the N-exponent needs two sizes to compare), found 1\n');
  });

  it('--loss-column eval_loss fits only the evaluated steps; --early-fraction drops early ones', async () => {
    const json = JSON.parse((await cli('fit', ...five, '--loss-column', 'eval_loss', '--json')).out);
    expect(json.fit.points).toBe(25);
    const early = JSON.parse((await cli('fit', ...five, '--early-fraction', '0.1', '--json')).out);
    expect(early.fit.points).toBe(5 * 45);
    expect(early.earlyFraction).toBe(0.1);
    const human = await cli('fit', ...five, '--early-fraction', '0.1');
    expect(human.out).toContain("early checkpoints dropped: the first 10% of each run's tokens\n");
    expect((await cli('fit', ...five, '--early-fraction', '1')).err).toBe('error: early fraction: expected a fraction in [0, 1), found 1\n');
  });
});
