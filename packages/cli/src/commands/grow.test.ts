import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { countParams, initParams, llamaConfig, loadModel, disposeModel, saveModel, tf } from '@efficientscale/core/node';
import { cli } from './test-util.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-grow-cli-'));
const source = path.join(tmp, 'small');

beforeAll(async () => {
  await tf.setBackend('cpu');
  const config = llamaConfig({ vocab: 32, hidden: 8, ffn: 12, layers: 1, heads: 2, maxPositions: 32 });
  const params = initParams(config, 2, 0.2);
  saveModel(source, config, params, null);
  tf.dispose(Object.values(params));
});

describe('efficientscale grow', () => {
  it('grows width and depth exactly and prints the report as JSON', async () => {
    const out = path.join(tmp, 'grown');
    const r = await cli('grow', source, '--out', out, '--hidden', '16', '--ffn', '20', '--layers', '3', '--width-method', 'lossless', '--depth-method', 'copy', '--backend', 'cpu', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.exact).toBe(true);
    expect(report.maxLogitGap).toBeLessThan(1e-4);
    expect(report.width.after).toEqual({ hidden: 16, heads: 4, kvHeads: 4, ffn: 20 });
    expect(report.depth.newLayers).toHaveLength(2);
    const model = loadModel(out);
    expect(countParams(model.config)).toBe(report.paramsAfter);
    disposeModel(model);
  });

  it('prints a readable report, with the measured gap of aki', async () => {
    const r = await cli('grow', source, '--out', path.join(tmp, 'aki'), '--ffn', '16', '--width-method', 'aki', '--backend', 'cpu');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/width \(aki\): hidden 8 → 8, heads 2 → 2, kv heads 2 → 2, ffn 12 → 16/);
    expect(r.stdout).toMatch(/not exact; probe logits: max \|Δ\| \d/);
  });

  it('refuses a non-empty --out, shrinking and unknown methods with one-line errors', async () => {
    const busy = path.join(tmp, 'busy');
    fs.mkdirSync(busy);
    fs.writeFileSync(path.join(busy, 'x'), '');
    const a = await cli('grow', source, '--out', busy, '--layers', '2', '--backend', 'cpu');
    expect(a.code).not.toBe(0);
    expect(a.stderr).toMatch(/expected a new or empty directory/);
    const b = await cli('grow', source, '--out', path.join(tmp, 'no'), '--hidden', '4', '--backend', 'cpu');
    expect(b.code).not.toBe(0);
    expect(b.stderr).toMatch(/new hidden: expected an integer >= the current hidden \(8\)/);
    expect(fs.existsSync(path.join(tmp, 'no'))).toBe(false);
    const c = await cli('grow', source, '--out', path.join(tmp, 'no'), '--layers', '2', '--depth-method', 'magic', '--backend', 'cpu');
    expect(c.code).not.toBe(0);
    expect(fs.existsSync(path.join(tmp, 'no'))).toBe(false);
  });

  it('refuses heads not dividing the new hidden size, KV heads not dividing heads and an unknown width method, writing nothing', async () => {
    const out = path.join(tmp, 'never');
    const cases: Array<[string[], RegExp]> = [
      [['--hidden', '12', '--heads', '5'], /new heads: expected a divisor of the hidden size \(12\), found 5/],
      [['--hidden', '16', '--heads', '4', '--kv-heads', '3'], /new kvHeads: expected a divisor of the number of heads \(4\), found 3/],
      [['--hidden', '16', '--width-method', 'magic'], /--width-method.*magic/],
      [['--layers', '0'], /--layers/],
    ];
    for (const [flags, message] of cases) {
      const r = await cli('grow', source, '--out', out, ...flags, '--backend', 'cpu');
      expect(r.code, flags.join(' ')).not.toBe(0);
      expect(r.stderr, flags.join(' ')).toMatch(message);
      expect(r.stderr.trim().split('\n').length, r.stderr).toBeLessThanOrEqual(2);
      expect(fs.existsSync(out)).toBe(false);
    }
  });
});
