import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as fc from 'fast-check';
import { tf } from '../tf.js';
import { UserError, mismatch } from '../errors.js';
import { llamaConfig } from '../model/config.js';
import { checkParams, initParams } from '../model/params.js';
import { forward } from '../model/forward.js';
import { fromRaw, mapValues, toRaw } from '../model/raw.js';
import { decodeSafetensors, encodeSafetensors, type RawTensor } from '../io/safetensors.js';
import { SafetensorsFile } from '../hf/safetensors-file.js';
import { assertFinite } from '../io/nonfinite.js';
import { FUZZ_SEED, classify, fuzzRuns, fuzzTimeout, yieldToVitest, jsonValue, newTally, report } from './fuzz-util.js';

const RUNS = fuzzRuns(1500);

const config = llamaConfig({ vocab: 16, hidden: 8, ffn: 16, layers: 1, heads: 2, maxPositions: 8 });
const DISK_FILE = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'es-fuzz-st-')), 'model.safetensors');
afterAll(() => fs.rmSync(path.dirname(DISK_FILE), { recursive: true, force: true }));
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
  /** Also written to disk and read tensor by tensor (loadModel's reader): 1 case in 8. */
  onDisk: fc.integer({ min: 0, max: 7 }).map((k) => k === 0),
});

/** Outcome of a read: the tensors, or the refusal's message with the file name taken out. */
function outcome(read: () => Record<string, RawTensor>): { tensors?: Record<string, RawTensor>; refusal?: string } {
  try {
    return { tensors: read() };
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    return { refusal: err.message.split(DISK_FILE).join('model.safetensors') };
  }
}

/** The whole-file decoder and the tensor-by-tensor file reader accept the same files, with the same tensors, or refuse them alike. */
let comparedOnDisk = 0;
function expectReadersAgree(bytes: Uint8Array): void {
  comparedOnDisk++;
  fs.writeFileSync(DISK_FILE, bytes);
  const whole = outcome(() => decodeSafetensors(bytes, 'model.safetensors').tensors);
  const streamed = outcome(() => {
    const f = SafetensorsFile.open(DISK_FILE);
    try {
      return Object.fromEntries(f.names.map((name) => [name, f.read(name)]));
    } finally {
      f.close();
    }
  });
  expect(streamed.refusal).toBe(whole.refusal);
  if (whole.tensors) expect(streamed.tensors).toEqual(whole.tensors);
}

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
        const bytes = file(text, body, m.lengthDelta);
        if (m.onDisk) expectReadersAgree(bytes);
        classify(tally, () => {
          const { tensors } = decodeSafetensors(bytes, 'model.safetensors');
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
    console.log(`fuzz model.safetensors: ${comparedOnDisk} cases also read tensor by tensor from disk, same outcome as the whole-file decoder`);
    expect(comparedOnDisk).toBeGreaterThan(0);
    expect(tally.accepted).toBeGreaterThan(0);
    expect(tally.refused).toBeGreaterThan(0);
  }, fuzzTimeout(RUNS, 1500, 120_000));
});
