import { createRequire } from 'node:module';
import { mismatch } from '../errors.js';
import type { HuggingFaceTokenizer, Tokenizer } from './tokenizer.js';
import { GPT2_END_OF_TEXT } from './byte-level-json.js';
import { gpt2TokenBytes, gpt2TokenizerJson } from './gpt2-json.js';

interface Encoding {
  encode(text: string): number[];
}

let encoding: Encoding | undefined;

/**
 * GPT-2's byte-level BPE (50,257 tokens): encoding by the npm package gpt-tokenizer (loaded on first use);
 * decoding as UTF-8 of the tokens' bytes, as the byte tokenizer decodes (invalid bytes become U+FFFD).
 */
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
    const table = gpt2TokenBytes();
    const bytes: number[] = [];
    for (let i = 0; i < ids.length; i++) for (const b of table[ids[i]]) bytes.push(b);
    return new TextDecoder('utf-8').decode(Uint8Array.from(bytes));
  }

  tokenBytes(id: number): Uint8Array {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw mismatch('token id', `an integer in [0, ${this.vocabSize})`, String(id));
    return gpt2TokenBytes()[id];
  }

  toJSON(): { kind: 'gpt2' } {
    return { kind: 'gpt2' };
  }

  huggingFace(): HuggingFaceTokenizer {
    const special = GPT2_END_OF_TEXT;
    return {
      tokenizer: gpt2TokenizerJson(),
      config: { tokenizer_class: 'GPT2TokenizerFast', bos_token: special, eos_token: special, unk_token: special, add_prefix_space: false, clean_up_tokenization_spaces: false },
    };
  }
}
