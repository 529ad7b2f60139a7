import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@efficientscale/core';
import { readDataset } from '@efficientscale/scaling-laws/node';
import { cli } from '../commands/test-util.js';
import { writeTestPlan } from './test-plans.js';

/** What the run refuses, the dry run refuses too; its outputs are read by fit and expert-load. */
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'es-pipeline-checks-'));
const settings = { batch: 2, seq: 16, lr: 0.01, evalsPerStage: 2, evalBatches: 2, checkpointsPerStage: 1 };
const stages = [
  { type: 'train', name: 'dense', model: { hidden: 16, layers: 1, heads: 2, ffn: 32 }, steps: 4 },
  { type: 'upcycle', experts: 2, topK: 1 },
  { type: 'train', name: 'moe', steps: 4 },
];
let planFile: string;
let out: string;

/** The one error line (backend and usage hints aside). */
async function refused(...args: string[]): Promise<string> {
  const r = await cli(...args);
  expect(r.code, r.stdout).not.toBe(0);
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('backend') && !l.startsWith('(run with --help'));
  expect(lines, r.stderr).toHaveLength(1);
  return lines[0];
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  planFile = writeTestPlan(path.join(root, 'moe'), { ...settings, stages });
  out = path.join(root, 'moe', 'out');
  const r = await cli('pipeline', planFile, '--backend', 'cpu', '--json');
  expect(r.code, r.stderr).toBe(0);
});

describe('pipeline --dry-run refuses what the run would', () => {
  it('a missing corpus', async () => {
    const file = writeTestPlan(path.join(root, 'no-corpus'), { ...settings, stages, corpus: 'missing.txt' });
    for (const flags of [['--dry-run'], []]) {
      expect(await refused('pipeline', file, ...flags, '--backend', 'cpu')).toMatch(/missing\.txt: expected a text corpus, found no such file/);
    }
  });

  it('a plan changed under a finished stage', async () => {
    const changed = writeTestPlan(path.join(root, 'moe'), { ...settings, stages: [{ ...stages[0], steps: 5 }, ...stages.slice(1)] });
    for (const flags of [['--dry-run'], []]) {
      expect(await refused('pipeline', changed, ...flags, '--backend', 'cpu')).toMatch(/01-dense\/stage\.json: expected a stage run with the plan as it is now, found one run with other settings/);
    }
    writeTestPlan(path.join(root, 'moe'), { ...settings, stages }); // as it was
  });

  it('--out into a training run\'s directory, which it would mix into', async () => {
    const run = path.join(root, 'a-run');
    const t = await cli('train', '--preset', 'tiny', '--steps', '1', '--batch', '2', '--seq', '16', '--out', run, '--corpus', path.join(root, 'moe', 'corpus.txt'), '--backend', 'cpu', '--json');
    expect(t.code, t.stderr).toBe(0);
    const before = fs.readdirSync(run).sort();
    for (const flags of [['--dry-run'], []]) {
      expect(await refused('pipeline', planFile, '--out', run, ...flags, '--backend', 'cpu')).toMatch(/the plan's out .*a-run: expected a new or empty directory, or an earlier output of a pipeline \(with plan\.json\), found a training run's directory/);
    }
    expect(fs.readdirSync(run).sort()).toEqual(before);
  });

  it('an empty list of stages says so', async () => {
    const file = writeTestPlan(path.join(root, 'empty'), { ...settings, stages: [] });
    expect(await refused('pipeline', file, '--dry-run')).toMatch(/"stages": expected at least one stage, found an empty list/);
  });
});

describe('a pipeline output is read as its stages', () => {
  it('by expert-load: its MoE stage (the dense one logs no expert load)', async () => {
    const r = await cli('expert-load', out, '--out', path.join(root, 'plots'), '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).runs.map((x: { run: string }) => x.run)).toEqual(['out/03-moe']);
  });

  it('by fit (readDataset): each train stage a model of its own size', async () => {
    const points = readDataset(out, { lossColumn: 'eval_loss' });
    expect([...new Set(points.map((p) => p.model))]).toEqual(['out/01-dense', 'out/03-moe']);
    expect(new Set(points.map((p) => p.params)).size).toBe(2);
    const r = await cli('fit', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).fit).toMatchObject({ modelSizes: 2 });
  });

  it('by the transforms: a stage folder is a checkpoint (lowrank and export --dense refused it for its trainer_state.json)', async () => {
    const low = path.join(root, 'stage-lowrank');
    for (const args of [
      ['lowrank', path.join(out, '01-dense'), '--out', low, '--rank', '4', '--no-keep-first-dense'],
      ['export', low, '--dense', '--out', path.join(root, 'stage-dense')],
      ['upcycle', path.join(out, '01-dense'), '--out', path.join(root, 'stage-moe'), '--experts', '2', '--top-k', '1', '--stream'],
    ]) {
      const r = await cli(...args, '--backend', 'cpu', '--json');
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(0);
    }
    expect(JSON.parse(fs.readFileSync(path.join(root, 'stage-dense', 'config.json'), 'utf8')).efficientscale).toBeUndefined();
  });

  it('fit of a missing file says "no such file"', async () => {
    expect(await refused('fit', path.join(root, 'missing.csv'))).toMatch(/missing\.csv: expected a readable CSV file, found no such file/);
  });
});
