import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';
import { loadCheckpointFiles, readCheckpointText, saveCheckpoint } from './checkpoint.js';
import { encodeSafetensors, type RawTensor } from './safetensors.js';
import { readSafetensors } from './safetensors-fs.js';

const LLAMA_TINY = fileURLToPath(new URL('../../../../../shared/data/hf-reference/llama-tiny/', import.meta.url));

let root: string;
let dir: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'ckpt-'));
  dir = path.join(root, 'ckpt');
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

const params: Record<string, RawTensor> = {
  'model.embed_tokens.weight': { dtype: 'F32', shape: [4, 2], data: new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]) },
  'model.norm.weight': { dtype: 'F32', shape: [2], data: new Float32Array([1, 1]) },
};

function expectUserError(fn: () => unknown, pattern: RegExp): void {
  expect(fn).toThrow(UserError);
  expect(fn).toThrow(pattern);
}

describe('saveCheckpoint / loadCheckpointFiles', () => {
  it('round-trips every part and writes the Hugging Face layout', () => {
    const optimizer = { 'm.model.norm.weight': { dtype: 'F32' as const, shape: [2], data: new Float32Array([0.1, 0.2]) } };
    saveCheckpoint(dir, {
      config: { model_type: 'llama', hidden_size: 2 },
      params,
      optimizer,
      trainerState: { step: 7, rng: [1, 2, 3, 4] },
      tokenizer: null,
      extraFiles: { 'notes.txt': '{"kind":"byte"}' },
    });
    expect(fs.readdirSync(dir).sort()).toEqual(['config.json', 'model.safetensors', 'notes.txt', 'optimizer.safetensors', 'trainer_state.json']);
    expect(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).toBe('{\n  "model_type": "llama",\n  "hidden_size": 2\n}\n');
    expect(readSafetensors(path.join(dir, 'model.safetensors')).metadata).toEqual({ format: 'pt' });
    const loaded = loadCheckpointFiles(dir);
    // Moments a weight lacks are written as zeros (what AdamW starts from), so that a resume can require them all.
    const zeros = (shape: number[]) => ({ dtype: 'F32' as const, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    const allMoments = { ...optimizer, 'v.model.norm.weight': zeros([2]), 'm.model.embed_tokens.weight': zeros([4, 2]), 'v.model.embed_tokens.weight': zeros([4, 2]) };
    expect(loaded).toEqual({ config: { model_type: 'llama', hidden_size: 2 }, params, optimizer: allMoments, trainerState: { step: 7, rng: [1, 2, 3, 4] } });
    expect(readCheckpointText(dir, 'notes.txt')).toBe('{"kind":"byte"}');
    expect(readCheckpointText(dir, 'absent.txt')).toBeUndefined();
  });

  it('omits the optional parts when absent', () => {
    saveCheckpoint(dir, { config: {}, params, tokenizer: null });
    expect(fs.readdirSync(dir).sort()).toEqual(['config.json', 'model.safetensors']);
    const loaded = loadCheckpointFiles(dir);
    expect(loaded.optimizer).toBeUndefined();
    expect(loaded.trainerState).toBeUndefined();
  });

  it('replaces a previous checkpoint entirely', () => {
    saveCheckpoint(dir, { config: {}, params, trainerState: { step: 1 }, tokenizer: null });
    saveCheckpoint(dir, { config: { v: 2 }, params, tokenizer: null });
    expect(loadCheckpointFiles(dir)).toEqual({ config: { v: 2 }, params });
  });

  it('refuses extra files that would overwrite the checkpoint itself', () => {
    expectUserError(() => saveCheckpoint(dir, { config: {}, params, tokenizer: null, extraFiles: { 'config.json': '{}' } }), /extra file name/);
    expectUserError(() => saveCheckpoint(dir, { config: {}, params, tokenizer: null, extraFiles: { 'tokenizer.json': '{}' } }), /extra file name/);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('loads the Hugging Face llama-tiny checkpoint', () => {
    const loaded = loadCheckpointFiles(LLAMA_TINY);
    expect(loaded.config.model_type).toBe('llama');
    expect(Object.keys(loaded.params)).toHaveLength(21);
    expect(loaded.params['lm_head.weight'].shape).toEqual([256, 64]);
  });

  it('loads a sharded checkpoint through model.safetensors.index.json', () => {
    fs.mkdirSync(dir);
    const [a, b] = Object.keys(params);
    fs.writeFileSync(path.join(dir, 'config.json'), '{}');
    fs.writeFileSync(path.join(dir, 'model-00001-of-00002.safetensors'), encodeSafetensors({ [a]: params[a] }));
    fs.writeFileSync(path.join(dir, 'model-00002-of-00002.safetensors'), encodeSafetensors({ [b]: params[b] }));
    const weightMap = { [a]: 'model-00001-of-00002.safetensors', [b]: 'model-00002-of-00002.safetensors' };
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    expect(loadCheckpointFiles(dir).params).toEqual(params);

    weightMap[a] = 'model-00002-of-00002.safetensors';
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: weightMap }));
    expectUserError(() => loadCheckpointFiles(dir), /model-00002-of-00002\.safetensors: expected tensor "model\.embed_tokens\.weight"/);
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { [a]: '../x.safetensors' } }));
    expectUserError(() => loadCheckpointFiles(dir), /a shard file name in the same directory/);
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { [a]: 'missing.safetensors' } }));
    expectUserError(() => loadCheckpointFiles(dir), /missing\.safetensors: expected a shard listed in model\.safetensors\.index\.json .*, found no such file/);
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: [] }));
    expectUserError(() => loadCheckpointFiles(dir), /weight_map: expected an object/);
  });
});

describe('loadCheckpointFiles errors', () => {
  beforeEach(() => saveCheckpoint(dir, { config: { a: 1 }, params, trainerState: { step: 1 }, tokenizer: null }));

  it('a missing directory', () => expectUserError(() => loadCheckpointFiles(path.join(root, 'nope')), /nope: expected a checkpoint directory, found nothing/));
  it('a directory an interrupted save renamed aside', () => {
    fs.renameSync(dir, `${dir}.old-abc123`);
    expectUserError(() => loadCheckpointFiles(dir), /found nothing at that path \(an interrupted save left the previous checkpoint in .*ckpt\.old-abc123\)/);
  });
  it('a file instead of a directory', () => expectUserError(() => loadCheckpointFiles(path.join(dir, 'config.json')), /found a file/));
  it('a missing config.json', () => {
    fs.rmSync(path.join(dir, 'config.json'));
    expectUserError(() => loadCheckpointFiles(dir), /containing config\.json, found no config\.json/);
  });
  it('an invalid config.json', () => {
    fs.writeFileSync(path.join(dir, 'config.json'), '{"a": ');
    expectUserError(() => loadCheckpointFiles(dir), /config\.json: expected valid JSON, found a parse error/);
    fs.writeFileSync(path.join(dir, 'config.json'), '[1]');
    expectUserError(() => loadCheckpointFiles(dir), /config\.json: expected a JSON object, found an array/);
  });
  it('a missing model.safetensors', () => {
    fs.rmSync(path.join(dir, 'model.safetensors'));
    expectUserError(() => loadCheckpointFiles(dir), /model\.safetensors or model\.safetensors\.index\.json, found neither/);
  });
  it('a corrupt model.safetensors', () => {
    const file = path.join(dir, 'model.safetensors');
    fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 100));
    expectUserError(() => loadCheckpointFiles(dir), /model\.safetensors: safetensors header length/);
  });
  it('an invalid trainer_state.json', () => {
    fs.writeFileSync(path.join(dir, 'trainer_state.json'), 'step=3');
    expectUserError(() => loadCheckpointFiles(dir), /trainer_state\.json: expected valid JSON/);
  });
});
