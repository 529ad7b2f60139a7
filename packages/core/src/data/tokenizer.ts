/**
 * Tokenizers turn text into the integer ids the model trains on. The byte-level tokenizer (UTF-8
 * bytes, vocabulary 256) needs no training and no files, so every run can reproduce it exactly.
 */
import { mismatch } from '../errors.js';
import { byteTokenizerJson } from './byte-level-json.js';

export interface Tokenizer {
  readonly name: string;
  readonly vocabSize: number;
  encode(text: string): Int32Array;
  decode(ids: ArrayLike<number>): string;
  /** A JSON description that tokenizerFromJSON turns back into an equivalent tokenizer. */
  toJSON(): object;
  /** The tokenizer as Hugging Face writes it: tokenizer.json and tokenizer_config.json, which give the same ids. */
  huggingFace(): HuggingFaceTokenizer;
  /**
   * Byte-level tokenizers: the bytes a token stands for (decoding is UTF-8 of the tokens' bytes joined), so
   * text can be decoded as tokens come, a character split across tokens included.
   */
  tokenBytes?(id: number): Uint8Array;
}

export interface HuggingFaceTokenizer {
  tokenizer: Record<string, unknown>;
  config: Record<string, unknown>;
}

export class ByteTokenizer implements Tokenizer {
  readonly name = 'byte';
  readonly vocabSize = 256;

  encode(text: string): Int32Array {
    const bytes = new TextEncoder().encode(text);
    const ids = new Int32Array(bytes.length);
    ids.set(bytes);
    return ids;
  }

  /** Invalid UTF-8 (e.g. a model's sampled bytes) decodes to U+FFFD instead of throwing. */
  decode(ids: ArrayLike<number>): string {
    const bytes = new Uint8Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id > 255) throw mismatch(`token id at position ${i}`, 'an integer in [0, 255]', String(id));
      bytes[i] = id;
    }
    return new TextDecoder('utf-8').decode(bytes);
  }

  toJSON(): { kind: 'byte' } {
    return { kind: 'byte' };
  }

  tokenBytes(id: number): Uint8Array {
    if (!Number.isInteger(id) || id < 0 || id > 255) throw mismatch('token id', 'an integer in [0, 255]', String(id));
    return Uint8Array.of(id);
  }

  huggingFace(): HuggingFaceTokenizer {
    return { tokenizer: byteTokenizerJson(), config: { tokenizer_class: 'PreTrainedTokenizerFast', clean_up_tokenization_spaces: false } };
  }
}

export const tokenizerKinds = ['byte', 'gpt2'] as const;
