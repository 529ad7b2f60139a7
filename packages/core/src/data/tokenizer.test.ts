import { describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import { UserError } from '../errors.js';
import { ByteTokenizer, tokenizerFromJSON } from './tokenizer.js';

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
    expect(() => tokenizerFromJSON({ kind: 'bpe-42' })).toThrow(/expected an object with kind "byte", found kind string "bpe-42"/);
    expect(() => tokenizerFromJSON(null)).toThrow(UserError);
  });
});
