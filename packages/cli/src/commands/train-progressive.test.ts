import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ByteTokenizer, countParams, flopsPerToken, getPreset, llamaConfig, startRun } from '@efficientscale/core/node';
import { growStage, planProgressive } from '@efficientscale/progressive';
import { cli } from './test-util.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-train-progressive-'));
const corpus = path.join(tmp, 'corpus.txt');
const configFile = path.join(tmp, 'config.json');
const target = llamaConfig({ vocab: 256, hidden: 16, ffn: 32, layers: 3, heads: 2, maxPositions: 64 });
const quick = ['--config', configFile, '--corpus', corpus, '--batch', '2', '--seq', '16', '--backend', 'cpu', '--lr', '0.01', '--json'];
const text = 'It was the best of times, it was the worst of times, it was the age of wisdom.\n'.repeat(60);

const metrics = (dir: string) => fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const checkpointFile = (dir: string, name: string) => JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint', name), 'utf8'));
const depth = (layers: number) => ({ ...target, num_hidden_layers: layers });
const stepFlops = (layers: number) => (layers === 0 ? 6 * 256 * 16 : flopsPerToken(depth(layers), 16).trainPerToken) * 2 * 16;

beforeAll(() => {
  fs.writeFileSync(corpus, text);
  fs.writeFileSync(configFile, JSON.stringify(target));
});

describe('efficientscale train --progressive', () => {
  it('0 → 3 layers at 50%: grows mid-run on a wsd schedule, logs the new size and FLOPs, records the growth, and resumes the grown model', async () => {
    const dir = path.join(tmp, 'zero');
    // Zero blocks (exact) rather than the default random ones from 0 layers; a 20% decay so that 10 steps have more than one decay step.
    const r = await cli('train', ...quick, '--steps', '10', '--out', dir, '--progressive', '--from-layers', '0', '--grow-at', '0.5', '--grow-method', 'zero', '--decay', '0.2');
    expect(r.code, r.stderr).toBe(0);
    const log = metrics(dir);
    const small = countParams(depth(1)) - (countParams(depth(2)) - countParams(depth(1)));
    expect(log.map((m) => m.params)).toEqual([...Array(5).fill(small), ...Array(5).fill(countParams(target))]);
    expect(log[4].flops).toBe(5 * stepFlops(0));
    expect(log[9].flops).toBe(5 * stepFlops(0) + 5 * stepFlops(3));
    expect(log.every((m) => Number.isFinite(m.loss))).toBe(true);
    expect(log[9].loss).toBeLessThan(log[0].loss);
    // The LR is at its peak at and around the growth (stable phase), decaying only at the end.
    expect(log[4].lr).toBe(0.01);
    expect(log[5].lr).toBe(0.01);
    expect(log[9].lr).toBeLessThan(0.01);
    expect(JSON.parse(r.stdout).params).toBe(countParams(target));
    expect(checkpointFile(dir, 'config.json').num_hidden_layers).toBe(3);
    const state = checkpointFile(dir, 'trainer_state.json');
    expect(state.spec.trainer.schedule.kind).toBe('wsd');
    expect(state.growth.schedule).toEqual([{ step: 5, stage: { layers: 3, depthMethod: 'zero', seed: 0 } }]);
    expect(state.growth.done).toEqual([{ step: 5, paramsBefore: small, paramsAfter: countParams(target) }]);

    const resumed = await cli('train', '--resume', dir, '--steps', '12', '--corpus', corpus, '--backend', 'cpu', '--json');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(metrics(dir).map((m) => m.params).slice(10)).toEqual([countParams(target), countParams(target)]);
  });

  it('follows the published recipe by default: wsd with 2% warmup and the last 10% decaying to 0, one growth at 80% copying all layers (outputs kept), no re-warmup', async () => {
    const dir = path.join(tmp, 'recipe');
    const r = await cli('train', ...quick, '--steps', '100', '--out', dir, '--progressive');
    expect(r.code, r.stderr).toBe(0);
    const state = checkpointFile(dir, 'trainer_state.json');
    expect(state.spec.trainer.schedule).toEqual({ kind: 'wsd', lr: 0.01, warmup: 2, total: 100, decayFraction: 10 / 98, minRatio: 0 });
    expect(state.growth.schedule).toEqual([{ step: 80, stage: { layers: 3, depthMethod: 'copy', depthExact: false, seed: 0 } }]);
    const lrs = metrics(dir).map((m) => m.lr);
    // Peak from the end of warmup through the growth (step 81 runs the grown model) to the decay's start.
    expect(lrs.slice(1, 91).every((lr) => lr === 0.01)).toBe(true);
    expect(lrs[0]).toBe(0.005);
    expect(lrs[99]).toBeCloseTo(0.001, 12);
  });

  it('--pilot measures the catch-up after growth and grows so that it ends before the decay', async () => {
    const dir = path.join(tmp, 'pilot');
    const r = await cli('train', ...quick, '--steps', '200', '--out', dir, '--progressive', '--pilot', '--pilot-steps', '40');
    expect(r.code, r.stderr).toBe(0);
    const { pilot } = JSON.parse(r.stdout);
    expect(pilot.steps).toBe(40);
    expect(pilot.grew_at).toBe(4);
    expect(pilot.flops).toBeGreaterThan(0);
    const growth = checkpointFile(dir, 'trainer_state.json').growth;
    if (pilot.catch_up_steps === null) {
      // No catch-up within the pilot: the default growth point stays, and the note says so.
      expect(pilot.note).toContain('did not catch up');
      expect(growth.schedule[0].step).toBe(160);
    } else {
      // The decay starts at step 180 (the last 10% of 200 steps).
      expect(pilot.grow_step + pilot.catch_up_steps).toBe(180);
      expect(growth.schedule[0].step).toBe(pilot.grow_step);
    }
  });

  it('multi-stage --grow-at 0.25,0.5 --layers 1,2,3 --grow-method copy grows twice', async () => {
    const dir = path.join(tmp, 'stages');
    const r = await cli('train', ...quick.slice(0, -1), '--steps', '8', '--out', dir, '--progressive', '--grow-at', '0.25,0.5', '--layers', '1,2,3', '--grow-method', 'copy');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('progressive: 1 layers → 2 at step 2 → 3 at step 4 (copy, wsd schedule)');
    expect(r.stderr).toContain(`training ${countParams(target).toLocaleString('en')} parameters for 8 steps`);
    const log = metrics(dir);
    expect(log.map((m) => m.params)).toEqual([1, 1, 2, 2, 3, 3, 3, 3].map((l) => countParams(depth(l))));
    expect(log[7].flops).toBe(2 * stepFlops(1) + 2 * stepFlops(2) + 4 * stepFlops(3));
    expect(checkpointFile(dir, 'trainer_state.json').growth.done.map((d: { step: number }) => d.step)).toEqual([2, 4]);
  });

  it('--depth-lr-scale trains the new blocks at LR × 1/3 (1 → 3 layers), stored for resume', async () => {
    const dir = path.join(tmp, 'scaled');
    const plain = path.join(tmp, 'unscaled');
    const args = ['--steps', '6', '--progressive', '--grow-at', '0.5', '--grow-method', 'copy'];
    const r = await cli('train', ...quick, ...args, '--out', dir, '--depth-lr-scale');
    expect(r.code, r.stderr).toBe(0);
    await cli('train', ...quick, ...args, '--out', plain);
    const { growth } = checkpointFile(dir, 'trainer_state.json');
    expect(growth.schedule[0].stage.depthLrScale).toBe(true);
    const names = Object.keys(growth.lrScale);
    expect(names.length).toBe(2 * 9);
    expect(names.every((n) => /^model\.layers\.[12]\./.test(n) && growth.lrScale[n] === 1 / 3)).toBe(true);
    // Same until the growth, different after it.
    expect(metrics(dir).slice(0, 4).map((m) => m.loss)).toEqual(metrics(plain).slice(0, 4).map((m) => m.loss));
    expect(metrics(dir)[5].loss).not.toBe(metrics(plain)[5].loss);
  });

  it('a run resumed from a checkpoint taken before its growth grows on resume, as the uninterrupted run did', async () => {
    const spec = getPreset('tiny').spec;
    spec.totalSteps = 8;
    spec.checkpointEvery = 2;
    spec.evalEvery = 0;
    spec.trainer = { ...spec.trainer, batchSize: 2, seqLen: 16, schedule: { kind: 'wsd', lr: 0.01, warmup: 1, total: 8 } };
    const plan = planProgressive(target, { fromLayers: 1, growAt: [0.75] }, 8, spec.trainer.schedule);
    const options = { text, tokenizer: new ByteTokenizer(), config: plan.config, spec, growth: { schedule: plan.schedule, grow: growStage } };
    const straight = path.join(tmp, 'straight');
    await startRun({ ...options, outDir: straight });
    const killed = path.join(tmp, 'killed');
    await startRun({ ...options, outDir: killed, stopAfter: 4 });
    expect(checkpointFile(killed, 'config.json').num_hidden_layers).toBe(1);
    const r = await cli('train', '--resume', killed, '--corpus', corpus, '--backend', 'cpu', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(metrics(killed).map((m) => m.loss)).toEqual(metrics(straight).map((m) => m.loss));
    expect(checkpointFile(killed, 'config.json').num_hidden_layers).toBe(3);
  });

  it('refuses growth outside the stable phase, cosine, copy from 0 layers and stray flags, writing nothing', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--progressive', '--grow-at', '0.95'], /--grow-at 0.95 \(step 19\): expected a growth in the stable phase .* found a step in the decay/],
      [['--progressive', '--steps', '100', '--grow-at', '0.01'], /found a step in the warmup/],
      [['--progressive', '--schedule', 'cosine'], /--schedule with --progressive: expected wsd or constant/],
      [['--progressive', '--from-layers', '0', '--grow-method', 'copy'], /there is no layer to copy/],
      [['--progressive', '--grow-at', '0.5,0.8'], /--layers: expected the depth after each of the 2 growths/],
      [['--progressive', '--layers', '4,2'], /expected increasing non-negative integers, found 4,2/],
      [['--grow-at', '0.5'], /--grow-at: expected --progressive beside it/],
      [['--depth-lr-scale'], /--depth-lr-scale: expected --progressive beside it/],
      [['--progressive', '--grow-at', '0.5,x'], /--grow-at: expected a comma-separated list/],
      [['--pilot'], /--pilot: expected --progressive beside it/],
      [['--progressive', '--pilot-steps', '5'], /--pilot-steps: expected --pilot beside it/],
      [['--progressive', '--pilot', '--grow-at', '0.5,0.8', '--layers', '2,3'], /--pilot: expected one growth/],
      [['--schedule', 'cosine', '--decay', '0.1'], /--decay: expected --schedule wsd \(or --progressive\) beside it, found --schedule cosine/],
      [['--progressive', '--decay', '1.5'], /--decay: expected a fraction in \(0, 1\)/],
    ];
    for (const [flags, message] of cases) {
      const dir = path.join(tmp, 'refused');
      const r = await cli('train', ...quick, '--steps', '20', '--out', dir, ...flags);
      expect(r.code, flags.join(' ')).not.toBe(0);
      expect(r.stderr, flags.join(' ')).toMatch(message);
      expect(fs.existsSync(dir)).toBe(false);
    }
  });
});
