/**
 * The names and contents of a checkpoint's tokenizer files (tokenizer.json, tokenizer_config.json,
 * special_tokens_map.json, generation_config.json) made from a tokenizer in memory: browser-safe. Reading
 * them from a directory is hf/tokenizer-files.ts (Node).
 */
import type { Tokenizer } from '../data/tokenizer.js';

export const TOKENIZER_FILE = 'tokenizer.json';
export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';
export const GENERATION_CONFIG_FILE = 'generation_config.json';
export const SPECIAL_TOKENS_FILE = 'special_tokens_map.json';
/** Every file of a checkpoint that belongs to its tokenizer (written by checkpointTokenizerFiles only). */
export const TOKENIZER_FILES: readonly string[] = [TOKENIZER_FILE, TOKENIZER_CONFIG_FILE, SPECIAL_TOKENS_FILE, GENERATION_CONFIG_FILE];

const pretty = (value: object) => `${JSON.stringify(value, null, 2)}\n`;

/** generation_config.json as transformers derives it from a model config: the special token ids it names. */
export function generationConfig(config: object): Record<string, unknown> {
  const c = config as Record<string, unknown>;
  const ids = Object.fromEntries(['bos_token_id', 'eos_token_id', 'pad_token_id'].filter((k) => c[k] !== undefined && c[k] !== null).map((k) => [k, c[k]]));
  return { _from_model_config: true, ...ids };
}

/** generation_config.json's text for a model config. */
export const generationConfigText = (config: object): string => pretty(generationConfig(config));

/** The files of `tokenizer` in a checkpoint whose model config is `config`. */
export function tokenizerFiles(tokenizer: Tokenizer, config: object): Record<string, string> {
  const hf = tokenizer.huggingFace();
  return {
    [TOKENIZER_FILE]: JSON.stringify(hf.tokenizer),
    [TOKENIZER_CONFIG_FILE]: pretty(hf.config),
    [GENERATION_CONFIG_FILE]: generationConfigText(config),
  };
}
