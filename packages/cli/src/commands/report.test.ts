import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './test-util.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'es-report-'));

/** A run directory with a hand-made metrics.jsonl: loss falls as 2 + 3/√step, evaluated every 5 steps. */
function writeRun(dir: string, steps: number, flopsPerStep: number, firstStep = 1): string {
  fs.mkdirSync(dir, { recursive: true });
  const lines = Array.from({ length: steps }, (_, i) => {
    const step = firstStep + i;
    const loss = 2 + 3 / Math.sqrt(step);
    return JSON.stringify({ step, tokens: step * 512, flops: step * flopsPerStep, loss, eval_loss: step % 5 === 0 ? loss + 0.05 : undefined });
  });
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), lines.join('\n') + '\n');
  return dir;
}

/** Text of the SVG elements of one Vega role. */
const texts = (svg: string, role: string) =>
  (svg.match(new RegExp(`class="mark-text role-${role}"[^]*?</g>`, 'g')) ?? []).flatMap((g) => [...g.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]));

describe('efficientscale report', () => {
  it('plots runs on shared axes against tokens and FLOPs, with labelled axes and a legend of the runs', async () => {
    const a = writeRun(path.join(root, 'small'), 40, 1e9);
    const b = writeRun(path.join(root, 'large'), 40, 3e10);
    const out = path.join(root, 'plots');
    const r = await cli('report', a, b, '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { files: string[]; runs: { run: string; final_eval_loss: number }[] };
    expect(j.runs.map((x) => x.run)).toEqual(['small', 'large']);
    expect(j.runs[0].final_eval_loss).toBeCloseTo(2 + 3 / Math.sqrt(40) + 0.05, 10);
    const flops = fs.readFileSync(path.join(out, 'loss-vs-flops.svg'), 'utf8');
    expect(texts(flops, 'axis-title')).toEqual(['training FLOPs (cumulative)', 'eval loss (nats/token)']);
    expect(texts(flops, 'legend-label')).toEqual(['small', 'large']);
    // Evaluated FLOPs span 5e9 … 1.2e12, over two decades: a logarithmic x axis with SI labels (10G … 1T).
    expect(texts(flops, 'axis-label')).toEqual(expect.arrayContaining(['10G', '100G', '1T']));
    const tokens = fs.readFileSync(path.join(out, 'loss-vs-tokens.svg'), 'utf8');
    expect(texts(tokens, 'axis-title')).toEqual(['training tokens (cumulative)', 'eval loss (nats/token)']);
  });

  it('reads a pipeline output as one curve per stage, and refuses a directory without metrics', async () => {
    const pipeline = path.join(root, 'pipe');
    writeRun(path.join(pipeline, '01-dense'), 10, 1e9);
    fs.mkdirSync(path.join(pipeline, '02-grow'), { recursive: true });
    writeRun(path.join(pipeline, '03-grown'), 10, 4e9, 11);
    const r = await cli('report', pipeline, '--out', path.join(root, 'pipe-plots'), '--json');
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { runs: { run: string }[] }).runs.map((x) => x.run)).toEqual(['01-dense', '03-grown']);
    const bad = await cli('report', path.join(pipeline, '02-grow'));
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe(`error: ${path.join(pipeline, '02-grow')}: expected a run directory with metrics.jsonl, or a pipeline output whose stage directories have one, found neither`);
  });
});
