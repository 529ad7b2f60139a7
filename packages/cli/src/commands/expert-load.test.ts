import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cli } from './test-util.js';
import { expertLoadOverTime } from './expert-load.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-expert-load-'));

function writeRun(name: string, records: object[]): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), records.map((r) => JSON.stringify(r) + '\n').join(''));
  return dir;
}

const record = (step: number, layer0: number[], layer1: number[]) => ({ step, tokens: 64 * step, flops: 1e6 * step, loss: 3, ffn_metrics: { expert_load: { 0: layer0, 1: layer1 } } });

describe('efficientscale expert-load', () => {
  it('takes the busiest and idlest expert over all MoE layers at each step', () => {
    const points = expertLoadOverTime([record(1, [0.5, 0.3, 0.2, 0], [0.25, 0.25, 0.25, 0.25]), { step: 2 }, record(3, [0.25, 0.25, 0.25, 0.25], [0.4, 0.2, 0.2, 0.2])]);
    expect(points).toEqual([
      { step: 1, max: 0.5, min: 0, experts: 4 },
      { step: 3, max: 0.4, min: 0.2, experts: 4 },
    ]);
  });

  it('writes expert-load.svg and summarises the last steps; refuses a dense run', async () => {
    const moe = writeRun('moe', Array.from({ length: 20 }, (_, i) => record(i + 1, [0.4, 0.3, 0.2, 0.1], [0.25, 0.25, 0.3, 0.2])));
    const out = path.join(tmp, 'plots');
    const r = await cli('expert-load', moe, '--out', out, '--window', '5', '--json');
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.runs[0]).toMatchObject({ run: 'moe', steps: 20, experts: 4 });
    expect(summary.runs[0].final_max_share).toBeCloseTo(0.4, 9);
    expect(summary.runs[0].final_min_share).toBeCloseTo(0.1, 9);
    const svg = fs.readFileSync(path.join(out, 'expert-load.svg'), 'utf8');
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('moe max');
    expect(svg).toContain('even share (1/4)');

    const dense = writeRun('dense', [{ step: 1, tokens: 64, flops: 1e6, loss: 3 }]);
    const bad = await cli('expert-load', dense, '--out', out);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/dense: expected an MoE run, or a pipeline output with an MoE stage \(ffn_metrics\.expert_load in its metrics\.jsonl\), found no expert load logged/);
  });
});
