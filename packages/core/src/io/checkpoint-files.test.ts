import { afterEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf } from '../tf.js';
import { ByteTokenizer } from '../data/tokenizer.js';
import { llamaConfig } from '../model/config.js';
import { initParams } from '../model/params.js';
import { saveModel } from '../model/load.js';
import { modelFiles } from './checkpoint-files.js';

let root: string | undefined;
afterEach(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
  root = undefined;
});

describe('modelFiles', () => {
  it('gives byte for byte the files saveModel writes (the browser zips these)', () => {
    const config = llamaConfig({ vocab: 256, hidden: 8, ffn: 12, layers: 1, heads: 2, kvHeads: 1, maxPositions: 16 });
    const params = initParams(config, 3);
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'model-files-'));
    const dir = path.join(root, 'ckpt');
    saveModel(dir, config, params, new ByteTokenizer());
    const files = modelFiles(config, params, new ByteTokenizer());
    tf.dispose(Object.values(params));
    expect(Object.keys(files).sort()).toEqual(fs.readdirSync(dir).sort());
    for (const [name, content] of Object.entries(files)) {
      const onDisk = fs.readFileSync(path.join(dir, name));
      expect(Buffer.from(typeof content === 'string' ? new TextEncoder().encode(content) : content).equals(onDisk), name).toBe(true);
    }
  });

  it('carries given tokenizer files as they are', () => {
    const config = llamaConfig({ vocab: 256, hidden: 8, ffn: 12, layers: 1, heads: 2, kvHeads: 1, maxPositions: 16 });
    const params = initParams(config, 3);
    const files = modelFiles(config, params, { 'tokenizer.json': '{"x":1}' });
    tf.dispose(Object.values(params));
    expect(files['tokenizer.json']).toBe('{"x":1}');
    expect(Object.keys(files).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json']);
  });
});
