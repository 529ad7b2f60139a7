import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf } from '../tf.js';
import { UserError } from '../errors.js';
import { llamaConfig } from '../model/config.js';
import { initParams } from '../model/params.js';
import { disposeModel, loadModel, saveModel } from '../model/load.js';
import { readTokenizerJson } from '../data/tokenizer-json.js';
import { loadCheckpointFiles, MODEL_INDEX_FILE } from './checkpoint.js';
import { parseJsonObject } from './read.js';
import { readBytes } from './read-file.js';

/** "A loader that cannot finish says why": every case here is refused with one UserError line, fast. */
const config = llamaConfig({ vocab: 16, hidden: 8, ffn: 16, layers: 1, heads: 2, maxPositions: 8 });
let root: string;
let good: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'es-loader-errors-'));
  good = path.join(root, 'good');
  const params = initParams(config, 1);
  saveModel(good, config, params, null);
  tf.dispose(Object.values(params));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

let n = 0;
/** A copy of the good checkpoint, changed by `edit`. */
function variant(edit: (dir: string) => void): string {
  const dir = path.join(root, `case-${n++}`);
  fs.cpSync(good, dir, { recursive: true });
  edit(dir);
  return dir;
}

function refusal(load: () => unknown): string {
  const started = performance.now();
  let caught: unknown;
  try {
    const loaded = load();
    if (loaded && typeof loaded === 'object' && 'params' in loaded && 'config' in loaded && !('optimizer' in loaded)) disposeModel(loaded as never);
  } catch (err) {
    caught = err;
  }
  expect(performance.now() - started).toBeLessThan(2000);
  expect(caught, 'accepted').toBeInstanceOf(UserError);
  const message = (caught as Error).message;
  expect(message).not.toMatch(/[\r\n]/);
  return message;
}
const both = (dir: string): string[] => [refusal(() => loadCheckpointFiles(dir)), refusal(() => loadModel(dir))];

describe('loading a checkpoint that cannot be read says why, in one line', () => {
  it('model.safetensors truncated anywhere', () => {
    const size = fs.statSync(path.join(good, 'model.safetensors')).size;
    for (const cut of [0, 5, 8, 40, size - 1]) {
      const dir = variant((d) => fs.truncateSync(path.join(d, 'model.safetensors'), cut));
      for (const m of both(dir)) expect(m).toMatch(/model\.safetensors: .*expected .*found/);
    }
  });

  it('config.json truncated or broken inside a pretty-printed file (JSON.parse quotes it, newlines and all)', () => {
    const text = fs.readFileSync(path.join(good, 'config.json'), 'utf8');
    for (const broken of [text.slice(0, 60), text.replace('"hidden_size": 8', '"hidden_size": x'), text.replace(/,\n/, ',\n}\n')]) {
      const dir = variant((d) => fs.writeFileSync(path.join(d, 'config.json'), broken));
      for (const m of both(dir)) expect(m).toMatch(/config\.json: expected valid JSON, found a parse error/);
    }
    expect(() => parseJsonObject('{\n"a":\n}', 'x.json')).toThrow(/^x\.json: expected valid JSON, found a parse error \(Unexpected token.*\\n/);
  });

  it('directories where files belong', () => {
    const configDir = variant((d) => {
      fs.rmSync(path.join(d, 'config.json'));
      fs.mkdirSync(path.join(d, 'config.json'));
    });
    for (const m of both(configDir)) expect(m).toMatch(/config\.json: expected a JSON file, found a directory$/);
    const modelDir = variant((d) => {
      fs.rmSync(path.join(d, 'model.safetensors'));
      fs.mkdirSync(path.join(d, 'model.safetensors'));
    });
    for (const m of both(modelDir)) expect(m).toMatch(/model\.safetensors: expected a safetensors file, found a directory$/);
  });

  it('a named pipe as config.json or model.safetensors (reading one would block forever)', () => {
    const fifo = (name: string) =>
      variant((d) => {
        fs.rmSync(path.join(d, name));
        execFileSync('mkfifo', [path.join(d, name)]);
      });
    for (const m of both(fifo('config.json'))) expect(m).toMatch(/config\.json: expected a JSON file, found a named pipe \(FIFO\)/);
    for (const m of both(fifo('model.safetensors'))) expect(m).toMatch(/model\.safetensors: expected a safetensors file, found a named pipe/);
    expect(refusal(() => readBytes('/dev/zero', 'a safetensors file'))).toBe('/dev/zero: expected a safetensors file, found a device file');
  });

  it('links to nothing and link loops', () => {
    const dangling = variant((d) => {
      fs.rmSync(path.join(d, 'model.safetensors'));
      fs.symlinkSync('gone.safetensors', path.join(d, 'model.safetensors'));
    });
    expect(refusal(() => loadCheckpointFiles(dangling))).toMatch(/model\.safetensors: expected a file \(or a link to one\), found a symbolic link to nothing, or a link loop$/);
    const loop = variant((d) => {
      fs.rmSync(path.join(d, 'config.json'));
      fs.symlinkSync('config.json', path.join(d, 'config.json'));
    });
    expect(refusal(() => loadCheckpointFiles(loop))).toMatch(/config\.json: expected a file .*link loop$/);
    expect(refusal(() => readBytes(path.join(loop, 'config.json'), 'a JSON file'))).toMatch(/config\.json: expected a JSON file, found a symbolic link loop$/);
  });

  // Permission bits do not stop root, so this case only runs as an ordinary user.
  it.skipIf(process.getuid?.() === 0)('a file this user may not read', () => {
    const dir = variant((d) => fs.chmodSync(path.join(d, 'model.safetensors'), 0o000));
    for (const m of both(dir)) expect(m).toMatch(/model\.safetensors: expected a safetensors file, found .*EACCES/);
  });

  it('a sharded directory whose index names missing shards, no weight_map, or a path outside it', () => {
    const sharded = (index: unknown) =>
      variant((d) => {
        fs.rmSync(path.join(d, 'model.safetensors'));
        fs.writeFileSync(path.join(d, MODEL_INDEX_FILE), JSON.stringify(index));
      });
    const missing = sharded({ metadata: {}, weight_map: { 'model.embed_tokens.weight': 'model-00001-of-00002.safetensors', 'lm_head.weight': 'model-00002-of-00002.safetensors' } });
    expect(refusal(() => loadCheckpointFiles(missing))).toMatch(
      /model-00001-of-00002\.safetensors: expected a shard listed in model\.safetensors\.index\.json \(for 1 tensor, e\.g\. "model\.embed_tokens\.weight"\), found no such file$/,
    );
    expect(refusal(() => loadModel(missing))).toMatch(/model-0000[12]-of-00002\.safetensors.*found no such file/);
    for (const m of both(sharded({ metadata: {} }))) expect(m).toMatch(/weight_map: expected an object of tensor name → shard file, found nothing \(missing\)$/);
    for (const m of both(sharded({ weight_map: { 'lm_head.weight': '../good/model.safetensors' } }))) expect(m).toMatch(/expected a shard file name in the same directory/);
  });

  it('tokenizer.json missing its model field, or cut short', () => {
    const file = path.join(root, 'tokenizer.json');
    fs.writeFileSync(file, JSON.stringify({ version: '1.0', normalizer: null, pre_tokenizer: null, added_tokens: [] }));
    expect(refusal(() => readTokenizerJson(file))).toMatch(/tokenizer\.json: "model": expected an object \(BPE, WordPiece, Unigram, WordLevel\), found nothing \(missing\)$/);
    fs.writeFileSync(file, '{\n  "version": "1.0",\n  "model": {');
    expect(refusal(() => readTokenizerJson(file))).toMatch(/tokenizer\.json: expected valid JSON, found a parse error/);
  });
});
