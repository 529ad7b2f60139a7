import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@efficientscale/core';
import { loadPlan, runPipeline } from '../pipeline/index.js';
import { cli } from './test-util.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'es-pipeline-'));

/** A small corpus: enough distinct text that the loss falls within a few steps. */
const words = 'the jury said it did find that many of the city laws were outdated and should be revised by the council'.split(' ');
const corpus = Array.from({ length: 1500 }, (_, i) => words[(i * 7 + (i >> 3)) % words.length]).join(' ');

function writePlan(name: string, extra: object = {}): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'corpus.txt'), corpus);
  const plan = {
    name,
    corpus: 'corpus.txt',
    out: path.join(dir, 'out'),
    batch: 2,
    seq: 16,
    lr: 0.01,
    evalsPerStage: 2,
    evalBatches: 2,
    checkpointsPerStage: 2,
    stages: [
      { type: 'train', name: 'dense', model: { hidden: 16, layers: 1, heads: 2, ffn: 32 }, steps: 6 },
      { type: 'grow', hidden: 32, heads: 4, ffn: 64, layers: 2 },
      { type: 'train', name: 'grown', steps: 4 },
      { type: 'upcycle', experts: 4, topK: 2 },
      { type: 'train', name: 'moe', steps: 4 },
      { type: 'baseline' },
    ],
    ...extra,
  };
  const file = path.join(dir, 'plan.json');
  fs.writeFileSync(file, JSON.stringify(plan));
  return file;
}

const stageDirs = (out: string) => fs.readdirSync(out).filter((d) => /^\d\d-/.test(d)).sort();
const metricsOf = (file: string) => fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; tokens: number; flops: number; eval_loss?: number });

describe('efficientscale pipeline', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('--dry-run prints each stage\'s parameters, tokens, FLOPs and a measured time estimate, and trains nothing', async () => {
    const file = writePlan('dry');
    const json = await cli('pipeline', file, '--dry-run', '--json', '--backend', 'cpu');
    expect(json.code).toBe(0);
    const d = JSON.parse(json.stdout) as { stages: { kind: string; params: number; tokens: number; flops: number; est_seconds: number }[]; baseline: { tokens: number }; pipeline: { tokens: number }; how: string };
    expect(d.stages.map((s) => s.kind)).toEqual(['train', 'grow', 'train', 'upcycle', 'train', 'baseline']);
    expect(d.stages.map((s) => s.tokens)).toEqual([192, 0, 128, 0, 128, 448]);
    expect(d.baseline.tokens).toBe(d.pipeline.tokens);
    for (const s of d.stages.filter((s) => s.tokens > 0)) {
      expect(s.flops).toBeGreaterThan(0);
      expect(s.est_seconds).toBeGreaterThan(0);
    }
    expect(d.how).toContain('measured over 2 training steps');
    const text = await cli('pipeline', file, '--dry-run', '--backend', 'cpu');
    expect(text.stdout).toMatch(/stage +kind +params.*est\. time/);
    expect(text.stdout).toContain('total: about');
    expect(text.stdout).toContain('LR: wsd over 14 steps, warmup 0, peak until step 13, then linear down to 0 × the peak over 1 (one curve across every stage); baseline: wsd over 14 steps');
    expect(fs.existsSync(path.join(root, 'dry', 'out'))).toBe(false);
  });

  let fullRun: { out: string; evalLosses: (number | undefined)[] };

  it('runs every stage into its own directory, chains the counters and writes report.md with plots and the saving', async () => {
    const file = writePlan('full');
    const r = await cli('pipeline', file, '--backend', 'cpu');
    expect(r.code, r.stderr).toBe(0);
    const out = path.join(root, 'full', 'out');
    expect(stageDirs(out)).toEqual(['01-dense', '02-grow', '03-grown', '04-upcycle', '05-moe', '06-baseline']);
    for (const d of stageDirs(out)) expect(fs.existsSync(path.join(out, d, 'stage.json'))).toBe(true);
    // The grown model continues where the dense one stopped: steps, tokens and FLOPs carry on.
    const dense = metricsOf(path.join(out, '01-dense', 'metrics.jsonl'));
    const grown = metricsOf(path.join(out, '03-grown', 'metrics.jsonl'));
    const baseline = metricsOf(path.join(out, '06-baseline', 'metrics.jsonl'));
    expect(grown.map((m) => m.step)).toEqual([7, 8, 9, 10]);
    expect(grown[0].tokens).toBe(dense.at(-1)!.tokens + 32);
    expect(grown[0].flops - dense.at(-1)!.flops).toBeGreaterThan(dense[0].flops);
    expect(baseline.map((m) => m.step)).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
    const report = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(report).toContain('| 3 grown | train |');
    expect(report).toMatch(/baseline's final (eval loss )?\d\.\d{3} nats\/token/);
    for (const svg of ['loss-vs-tokens.svg', 'loss-vs-flops.svg']) {
      const text = fs.readFileSync(path.join(out, svg), 'utf8');
      expect(text).toContain('eval loss (nats/token)');
      expect(text).toContain('baseline');
    }
    expect(r.stdout).toMatch(/(a saving of -?\d+\.\d%|more than the baseline|not reached)/);
    fullRun = { out, evalLosses: stageDirs(out).map((d) => (JSON.parse(fs.readFileSync(path.join(out, d, 'stage.json'), 'utf8')) as { eval_loss?: number }).eval_loss) };
  });

  it('skips complete stages on a re-run and refuses to skip a stage whose plan changed', async () => {
    const file = path.join(root, 'full', 'plan.json');
    const before = fs.readFileSync(path.join(fullRun.out, '05-moe', 'metrics.jsonl'), 'utf8');
    const r = await cli('pipeline', file, '--backend', 'cpu');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.match(/complete, skipped/g)).toHaveLength(6);
    expect(fs.readFileSync(path.join(fullRun.out, '05-moe', 'metrics.jsonl'), 'utf8')).toBe(before);
    // A stage whose input is gone runs again, and so does every later stage that reads its output.
    fs.rmSync(path.join(fullRun.out, '03-grown'), { recursive: true });
    const again = await cli('pipeline', file, '--backend', 'cpu');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr.match(/complete, skipped/g)).toHaveLength(3);
    expect(again.stderr).toContain('stage 4/6 upcycle: an earlier stage ran again, so this one runs again');
    const losses = (text: string) => text.trim().split('\n').map((l) => { const m = JSON.parse(l) as { step: number; loss: number }; return [m.step, m.loss]; });
    expect(losses(fs.readFileSync(path.join(fullRun.out, '05-moe', 'metrics.jsonl'), 'utf8'))).toEqual(losses(before));
    const plan = JSON.parse(fs.readFileSync(file, 'utf8'));
    plan.stages[2].lr = 0.02;
    fs.writeFileSync(file, JSON.stringify(plan));
    const changed = await cli('pipeline', file, '--backend', 'cpu');
    expect(changed.code).toBe(1);
    expect(changed.stderr).toContain('03-grown/stage.json: expected a stage run with the plan as it is now');
    // More steps in a later stage stretch the plan-wide LR curve, so even the first stage is no longer the same.
    plan.stages[2] = { ...plan.stages[2], lr: undefined, steps: 5 };
    fs.writeFileSync(file, JSON.stringify(plan));
    const longer = await cli('pipeline', file, '--backend', 'cpu');
    expect(longer.code).toBe(1);
    expect(longer.stderr).toContain('01-dense/stage.json: expected a stage run with the plan as it is now');
  });

  it('resumes an interrupted train stage from its last checkpoint and ends where an uninterrupted run ends', async () => {
    const file = writePlan('resume');
    const out = path.join(root, 'resume', 'out');
    const stopped = await runPipeline(loadPlan(file), { log: () => {}, interrupt: { stage: 2, steps: 2 } });
    expect(stopped.complete).toBe(false);
    expect(stopped.stages).toHaveLength(2);
    expect(fs.existsSync(path.join(out, '03-grown', 'checkpoint', 'config.json'))).toBe(true);
    expect(fs.existsSync(path.join(out, '03-grown', 'stage.json'))).toBe(false);
    // The interrupted stage resumes only with the settings it started with.
    const plan = JSON.parse(fs.readFileSync(file, 'utf8'));
    fs.writeFileSync(file, JSON.stringify({ ...plan, stages: plan.stages.map((s: object, i: number) => (i === 2 ? { ...s, lr: 0.02 } : s)) }));
    const changed = await cli('pipeline', file, '--backend', 'cpu');
    expect(changed.code).toBe(1);
    expect(changed.stderr).toContain('a stage started with other settings; delete');
    fs.writeFileSync(file, JSON.stringify(plan));
    const r = await cli('pipeline', file, '--backend', 'cpu');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.match(/complete, skipped/g)).toHaveLength(2);
    expect(metricsOf(path.join(out, '03-grown', 'metrics.jsonl')).map((m) => m.step)).toEqual([7, 8, 9, 10]);
    const losses = stageDirs(out).map((d) => (JSON.parse(fs.readFileSync(path.join(out, d, 'stage.json'), 'utf8')) as { eval_loss?: number }).eval_loss);
    expect(losses).toEqual(fullRun.evalLosses);
  });

  it('a lowrank stage converts the dense FFNs and the next stage trains the factors from fresh moments', async () => {
    const file = writePlan('lowrank', {
      stages: [
        { type: 'train', name: 'dense', model: { hidden: 16, layers: 2, heads: 2, ffn: 32 }, steps: 4 },
        { type: 'lowrank', rank: 4 },
        { type: 'train', name: 'factors', steps: 4 },
      ],
    });
    const r = await cli('pipeline', file, '--backend', 'cpu', '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { stages: { params: number; eval_loss?: number }[]; report: { saving?: unknown } };
    expect(j.stages[1].params).toBeLessThan(j.stages[0].params);
    expect(j.stages[2].params).toBe(j.stages[1].params);
    expect(Number.isFinite(j.stages[2].eval_loss)).toBe(true);
    expect(j.report.saving).toBeUndefined();
    const out = path.join(root, 'lowrank', 'out');
    expect(JSON.parse(fs.readFileSync(path.join(out, '03-factors', 'checkpoint', 'config.json'), 'utf8')).efficientscale.ffn_kinds).toEqual(['dense', 'lowrank']);
    expect(fs.readFileSync(path.join(out, 'report.md'), 'utf8')).toContain('No baseline stage, so no saving to measure');
  });

  it('refuses a plan file that is not valid with one line', async () => {
    const file = path.join(root, 'bad.json');
    fs.writeFileSync(file, JSON.stringify({ out: 'x', stages: [{ type: 'train', model: { hidden: 16, layers: 1, heads: 2, ffn: 32 }, steps: 2 }, { type: 'upcycle', experts: 0, topK: 1 }] }));
    const r = await cli('pipeline', file, '--dry-run', '--backend', 'cpu');
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`error: ${file}: "stages[1].experts": expected a positive integer, found 0`);
  });
});
