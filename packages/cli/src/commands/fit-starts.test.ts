import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getLaw, gridStarts } from '@efficientscale/scaling-laws';
import { cli } from './test-util.js';

// Noise-free points of one Chinchilla law at 5 model sizes: every start count must recover it.
const LAW = { E: 1.7, A: 400, B: 410, alpha: 0.34, beta: 0.28 };
const dir = mkdtempSync(join(tmpdir(), 'es-fit-starts-'));
const csv = join(dir, 'points.csv');
const rows = [2e7, 6e7, 2e8, 6e8, 2e9].flatMap((N) =>
  [5, 10, 20, 40, 80].map((r) => `${N},${N * r},${LAW.E + LAW.A / N ** LAW.alpha + LAW.B / (N * r) ** LAW.beta}`),
);
writeFileSync(csv, `params,tokens,loss\n${rows.join('\n')}\n`);

describe('fit --starts', () => {
  it("'all' optimises every grid start, a number that many, and both find the law", async () => {
    const all = await cli('fit', csv, '--starts', 'all', '--json');
    expect(all.code, all.stderr).toBe(0);
    const some = await cli('fit', csv, '--starts', '3', '--json');
    expect(some.code, some.stderr).toBe(0);
    const [a, s] = [JSON.parse(all.stdout), JSON.parse(some.stdout)];
    expect(a.fit.startsRun).toBe(gridStarts(getLaw('chinchilla')).length);
    expect(s.fit.startsRun).toBe(3);
    for (const fit of [a, s]) expect(fit.params.alpha).toBeCloseTo(LAW.alpha, 2);
  });

  it('refuses anything else as a usage error (exit 2) that names both accepted forms', async () => {
    for (const bad of ['0', 'every', '2.5']) {
      const r = await cli('fit', csv, '--starts', bad);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`Expected a positive integer or 'all', found "${bad}"`);
    }
  });
});
