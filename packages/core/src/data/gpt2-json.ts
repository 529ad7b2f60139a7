/**
 * GPT-2's tokenizer.json, derived from gpt-tokenizer's rank table (Node only: the table is loaded with
 * require), and recognising a tokenizer.json as one of the built-in tokenizers.
 */
import { createRequire } from 'node:module';
import { alphabet, byteLevel, byteTokenizerJson, GPT2_END_OF_TEXT, GPT2_END_OF_TEXT_ID } from './byte-level-json.js';

/** Byte-pair encodes `parts` using only merges ranked below `limit`; returns the parts it stops at. */
function mergeBelow(parts: string[], rankOf: Map<string, number>, limit: number): string[] {
  for (;;) {
    let best = -1;
    let bestRank = limit;
    for (let i = 0; i + 1 < parts.length; i++) {
      const rank = rankOf.get(parts[i] + parts[i + 1]);
      if (rank !== undefined && rank < bestRank) {
        best = i;
        bestRank = rank;
      }
    }
    if (best < 0) return parts;
    parts = [...parts.slice(0, best), parts[best] + parts[best + 1], ...parts.slice(best + 2)];
  }
}

let gpt2Bytes: Uint8Array[] | undefined;

/** The bytes each of GPT-2's 50,257 tokens stands for (id = rank; the last is <|endoftext|>'s text), from gpt-tokenizer's rank table. */
export function gpt2TokenBytes(): Uint8Array[] {
  if (gpt2Bytes) return gpt2Bytes;
  const ranks = (createRequire(import.meta.url)('gpt-tokenizer/cjs/bpeRanks/r50k_base') as { default: (string | number[])[] }).default;
  const encoder = new TextEncoder();
  gpt2Bytes = [...ranks.map((t) => (typeof t === 'string' ? encoder.encode(t) : Uint8Array.from(t))), encoder.encode(GPT2_END_OF_TEXT)];
  return gpt2Bytes;
}

let gpt2Json: Record<string, unknown> | undefined;

/** GPT-2's tokenizer.json (50,257 tokens, 50,000 merges), as published with the gpt2 model; built once (~0.5 s). */
export function gpt2TokenizerJson(): Record<string, unknown> {
  if (gpt2Json) return gpt2Json;
  const tokens = gpt2TokenBytes().slice(0, GPT2_END_OF_TEXT_ID).map((bytes) => Array.from(bytes, (b) => alphabet[b]));
  const rankOf = new Map(tokens.map((chars, rank) => [chars.join(''), rank]));
  const vocab: Record<string, number> = {};
  const merges: string[] = [];
  tokens.forEach((chars, rank) => {
    vocab[chars.join('')] = rank;
    if (chars.length === 1) return;
    const pair = mergeBelow(chars, rankOf, rank);
    if (pair.length !== 2) throw new Error(`GPT-2 rank table: token ${rank} is not one merge of two lower-ranked tokens`);
    merges.push(pair.join(' '));
  });
  vocab[GPT2_END_OF_TEXT] = GPT2_END_OF_TEXT_ID;
  gpt2Json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: GPT2_END_OF_TEXT_ID, content: GPT2_END_OF_TEXT, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
  };
  return gpt2Json;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** What decides the ids a tokenizer.json gives: its normalizer, pre-tokenizer, model vocabulary and merges, added tokens. */
function sameIds(a: Json, b: Json): boolean {
  const [ma, mb] = [a.model, b.model];
  if (!isObject(ma) || !isObject(mb) || ma.type !== mb.type || !isObject(ma.vocab) || !isObject(mb.vocab)) return false;
  if ((a.normalizer ?? null) !== null || (b.normalizer ?? null) !== null) return false;
  const pre = (j: Json) => (isObject(j.pre_tokenizer) ? [j.pre_tokenizer.type, j.pre_tokenizer.add_prefix_space ?? true, j.pre_tokenizer.use_regex ?? true] : null);
  if (JSON.stringify(pre(a)) !== JSON.stringify(pre(b))) return false;
  const added = (j: Json) => JSON.stringify(Array.isArray(j.added_tokens) ? j.added_tokens.map((t: Json) => [t.id, t.content]) : []);
  if (added(a) !== added(b)) return false;
  const [va, vb] = [ma.vocab, mb.vocab];
  const keys = Object.keys(va);
  if (keys.length !== Object.keys(vb).length || keys.some((k) => va[k] !== vb[k])) return false;
  // Merges are "a b" strings or [a, b] pairs (newer files).
  const merges = (m: Json) => (Array.isArray(m.merges) ? m.merges.map((x: unknown) => (Array.isArray(x) ? x.join(' ') : x)) : []);
  const [xa, xb] = [merges(ma), merges(mb)];
  return xa.length === xb.length && xa.every((x: unknown, i: number) => x === xb[i]);
}

/** Which built-in tokenizer a tokenizer.json is, if it gives the same ids as one; undefined for any other. */
export function builtInTokenizerOf(json: Json): 'byte' | 'gpt2' | undefined {
  const vocab = isObject(json.model) && isObject(json.model.vocab) ? Object.keys(json.model.vocab).length : 0;
  if (vocab === 256 && sameIds(json, byteTokenizerJson())) return 'byte';
  if (vocab === GPT2_END_OF_TEXT_ID + 1 && sameIds(json, gpt2TokenizerJson())) return 'gpt2';
  return undefined;
}
