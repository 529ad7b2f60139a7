import { describe, expect, it } from 'vitest';
import { dropHighestLoss, parseCsv, parseJsonl, parseSize, splitCsv } from './data.js';
import { ScalingLawError } from './errors.js';
import { TWO_SIZES_WARNING, fitLaw } from './fit.js';
import { readDataset } from './read.js';
import { CHINCHILLA_CSV, GPT3_CSV, OPT_CSV } from './testing/shared-data.js';

const GOOD = 'params,tokens,loss\n1e7,1e9,4\n1e8,1e9,3.5\n1e9,1e10,3\n';

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

describe('parseCsv', () => {
  it('reads generic columns with case-insensitive headers, and flops in place of tokens', () => {
    const pts = parseCsv('Loss,PARAMS,Tokens,Model,Family\n3.1,1e8,2e9,a,f\n', 'x.csv');
    expect(pts).toEqual([{ params: 1e8, tokens: 2e9, loss: 3.1, model: 'a', family: 'f', where: 'x.csv row 2' }]);
    const viaFlops = parseCsv('params,flops,loss\n1e8,1.2e18,3\n', 'y.csv');
    expect(viaFlops[0].tokens).toBeCloseTo(2e9);
  });

  it('reads unique tokens for repeated data', () => {
    const pts = parseCsv('params,tokens,unique_tokens,loss\n1e8,4e9,1e9,3\n', 'r.csv');
    expect(pts[0].uniqueTokens).toBe(1e9);
    expect(() => parseCsv('params,tokens,unique_tokens,loss\n1e8,4e9,0,3\n', 'r.csv')).toThrow(
      'r.csv row 2: uniqueTokens: expected a positive finite number, found 0',
    );
  });

  it('handles quoted fields and CRLF', () => {
    expect(splitCsv('a,"b,c"\r\n"d ""e""",f\r\n').map((r) => r.fields)).toEqual([['a', 'b,c'], ['d "e"', 'f']]);
  });

  it.each([
    ['a negative loss', 'params,tokens,loss\n1e7,1e9,-4\n', 'bad.csv row 2: loss: expected a positive finite number, found -4'],
    ['zero params', 'params,tokens,loss\n0,1e9,4\n', 'bad.csv row 2: params: expected a positive finite number, found 0'],
    ['NaN tokens', 'params,tokens,loss\n1e7,1e9,4\n1e8,NaN,4\n', 'bad.csv row 3: tokens: expected a number, found "NaN"'],
    ['text in a number column', 'params,tokens,loss\n1e7,lots,4\n', 'bad.csv row 2: tokens: expected a number, found "lots"'],
    ['an empty loss', 'params,tokens,loss\n1e7,1e9,\n', 'bad.csv row 2: loss: expected a number, found nothing'],
    ['a short row', 'params,tokens,loss\n1e7,1e9\n', 'bad.csv row 2: expected 3 fields, found 2'],
    ['a missing column', 'params,loss_value\n1,2\n', 'bad.csv: header: expected columns params, tokens (or flops) and loss, found params,loss_value'],
  ])('rejects %s with a one-line error naming the row', (_, text, message) => {
    const err = errorOf(() => parseCsv(text, 'bad.csv'));
    expect(err).toBeInstanceOf(ScalingLawError);
    expect(err.name).toBe('ScalingLawError');
    expect(err.message).toBe(message);
  });

  it('refuses to fit one model size and warns about two', () => {
    const pts = parseCsv('params,tokens,loss\n1e7,1e9,4\n1e7,2e9,3.9\n1e8,1e9,3.5\n1e8,2e9,3.4\n', 'two.csv');
    expect(errorOf(() => fitLaw(pts.filter((p) => p.params === 1e7))).message).toBe(
      'distinct model sizes: expected at least 2 (the N-exponent needs two sizes to compare), found 1',
    );
    expect(fitLaw(pts).warnings).toEqual([TWO_SIZES_WARNING]);
    expect(fitLaw(pts, { fixed: { alpha: 0.34 } }).warnings).toEqual([]);
    expect(fitLaw(parseCsv(GOOD, 'ok.csv'), { law: 'params' }).points).toBe(3);
  });

  it('names the point when values given through the API are bad', () => {
    const err = errorOf(() => fitLaw([{ params: 1e7, tokens: 1e9, loss: Number.NaN }]));
    expect(err.message).toBe('point 1: loss: expected a positive finite number, found NaN');
  });
});

describe('parseJsonl', () => {
  it('reads metrics.jsonl records with the params option and names the run after the file', () => {
    const text = '{"step":10,"tokens":40960,"flops":1e12,"loss":5.2}\n\n{"step":20,"tokens":81920,"flops":2e12,"loss":4.9}\n';
    const pts = parseJsonl(text, 'runs/a/metrics.jsonl', { params: 4e6 });
    expect(pts.map((p) => [p.params, p.tokens, p.loss, p.model])).toEqual([
      [4e6, 40960, 5.2, 'runs/a/metrics.jsonl'],
      [4e6, 81920, 4.9, 'runs/a/metrics.jsonl'],
    ]);
    expect(parseJsonl('{"step":1,"tokens":10,"flops":1,"loss":2,"params":7}', 'm.jsonl')[0].params).toBe(7);
  });

  it('asks for params when a line has none', () => {
    expect(errorOf(() => parseJsonl('{"tokens":10,"loss":2}', 'm.jsonl')).message).toBe(
      'm.jsonl line 1: params: expected a number (or the params option), found nothing',
    );
    expect(errorOf(() => parseJsonl('{"params":1,"tokens":10,"loss":2}\nnot json', 'm.jsonl')).message).toBe(
      'm.jsonl line 2: expected a JSON object, found "not json"',
    );
  });
});

describe('the shared data sets', () => {
  it('reads the Chinchilla points with D = C / 6N', () => {
    const pts = readDataset(CHINCHILLA_CSV);
    expect(pts).toHaveLength(245);
    expect(Math.min(...pts.map((p) => p.tokens))).toBeCloseTo(2.45e8, -7);
    expect(new Set(pts.map((p) => p.params)).size).toBeGreaterThan(40);
    const kept = dropHighestLoss(pts, 5);
    expect(Math.max(...kept.map((p) => p.loss))).toBeLessThan(Math.max(...pts.map((p) => p.loss)));
  });

  it('reads the GPT-3 curves (billions of tokens, Table 2.1 sizes) and OPT trajectories (log10 tokens, ln ppl)', () => {
    const gpt3 = readDataset(GPT3_CSV);
    expect(new Set(gpt3.map((p) => p.params))).toEqual(new Set([125e6, 350e6, 760e6, 1.3e9, 2.7e9, 6.7e9, 13e9, 175e9]));
    expect(Math.max(...gpt3.map((p) => p.tokens))).toBeCloseTo(300e9, -9);
    const opt = readDataset(OPT_CSV);
    expect(opt).toHaveLength(142);
    const first = opt[0];
    expect([first.params, first.tokens, first.loss]).toEqual([125e6, 1e9, Math.log(67.52265444265277)]);
    expect(parseSize('1.3b', 'x')).toBe(1.3e9);
  });
});
