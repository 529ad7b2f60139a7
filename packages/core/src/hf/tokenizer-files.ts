/**
 * The tokenizer half of a checkpoint directory, as Hugging Face lays it out: tokenizer.json,
 * tokenizer_config.json (and special_tokens_map.json when a source had one) and generation_config.json.
 * Every checkpoint writer takes its files from `checkpointTokenizerFiles`; every loader takes its
 * tokenizer from `checkpointTokenizer`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mismatch } from '../errors.js';
import { isPlainObject, parseJsonObject } from '../io/read.js';
import { readJsonObject, readText } from '../io/read-file.js';
import { ByteTokenizer, type Tokenizer } from '../data/tokenizer.js';
import { builtInOrItself, tokenizerFromJSON } from '../data/load-tokenizer.js';
import { readTokenizerJson } from '../data/tokenizer-json.js';
import { checkpointConfigFile } from './load-model.js';
import { generationConfigText, tokenizerFiles, GENERATION_CONFIG_FILE, TOKENIZER_FILE, TOKENIZER_FILES } from './tokenizer-file-set.js';

export { generationConfig, tokenizerFiles, GENERATION_CONFIG_FILE, SPECIAL_TOKENS_FILE, TOKENIZER_FILES } from './tokenizer-file-set.js';

/** Where a new checkpoint's tokenizer comes from: a tokenizer, a checkpoint directory whose files are carried, or none. */
export type TokenizerSource = Tokenizer | string | null;

/** The tokenizer a trainer_state.json written before checkpoints held tokenizer.json names, if any. */
function legacyStateTokenizer(dir: string): Tokenizer | undefined {
  const file = path.join(dir, 'trainer_state.json');
  if (!fs.existsSync(file)) return undefined;
  const state = parseJsonObject(readText(file, 'a trainer state'), file);
  return isPlainObject(state.tokenizer) ? tokenizerFromJSON(state.tokenizer) : undefined;
}

/**
 * The tokenizer a checkpoint directory carries: its tokenizer.json (a built-in tokenizer's file gives the
 * built-in one), else the one named by the trainer_state.json of a checkpoint written before tokenizer.json
 * was; undefined when it has neither.
 */
export function checkpointTokenizer(dir: string): Tokenizer | undefined {
  if (fs.existsSync(path.join(dir, TOKENIZER_FILE))) return builtInOrItself(readTokenizerJson(dir));
  return legacyStateTokenizer(dir);
}

/**
 * The tokenizer to read a checkpoint's text with: `explicit` (a --tokenizer flag) when given, else the
 * checkpoint's own. A checkpoint without one is read with bytes only when its vocabulary is the byte
 * tokenizer's (256); otherwise guessing would give wrong ids silently, so it is refused.
 */
export function tokenizerForCheckpoint(dir: string, explicit?: Tokenizer): Tokenizer {
  const vocab = readJsonObject(checkpointConfigFile(dir)).vocab_size; // a missing dir is named as such, not as a missing file
  const tokenizer = explicit ?? checkpointTokenizer(dir);
  if (tokenizer) {
    if (typeof vocab === 'number' && tokenizer.vocabSize > vocab) {
      throw mismatch(`${dir}: tokenizer`, `one of at most the model's vocab_size (${vocab}) tokens`, `${tokenizer.name} with ${tokenizer.vocabSize}`);
    }
    return tokenizer;
  }
  if (vocab === 256) return new ByteTokenizer();
  throw mismatch(dir, `a ${TOKENIZER_FILE} (or --tokenizer byte|gpt2|FILE naming the one the model was trained with)`, `none, and a vocabulary of ${String(vocab)} tokens, which is not the byte tokenizer's 256`);
}

/**
 * The tokenizer files of a new checkpoint of model config `config`. From a tokenizer: its files. From a
 * checkpoint directory: its tokenizer files as they are (generation_config.json made from `config` when it
 * has a tokenizer but no generation config; a checkpoint from before tokenizer.json gets the files of the
 * tokenizer its trainer state names). From null, or a directory with none of them: none.
 */
export function checkpointTokenizerFiles(source: TokenizerSource, config: object): Record<string, string> {
  if (source === null) return {};
  if (typeof source !== 'string') return tokenizerFiles(source, config);
  const files: Record<string, string> = {};
  for (const name of TOKENIZER_FILES) {
    const file = path.join(source, name);
    if (fs.existsSync(file)) files[name] = readText(file, 'a tokenizer file');
  }
  if (!files[TOKENIZER_FILE]) {
    const legacy = legacyStateTokenizer(source);
    if (legacy) return { ...tokenizerFiles(legacy, config), ...files };
  }
  if (files[TOKENIZER_FILE] && !files[GENERATION_CONFIG_FILE]) files[GENERATION_CONFIG_FILE] = generationConfigText(config);
  return files;
}
