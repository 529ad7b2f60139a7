import { createRequire } from 'node:module';
import { mismatch } from '../errors.js';
import type { Tokenizer } from './tokenizer.js';

interface Encoding {
  encode(text: string): number[];
  decode(ids: Iterable<number>): string;
}

let encoding: Encoding | undefined;

/** GPT-2's byte-level BPE (50,257 tokens), from the npm package gpt-tokenizer; loaded on first use. */
export class Gpt2Tokenizer implements Tokenizer {
  readonly name = 'gpt2';
  readonly vocabSize = 50257;

  private get encoding(): Encoding {
    encoding ??= createRequire(import.meta.url)('gpt-tokenizer/cjs/encoding/gpt2') as Encoding;
    return encoding;
  }

  encode(text: string): Int32Array {
    return Int32Array.from(this.encoding.encode(text));
  }

  decode(ids: ArrayLike<number>): string {
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw mismatch(`token id at position ${i}`, `an integer in [0, ${this.vocabSize})`, String(id));
    }
    return this.encoding.decode(Array.from(ids));
  }

  toJSON(): { kind: 'gpt2' } {
    return { kind: 'gpt2' };
  }
}
