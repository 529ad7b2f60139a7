import { beforeAll, describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import { tf } from '../tf.js';
import { mismatch } from '../errors.js';
import { llamaConfig } from '../model/config.js';
import { checkParams, initParams } from '../model/params.js';
import { forward } from '../model/forward.js';
import { fromRaw, mapValues, toRaw } from '../model/raw.js';
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors.js';
import { assertFinite } from '../io/nonfinite.js';
import { FUZZ_SEED, classify, fuzzRuns, fuzzTimeout, yieldToVitest, jsonValue, newTally, report } from './fuzz-util.js';

const RUNS = fuzzRuns(1500);

const config = llamaConfig({ vocab: 16, hidden: 8, ffn: 16, layers: 1, heads: 2, maxPositions: 8 });
let header: Record<string, Record<string, unknown>>;
let data: Uint8Array;

beforeAll(async () => {
  await tf.setBackend('cpu');
  const params = initParams(config, 3);
  const bytes = encodeSafetensors(mapValues(params, toRaw), { format: 'pt' });
  tf.dispose(Object.values(params));
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8'));
  data = bytes.subarray(8 + n);
});

function file(headerText: string, body: Uint8Array, lengthDelta = 0): Uint8Array {
  const json = Buffer.from(headerText, 'utf8');
  const out = new Uint8Array(8 + json.length + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(Math.max(0, json.length + lengthDelta)), true);
  out.set(json, 8);
  out.set(body, 8 + json.length);
  return out;
}

const FIELDS = ['dtype', 'shape', 'data_offsets'];
const entryMutation = fc.record({
  tensor: fc.nat(),
  field: fc.constantFrom(...FIELDS, 'extra'),
  value: fc.oneof(jsonValue, fc.constantFrom('F16', 'BF16', 'I64', 'U8', 'F8_E4M3', 'Q4', '<delete>', '<swap>', '<shift>', '<transpose>')),
});
const fileMutation = fc.record({
  entries: fc.array(entryMutation, { maxLength: 3 }),
  lengthDelta: fc.constantFrom(0, 0, 0, -1, 1, 7, -1000, 2 ** 40),
  body: fc.constantFrom('same', 'same', 'truncate', 'extend', 'nan', 'inf'),
  text: fc.constantFrom('json', 'json', 'json', 'duplicate', 'float', 'leading-space', 'garbage'),
});

describe('model.safetensors fuzz', () => {
  it('every mutated file is refused with one UserError line, or loads against config.json and runs', async () => {
    const runs = RUNS;
    const tally = newTally();
    const started = performance.now();
    await fc.assert(
      fc.asyncProperty(fileMutation, async (m) => {
        await yieldToVitest();
        const h: Record<string, Record<string, unknown>> = JSON.parse(JSON.stringify(header));
        const names = Object.keys(h).filter((k) => k !== '__metadata__');
        for (const e of m.entries) {
          const entry = h[names[e.tensor % names.length]];
          const field = e.field;
          const v = e.value;
          const offsets = entry.data_offsets as number[];
          const shape = entry.shape as number[];
          if (v === '<delete>') delete entry[field];
          else if (v === '<swap>' && Array.isArray(offsets)) entry.data_offsets = [offsets[1], offsets[0]];
          else if (v === '<shift>' && Array.isArray(offsets)) entry.data_offsets = [offsets[0] + 4, offsets[1] + 4];
          else if (v === '<transpose>' && Array.isArray(shape)) entry.shape = [...shape].reverse(); // same element count, other shape
          else entry[field] = v;
        }
        let text = JSON.stringify(h);
        if (m.text === 'duplicate') text = text.replace('{', `{"${names[0]}":${JSON.stringify(h[names[0]])},`);
        if (m.text === 'float') text = text.replace(/"shape":\[(\d+)/, '"shape":[$1.0');
        if (m.text === 'leading-space') text = ' ' + text;
        if (m.text === 'garbage') text = text.slice(0, text.length >> 1);
        let body = data.slice();
        if (m.body === 'truncate') body = body.subarray(0, body.length - 4);
        if (m.body === 'extend') body = Uint8Array.from([...body, 0, 0, 0, 0]);
        if (m.body === 'nan' || m.body === 'inf') new DataView(body.buffer).setFloat32(0, m.body === 'nan' ? NaN : Infinity, true);
        classify(tally, () => {
          const { tensors } = decodeSafetensors(file(text, body, m.lengthDelta), 'model.safetensors');
          checkParams(config, tensors, 'model.safetensors');
          for (const [name, t] of Object.entries(tensors)) {
            if (t.dtype !== 'F32') throw mismatch(`weight "${name}"`, 'a floating-point tensor', t.dtype); // as loadModel refuses it
          }
          assertFinite(tensors, 'model.safetensors', '');
          const params = mapValues(tensors, fromRaw);
          const tokens = tf.tensor2d([[1, 2, 3]], [1, 3], 'int32');
          const logits = forward(config, params, tokens);
          const finite = tf.tidy(() => tf.all(tf.isFinite(logits)).dataSync()[0]);
          expect(finite).toBe(1);
          tf.dispose([logits, tokens, ...Object.values(params)]);
          return 'accepted';
        });
      }),
      { numRuns: runs, seed: FUZZ_SEED },
    );
    report('model.safetensors', runs, tally, (performance.now() - started) / 1000);
    expect(tally.accepted).toBeGreaterThan(0);
    expect(tally.refused).toBeGreaterThan(0);
  }, fuzzTimeout(RUNS, 1500, 120_000));
});
