/**
 * Our two built-in tokenizers written as Hugging Face `tokenizer.json` files, so a checkpoint directory
 * carries its tokenizer the way transformers expects, and recognised again when a checkpoint is read
 * (the built-in classes encode about ten times faster than @huggingface/tokenizers).
 *
 * Both use GPT-2's byte-level alphabet: each byte maps to one printable character. The byte tokenizer is
 * a BPE over that alphabet with no merges (id = byte value); GPT-2's is derived from gpt-tokenizer's
 * rank table (the same conversion transformers applies to tiktoken files: a token's merge is the pair
 * that byte-pair encoding of its bytes stops at, given only lower ranks) in gpt2-json.ts, which needs Node.
 */

/** GPT-2's byte → character map (printable bytes stand for themselves; the others are shifted past 255). */
function byteAlphabet(): string[] {
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const chars: string[] = [];
  let shifted = 0;
  for (let b = 0; b < 256; b++) chars.push(String.fromCharCode(printable(b) ? b : 256 + shifted++));
  return chars;
}

export const alphabet = byteAlphabet();

export const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };

/** The byte tokenizer (ids = UTF-8 bytes) as a tokenizer.json: one token per byte, no merges, no regex split. */
export function byteTokenizerJson(): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  alphabet.forEach((c, b) => (vocab[c] = b));
  const noRegex = { ...byteLevel, use_regex: false };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [],
    normalizer: null,
    pre_tokenizer: noRegex,
    post_processor: null,
    decoder: noRegex,
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges: [] },
  };
}

export const GPT2_END_OF_TEXT = '<|endoftext|>';
export const GPT2_END_OF_TEXT_ID = 50256;
