/**
 * Tokenizers turn text into the integer ids the model trains on. The byte-level tokenizer (UTF-8
 * bytes, vocabulary 256) needs no training and no files, so every run can reproduce it exactly.
 */
import { mismatch } from '../errors.js';
import { describeJson, isPlainObject } from '../io/read.js';
import { Gpt2Tokenizer } from './gpt2-tokenizer.js';
import { readTokenizerJson, tokenizerJsonFromDescription } from './tokenizer-json.js';

export interface Tokenizer {
  readonly name: string;
  readonly vocabSize: number;
  encode(text: string): Int32Array;
  decode(ids: ArrayLike<number>): string;
  /** A JSON description that tokenizerFromJSON turns back into an equivalent tokenizer. */
  toJSON(): object;
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
}

export const tokenizerKinds = ['byte', 'gpt2'] as const;

/** A tokenizer by name (`--tokenizer`): byte, gpt2, or the path of a tokenizer.json (or of a directory holding one). */
export function tokenizerByName(name: string): Tokenizer {
  if ((tokenizerKinds as readonly string[]).includes(name)) return tokenizerFromJSON({ kind: name });
  return readTokenizerJson(name);
}

/** Restores a tokenizer from what its toJSON() wrote (e.g. stored in a checkpoint). */
export function tokenizerFromJSON(obj: unknown): Tokenizer {
  const kind = isPlainObject(obj) ? obj.kind : undefined;
  if (kind === 'byte') return new ByteTokenizer();
  if (kind === 'gpt2') return new Gpt2Tokenizer();
  if (kind === 'tokenizer.json') return tokenizerJsonFromDescription(obj as Record<string, unknown>);
  throw mismatch('tokenizer description', 'an object with kind "byte", "gpt2" or "tokenizer.json"', isPlainObject(obj) ? `kind ${describeJson(kind)}` : describeJson(obj));
}
