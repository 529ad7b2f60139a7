import { describe, expect, it } from 'vitest';
import { parseRunCurve, truncateCurve } from './curve-run.js';
import { fitCurveLaw } from './curve-fit.js';
import { metricsText, syntheticRun, testSchedule } from './testing/curves.js';

const LAW = { L0: 2, A: 0.4, alpha: 0.6, C: 0.5, lambda: 0.98 };
const lr = testSchedule({ kind: 'cosine', minRatio: 0.1 }, 400, 3e-3, 10);
const run = { ...syntheticRun('annealing', LAW, lr, { name: 'r', evals: 40 }), params: 5e4 };

/** The one-line message a function throws. */
function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('did not throw');
}

describe('parseRunCurve (a run from its metrics.jsonl)', () => {
  it('reads every step\'s LR and the held-out losses where they were measured', () => {
    const parsed = parseRunCurve(metricsText(run), 'm.jsonl');
    expect(parsed.lr).toEqual(run.lr);
    expect(parsed.steps).toEqual(run.steps);
    expect(parsed.losses).toEqual(run.losses);
    expect(parsed.params).toBe(5e4);
    expect(parsed.tokens?.[9]).toBe(10 * 1024);
  });

  it('keeps the last record of a step logged twice (a resumed run)', () => {
    const lines = metricsText(run).split('\n');
    const again = JSON.stringify({ ...JSON.parse(lines[19]), eval_loss: 9 });
    const parsed = parseRunCurve([...lines.slice(0, 25), again, ...lines.slice(25)].join('\n'), 'm.jsonl');
    expect(parsed.losses[parsed.steps.indexOf(20)]).toBe(9);
  });

  it('refuses, in one line naming what is missing, a corrupt line, a missing LR, a missing step, no held-out loss, a size change', () => {
    const lines = metricsText(run).split('\n');
    const cases: [string, RegExp][] = [
      [[...lines.slice(0, 5), '{"step": 6, "lr"', ...lines.slice(6)].join('\n'), /^m\.jsonl line 6: expected a JSON object, found "\{\\"step\\": 6, \\"lr\\""$/],
      [[...lines.slice(0, 5), JSON.stringify({ step: 6, eval_loss: 2 }), ...lines.slice(6)].join('\n'), /^m\.jsonl line 6: lr: expected the step's learning rate .*, found nothing$/],
      [[...lines.slice(0, 5), ...lines.slice(6)].join('\n'), /^m\.jsonl: steps: expected every step from 1 to 400 .*, found step 6 missing$/],
      [lines.map((l) => JSON.stringify({ ...JSON.parse(l), eval_loss: undefined })).join('\n'), /^m\.jsonl: eval_loss: expected held-out losses on some steps \(train with --eval-every\), found none$/],
      [lines.map((l, i) => JSON.stringify({ ...JSON.parse(l), params: i < 100 ? 5e4 : 1e5 })).join('\n'), /^m\.jsonl: params: expected one model size .*, found 50000 at step 1 and 100000 at step 101$/],
      ['', /^m\.jsonl: expected one JSON record per training step, found no records$/],
    ];
    for (const [text, pattern] of cases) {
      const m = message(() => parseRunCurve(text, 'm.jsonl'));
      expect(m).toMatch(pattern);
      expect(m).not.toContain('\n');
    }
  });

  it('refuses to fit a run too short to have a curve, saying how many losses it has and how many it needs', () => {
    const short = truncateCurve(parseRunCurve(metricsText(run), 'm.jsonl'), 80);
    const m = message(() => fitCurveLaw([short]));
    expect(m).toMatch(/^m\.jsonl: losses: expected at least 5 measured after the warmup and the first 10% of steps \(log the held-out loss more often: train --eval-every\), found 4 of 8 \(at steps 10, 20, 30/);
    expect(m).not.toContain('\n');
  });
});
