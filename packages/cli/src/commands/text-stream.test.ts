import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { ByteTokenizer, Gpt2Tokenizer, initParams, llamaConfig, saveModel, tf, TokenizerJson, type Tokenizer } from '@efficientscale/core/node';
import { runCli } from '../program.js';
import { cli } from './test-util.js';
import { TextStream } from './text-stream.js';

/** Metaspace BPE (a SentencePiece-style tokenizer.json): its decoder drops the space of a sequence's first "▁". */
const metaspace = new TokenizerJson({
  version: '1.0',
  added_tokens: [],
  normalizer: null,
  post_processor: null,
  pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
  decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
  model: { type: 'BPE', dropout: null, unk_token: '<unk>', fuse_unk: true, byte_fallback: false, vocab: { '<unk>': 0, '▁': 1, a: 2, b: 3, '\n': 4, '▁a': 5, '▁b': 6 }, merges: ['▁ a', '▁ b'] },
});

function streamed(tokenizer: Tokenizer, ids: number[]): { text: string; writes: number } {
  let text = '';
  let writes = 0;
  const stream = new TextStream(tokenizer, (t) => {
    text += t;
    writes++;
  });
  for (const id of ids) stream.push(id);
  stream.end();
  return { text, writes };
}

describe('TextStream', () => {
  it('writes, piece by piece, exactly the decoding of all the tokens (bytes: any ids, split characters included)', () => {
    const bytes = new ByteTokenizer();
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }).map((s) => Array.from(bytes.encode(s))), fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 300 })), (ids) => {
        expect(streamed(bytes, ids).text).toBe(bytes.decode(ids));
      }),
      { numRuns: 300 },
    );
  });

  it('GPT-2 BPE and a SentencePiece-style tokenizer.json: the same text as one decode', () => {
    const gpt2 = new Gpt2Tokenizer();
    const ids = Array.from(gpt2.encode('The jury said Friday — 日本語 😀\nan investigation of Atlanta\'s recent primary election\n'.repeat(5)));
    const g = streamed(gpt2, ids);
    expect(g.text).toBe(gpt2.decode(ids));
    expect(g.writes).toBeGreaterThan(20); // as the tokens come, not once at the end
    const pieces = [5, 6, 4, 5, 1, 3, 6, 5, 4, 6];
    expect(streamed(metaspace, pieces).text).toBe(metaspace.decode(pieces));
  });
});

describe('generate', () => {
  it('writes the text as it is generated (a long --tokens shows its progress), the same text as --json\'s completion', async () => {
    await tf.setBackend('cpu');
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'es-generate-')), 'model');
    const config = llamaConfig({ vocab: 256, hidden: 8, ffn: 16, layers: 1, heads: 2, maxPositions: 16 });
    const params = initParams(config, 5, 1);
    saveModel(dir, config, params, new ByteTokenizer());
    tf.dispose(Object.values(params));
    // 40 tokens past a 16-position context: the window slides, and text keeps coming.
    const args = [dir, '--prompt', 'x', '--tokens', '40', '--temperature', '1', '--seed', '3', '--backend', 'cpu'];
    const writes: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    let code: number;
    try {
      code = await runCli(['node', 'efficientscale', 'generate', ...args]);
    } finally {
      spy.mockRestore();
    }
    expect(code).toBe(0);
    expect(writes.length).toBeGreaterThan(10);
    const json = await cli('generate', ...args, '--json');
    expect(writes.join('')).toBe(`${JSON.parse(json.stdout).text}\n`);
  });
});
