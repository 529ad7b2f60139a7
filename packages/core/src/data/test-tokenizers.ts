/** Tokenizers for tests. */

/**
 * A SentencePiece-style BPE (Metaspace "▁" marks word starts, as Llama's tokenizer.json does): the
 * letters a-e, the word-start marker, and merges ▁a, ab, ▁ab, cd, ▁cd; <unk> for anything else.
 */
export function tinyBpe(): Record<string, unknown> {
  const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '▁': 2, a: 3, b: 4, c: 5, d: 6, e: 7, '▁a': 8, ab: 9, '▁ab': 10, cd: 11, '▁cd': 12 };
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const metaspace = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(0, '<unk>'), special(1, '<s>')],
    normalizer: null,
    pre_tokenizer: metaspace,
    post_processor: null,
    decoder: metaspace,
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: false, vocab, merges: ['▁ a', 'a b', '▁a b', 'c d', '▁ cd'] },
  };
}

