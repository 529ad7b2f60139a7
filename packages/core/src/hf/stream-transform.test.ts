import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readSafetensors } from '../io/safetensors.js';
import { streamTransform } from './stream-transform.js';
import { writeHfDir } from './test-dirs.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'es-stream-core-'));
const source = (root: string) => {
  const dir = path.join(root, 'src');
  const t = (n: number, v: number) => ({ dtype: 'BF16' as const, shape: [n], data: new Float32Array(n).fill(v) });
  writeHfDir(dir, { model_type: 'llama' }, { a: t(4, 0.5), b: t(6, -2), c: t(2, 1.5) }, 2);
  return dir;
};

describe('streamTransform', () => {
  it('computes each output from source tensors read on demand (bf16 → float32), sharded by size, index listing every tensor', () => {
    const root = tmp();
    const out = path.join(root, 'out');
    const reads: string[] = [];
    const result = streamTransform({
      source: source(root),
      out,
      config: { model_type: 'llama', note: 1 },
      shardBytes: 24,
      tokenizer: null,
      outputs: [
        { name: 'a2', shape: [2, 4], compute: (read) => { reads.push('a'); return Float32Array.from([...read('a'), ...read('a')]); } },
        { name: 'b', shape: [6], compute: (read) => read('b') },
        { name: 'sum', shape: [2], compute: (read) => read('c').map((v, i) => v + read('a')[i]) },
      ],
    });
    expect(result).toMatchObject({ tensors: 3, bytes: 64 });
    expect(result.shards.length).toBe(3); // 32 + 24 + 8 bytes against a 24-byte limit
    const index = JSON.parse(fs.readFileSync(path.join(out, 'model.safetensors.index.json'), 'utf8'));
    expect(Object.keys(index.weight_map).sort()).toEqual(['a2', 'b', 'sum']);
    const read = (name: string) => Array.from(readSafetensors(path.join(out, index.weight_map[name])).tensors[name].data);
    expect(read('a2')).toEqual(new Array(8).fill(0.5));
    expect(read('b')).toEqual(new Array(6).fill(-2));
    expect(read('sum')).toEqual([2, 2]);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'))).toEqual({ model_type: 'llama', note: 1 });
  });

  it('leaves nothing behind when a callback fails, and refuses duplicate names', () => {
    const root = tmp();
    const out = path.join(root, 'out');
    const src = source(root);
    const failing = { name: 'x', shape: [1], compute: () => { throw new Error('boom'); } };
    expect(() => streamTransform({ source: src, out, config: {}, outputs: [failing], tokenizer: null })).toThrow('boom');
    expect(fs.readdirSync(root)).toEqual(['src']);
    const dup = { name: 'b', shape: [6], compute: (r: (n: string) => Float32Array) => r('b') };
    expect(() => streamTransform({ source: src, out, config: {}, outputs: [dup, dup], tokenizer: null })).toThrow(/each name once/);
  });
});
