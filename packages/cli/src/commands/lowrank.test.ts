import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf, forward, initParams, llamaConfig, loadModel, saveModel, disposeModel } from '@efficientscale/core/node';
import { cli } from './test-util.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-lowrank-'));
const source = path.join(tmp, 'dense');
const corpus = path.join(tmp, 'corpus.txt');

beforeAll(async () => {
  await tf.setBackend('cpu');
  const config = llamaConfig({ vocab: 256, hidden: 16, ffn: 24, layers: 2, heads: 2, maxPositions: 32 });
  const params = initParams(config, 4, 0.2);
  saveModel(source, config, params, null);
  tf.dispose(Object.values(params));
  fs.writeFileSync(corpus, 'a small corpus of words for the held-out loss. '.repeat(20));
});

describe('efficientscale lowrank / export --dense', () => {
  it('converts, evaluates, and exports back to a dense checkpoint with the same logits', async () => {
    const low = path.join(tmp, 'low');
    const r = await cli('lowrank', source, '--out', low, '--rank', '16', '--force', '--backend', 'cpu', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.weights).toHaveLength(3); // layer 0 stays dense
    expect(report.probeMaxAbsLogitDiff).toBeLessThan(1e-4);
    const config = JSON.parse(fs.readFileSync(path.join(low, 'config.json'), 'utf8'));
    expect(config.efficientscale.ffn_kinds).toEqual(['dense', 'lowrank']);

    const e = await cli('eval', low, '--corpus', corpus, '--batch', '1', '--seq', '8', '--batches', '1', '--backend', 'cpu', '--json');
    expect(e.code).toBe(0);
    expect(JSON.parse(e.stdout).eval_loss).toBeGreaterThan(0);

    const dense = path.join(tmp, 'dense-again');
    const x = await cli('export', low, '--dense', '--out', dense, '--backend', 'cpu', '--json');
    expect(x.code).toBe(0);
    expect(JSON.parse(x.stdout).layers).toEqual([1]);
    const a = loadModel(source);
    const b = loadModel(dense);
    expect(b.config.efficientscale).toBeUndefined();
    const tokens = tf.tensor2d([[3, 70, 200, 9]], [1, 4], 'int32');
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(forward(a.config, a.params, tokens), forward(b.config, b.params, tokens)))).dataSync()[0]);
    expect(diff).toBeLessThan(1e-4);
    tokens.dispose();
    disposeModel(a);
    disposeModel(b);
  });

  it('reports a lossy conversion in words and refuses a non-empty --out, a rank at break-even, or two rank flags', async () => {
    const out = path.join(tmp, 'lossy');
    const r = await cli('lowrank', source, '--out', out, '--fraction', '0.3', '--backend', 'cpu');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/model\.layers\.1\.mlp\.down_proj\.weight \[16,24\] rank 2 \(break-even 9\.6\)/);
    const again = await cli('lowrank', source, '--out', out, '--rank', '2', '--backend', 'cpu');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/--out .*lossy: expected a new or empty directory, found \d+ entries \(/);
    const even = await cli('lowrank', source, '--out', path.join(tmp, 'x1'), '--rank', '10', '--backend', 'cpu');
    expect(even.code).toBe(1);
    expect(even.stderr).toMatch(/break-even rank 9\.60/);
    const two = await cli('lowrank', source, '--out', path.join(tmp, 'x2'), '--rank', '2', '--energy', '0.9', '--backend', 'cpu');
    expect(two.stderr).toMatch(/exactly one of --rank, --fraction, --energy, found 2/);
    expect(fs.existsSync(path.join(tmp, 'x1'))).toBe(false);
  });

  it('converts activation-aware with calibration sequences from a corpus', async () => {
    const plain = await cli('lowrank', source, '--out', path.join(tmp, 'plain'), '--rank', '2', '--backend', 'cpu', '--json');
    const aware = await cli('lowrank', source, '--out', path.join(tmp, 'aware'), '--rank', '2', '--calibrate', '4', '--seq', '16', '--corpus', corpus, '--backend', 'cpu', '--json');
    expect(aware.stderr).toBe('');
    expect(aware.code).toBe(0);
    const [p, a] = [JSON.parse(plain.stdout), JSON.parse(aware.stdout)];
    // Whitened factors trade weight-space error for error on the inputs: never better in weight space.
    for (let i = 0; i < 3; i++) expect(a.weights[i].relativeError).toBeGreaterThanOrEqual(p.weights[i].relativeError * (1 - 1e-4));
    const tooMany = await cli('lowrank', source, '--out', path.join(tmp, 'x3'), '--rank', '2', '--calibrate', '1000', '--seq', '16', '--corpus', corpus, '--backend', 'cpu');
    expect(tooMany.stderr).toMatch(/--calibrate: expected at most \d+ sequences of 16 tokens/);
    // --aware CORPUS (the flag) is --corpus with --calibrate defaulting to 16 sequences.
    const viaAware = await cli('lowrank', source, '--out', path.join(tmp, 'aware2'), '--rank', '2', '--aware', corpus, '--calibrate', '4', '--seq', '16', '--backend', 'cpu', '--json');
    expect(viaAware.code, viaAware.stderr).toBe(0);
    expect(JSON.parse(viaAware.stdout).weights).toEqual(a.weights);
    const sixteen = await cli('lowrank', source, '--out', path.join(tmp, 'aware16'), '--rank', '2', '--aware', corpus, '--seq', '16', '--backend', 'cpu', '--json');
    const many = await cli('lowrank', source, '--out', path.join(tmp, 'aware16b'), '--rank', '2', '--calibrate', '16', '--corpus', corpus, '--seq', '16', '--backend', 'cpu', '--json');
    expect(JSON.parse(sixteen.stdout).weights).toEqual(JSON.parse(many.stdout).weights);
    expect(JSON.parse(sixteen.stdout).weights).not.toEqual(a.weights);
    const both = await cli('lowrank', source, '--out', path.join(tmp, 'x4'), '--rank', '2', '--aware', corpus, '--corpus', corpus, '--backend', 'cpu');
    expect(both.stderr).toMatch(/at most one of --aware, --corpus/);
  });
});
