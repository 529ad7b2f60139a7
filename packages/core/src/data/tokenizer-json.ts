/**
 * A Hugging Face `tokenizer.json` (BPE, WordPiece, Unigram, ... with their normalizers, pre-tokenizers and
 * decoders) through @huggingface/tokenizers, the pure-TypeScript port of the Rust `tokenizers` library.
 * Its toJSON() carries the whole tokenizer.json (and tokenizer_config.json), so a checkpoint's
 * trainer_state.json restores it with no other file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tokenizer as HfTokenizerImpl } from '@huggingface/tokenizers';
import { mismatch } from '../errors.js';
import { describeJson, isPlainObject } from '../io/read.js';
import { readJsonObject } from '../io/read-file.js';
import type { HuggingFaceTokenizer, Tokenizer } from './tokenizer.js';

import { TOKENIZER_CONFIG_FILE, TOKENIZER_FILE } from '../hf/tokenizer-file-set.js';

export { TOKENIZER_FILE, TOKENIZER_CONFIG_FILE } from '../hf/tokenizer-file-set.js';

export interface TokenizerJsonDescription {
  kind: 'tokenizer.json';
  tokenizer: Record<string, unknown>;
  config: Record<string, unknown>;
}

export class TokenizerJson implements Tokenizer {
  readonly name = 'tokenizer.json';
  readonly vocabSize: number;
  private readonly impl: HfTokenizerImpl;

  constructor(
    private readonly json: Record<string, unknown>,
    private readonly config: Record<string, unknown> = {},
    source = TOKENIZER_FILE,
  ) {
    if (!isPlainObject(json.model)) throw mismatch(`${source}: "model"`, 'an object (BPE, WordPiece, Unigram, WordLevel)', describeJson(json.model));
    try {
      this.impl = new HfTokenizerImpl(json, config);
    } catch (err) {
      throw mismatch(source, 'a tokenizer.json that @huggingface/tokenizers reads', `an error (${(err as Error).message})`);
    }
    // Ids need not be dense; the model's vocabulary must cover the largest one.
    let max = -1;
    for (const id of this.impl.get_vocab(true).values()) max = Math.max(max, id);
    if (max < 0) throw mismatch(`${source}: vocabulary`, 'at least one token', 'none');
    this.vocabSize = max + 1;
  }

  /** Plain token ids, no BOS/EOS added: a corpus is one long stream. */
  encode(text: string): Int32Array {
    const { ids, tokens } = this.impl.encode(text, { add_special_tokens: false });
    const bad = ids.findIndex((id) => !Number.isInteger(id));
    if (bad >= 0) throw mismatch(`text piece ${JSON.stringify(tokens[bad])}`, 'a piece the tokenizer maps to an id (is unk_token set?)', 'no id');
    return Int32Array.from(ids);
  }

  decode(ids: ArrayLike<number>): string {
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw mismatch(`token id at position ${i}`, `an integer in [0, ${this.vocabSize})`, String(id));
    }
    return this.impl.decode(Array.from(ids));
  }

  toJSON(): TokenizerJsonDescription {
    return { kind: 'tokenizer.json', tokenizer: this.json, config: this.config };
  }

  huggingFace(): HuggingFaceTokenizer {
    return { tokenizer: this.json, config: this.config };
  }
}

/** Reads tokenizer.json (and tokenizer_config.json beside it, if any) from a file or a directory. */
export function readTokenizerJson(fileOrDir: string): TokenizerJson {
  const file = fs.existsSync(fileOrDir) && fs.statSync(fileOrDir).isDirectory() ? path.join(fileOrDir, TOKENIZER_FILE) : fileOrDir;
  const configFile = path.join(path.dirname(file), TOKENIZER_CONFIG_FILE);
  const config = fs.existsSync(configFile) ? readJsonObject(configFile) : {};
  return new TokenizerJson(readJsonObject(file), config, file);
}

/** Restores a TokenizerJson from its toJSON(). */
export function tokenizerJsonFromDescription(obj: Record<string, unknown>): TokenizerJson {
  if (!isPlainObject(obj.tokenizer)) throw mismatch('tokenizer description "tokenizer"', 'the tokenizer.json object', describeJson(obj.tokenizer));
  const config = obj.config === undefined ? {} : obj.config;
  if (!isPlainObject(config)) throw mismatch('tokenizer description "config"', 'the tokenizer_config.json object', describeJson(config));
  return new TokenizerJson(obj.tokenizer, config, 'tokenizer description');
}
