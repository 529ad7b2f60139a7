/** A Hugging Face checkpoint directory picked in the browser: config.json + model.safetensors + tokenizer.json. */
import { ByteTokenizer, checkParams, CONFIG_FILE, decodeSafetensors, fromRaw, mapValues, MODEL_FILE, parseConfig, TOKENIZER_FILE, TOKENIZER_FILES, type ModelConfig, type Params, type Tokenizer } from '@efficientscale/core';

export interface LoadedCheckpoint {
  config: ModelConfig;
  params: Params;
  tokenizer: Tokenizer;
  /** The directory's tokenizer files, carried as they are; absent when it had no tokenizer.json. */
  tokenizerFiles?: Record<string, string>;
}

const byName = (files: File[]) => new Map(files.map((f) => [f.name, f]));

/** The page trains byte-level models: a tokenizer.json must be the byte tokenizer's (as this toolkit writes it). */
function byteTokenizerOf(text: string): Tokenizer {
  const byte = new ByteTokenizer();
  const expected = JSON.stringify(byte.huggingFace().tokenizer);
  let found: unknown;
  try {
    found = JSON.parse(text);
  } catch {
    throw new Error(`${TOKENIZER_FILE}: expected JSON, found text that does not parse`);
  }
  if (JSON.stringify(found) !== expected) throw new Error(`${TOKENIZER_FILE}: expected the byte-level tokenizer (the page trains byte-level models), found another tokenizer`);
  return byte;
}

export async function loadCheckpoint(picked: File[]): Promise<LoadedCheckpoint> {
  const files = byName(picked);
  for (const name of [CONFIG_FILE, MODEL_FILE]) if (!files.has(name)) throw new Error(`checkpoint directory: expected ${CONFIG_FILE}, ${MODEL_FILE} and ${TOKENIZER_FILE}, found no ${name}`);
  const config = parseConfig(await files.get(CONFIG_FILE)!.text(), CONFIG_FILE);
  const tokenizerFiles: Record<string, string> = {};
  for (const name of TOKENIZER_FILES) if (files.has(name)) tokenizerFiles[name] = await files.get(name)!.text();
  const tokenizer = tokenizerFiles[TOKENIZER_FILE] !== undefined ? byteTokenizerOf(tokenizerFiles[TOKENIZER_FILE]) : config.vocab_size === 256 ? new ByteTokenizer() : undefined;
  if (!tokenizer) throw new Error(`checkpoint directory: expected a ${TOKENIZER_FILE} (or a byte-level vocabulary of 256), found neither`);
  const { tensors } = decodeSafetensors(new Uint8Array(await files.get(MODEL_FILE)!.arrayBuffer()), MODEL_FILE);
  checkParams(config, tensors, MODEL_FILE);
  return { config, params: mapValues(tensors, fromRaw), tokenizer, ...(tokenizerFiles[TOKENIZER_FILE] !== undefined ? { tokenizerFiles } : {}) };
}
