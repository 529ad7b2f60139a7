/** Tokenizers by name or from a stored description: GPT-2's and tokenizer.json files are read from disk (Node only). */
import { mismatch } from '../errors.js';
import { describeJson, isPlainObject } from '../io/read.js';
import { Gpt2Tokenizer } from './gpt2-tokenizer.js';
import { ByteTokenizer, tokenizerKinds, type Tokenizer } from './tokenizer.js';
import { readTokenizerJson, tokenizerJsonFromDescription, type TokenizerJson } from './tokenizer-json.js';
import { builtInTokenizerOf } from './gpt2-json.js';

/** A tokenizer by name (`--tokenizer`): byte, gpt2, or the path of a tokenizer.json (or of a directory holding one). */
export function tokenizerByName(name: string): Tokenizer {
  if ((tokenizerKinds as readonly string[]).includes(name)) return tokenizerFromJSON({ kind: name });
  return builtInOrItself(readTokenizerJson(name));
}

/** A tokenizer.json that gives the ids of a built-in tokenizer becomes that tokenizer (the same ids, ten times faster). */
export function builtInOrItself(t: TokenizerJson): Tokenizer {
  const kind = builtInTokenizerOf(t.huggingFace().tokenizer);
  return kind ? tokenizerFromJSON({ kind }) : t;
}

/** Restores a tokenizer from what its toJSON() wrote (e.g. stored in a checkpoint). */
export function tokenizerFromJSON(obj: unknown): Tokenizer {
  const kind = isPlainObject(obj) ? obj.kind : undefined;
  if (kind === 'byte') return new ByteTokenizer();
  if (kind === 'gpt2') return new Gpt2Tokenizer();
  if (kind === 'tokenizer.json') return tokenizerJsonFromDescription(obj as Record<string, unknown>);
  throw mismatch('tokenizer description', 'an object with kind "byte", "gpt2" or "tokenizer.json"', isPlainObject(obj) ? `kind ${describeJson(kind)}` : describeJson(obj));
}
