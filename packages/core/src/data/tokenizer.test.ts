import { describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import { UserError } from '../errors.js';
import { ByteTokenizer } from './tokenizer.js';
import { tokenizerByName, tokenizerFromJSON } from './load-tokenizer.js';

describe('ByteTokenizer', () => {
  const tok = new ByteTokenizer();

  it('encodes text as its UTF-8 bytes', () => {
    expect(Array.from(tok.encode('Hé€'))).toEqual([0x48, 0xc3, 0xa9, 0xe2, 0x82, 0xac]);
    expect(tok.vocabSize).toBe(256);
  });

  it('round-trips any well-formed string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        expect(tok.decode(tok.encode(s))).toBe(s);
      }),
    );
  });

  it('decodes invalid UTF-8 to replacement characters instead of throwing', () => {
    expect(tok.decode([0x61, 0xe2, 0x82, 0x62, 0xff])).toBe('a\ufffdb\ufffd');
  });

  it('rejects ids outside the byte range', () => {
    expect(() => tok.decode([65, 256])).toThrow(/token id at position 1: expected an integer in \[0, 255\], found 256/);
    expect(() => tok.decode([-1])).toThrow(UserError);
  });

  it('restores from its JSON description, and rejects unknown kinds', () => {
    const restored = tokenizerFromJSON(JSON.parse(JSON.stringify(tok)));
    expect(restored).toBeInstanceOf(ByteTokenizer);
    expect(() => tokenizerFromJSON({ kind: 'bpe-42' })).toThrow(/expected an object with kind "byte", "gpt2" or "tokenizer.json", found kind string "bpe-42"/);
    expect(() => tokenizerFromJSON(null)).toThrow(UserError);
  });
});

describe('Gpt2Tokenizer', () => {
  it('encodes with GPT-2 BPE ids and round-trips text', () => {
    const t = tokenizerByName('gpt2');
    expect(t.vocabSize).toBe(50257);
    // GPT-2's ids for this sentence, as its published vocabulary assigns them.
    expect(Array.from(t.encode('The Fulton County Grand Jury said Friday'))).toEqual([464, 44373, 3418, 5675, 48705, 531, 3217]);
    const text = 'It was the best of times, it was the worst of times.\n';
    expect(t.decode(t.encode(text))).toBe(text);
    expect(tokenizerFromJSON(t.toJSON()).name).toBe('gpt2');
    expect(() => t.decode([50257])).toThrow(/expected an integer in \[0, 50257\), found 50257/);
  });
});
