/**
 * Detokenizes the tagged Brown Corpus (Form C: `word/tag` tokens, about one sentence per line, a leading
 * tab marking a new paragraph) into plain English text, one paragraph per line.
 */

/** Tokens that attach to the word before them. */
const NO_SPACE_BEFORE = new Set([',', '.', ';', ':', '?', '!', ')', "''", "'"]);
/** Tokens that attach to the word after them. */
const NO_SPACE_AFTER = new Set(['``', '(']);

function splitToken(token: string): { word: string; tag: string } {
  // Split at the last slash: words themselves may contain one ("1-1/2/cd").
  const slash = token.lastIndexOf('/');
  return slash > 0 ? { word: token.slice(0, slash), tag: token.slice(slash + 1) } : { word: token, tag: '' };
}

/** Joins tagged tokens into text with conventional spacing and straight double quotes. */
export function detokenize(tokens: readonly string[]): string {
  let text = '';
  let attachNext = true;
  for (const token of tokens) {
    const { word } = splitToken(token);
    if (!attachNext && !NO_SPACE_BEFORE.has(word)) text += ' ';
    text += word.replace(/``|''/g, '"'); // also inches: 1/2'' → 1/2"
    attachNext = NO_SPACE_AFTER.has(word);
  }
  return text;
}

/** A line whose every token is tagged as part of a headline (`-hl`) is kept as its own paragraph. */
function isHeadline(tokens: readonly string[]): boolean {
  return tokens.length > 0 && tokens.every((t) => splitToken(t).tag.endsWith('-hl'));
}

/**
 * Converts one Brown Corpus file to paragraphs of plain text. Lines without a leading tab continue
 * the paragraph (sometimes mid-sentence, or closing a parenthesis opened on the line before), so a
 * paragraph is detokenized as one token stream.
 */
export function brownFileToParagraphs(source: string): string[] {
  const paragraphs: string[][] = [];
  let previousWasHeadline = false;
  for (const line of source.split('\n')) {
    const tokens = line.trim().split(/\s+/).filter(Boolean);
    if (tokens.length === 0) continue;
    const headline = isHeadline(tokens);
    if (line.startsWith('\t') || headline || previousWasHeadline || paragraphs.length === 0) paragraphs.push([]);
    paragraphs[paragraphs.length - 1].push(...tokens);
    previousWasHeadline = headline;
  }
  return paragraphs.map(detokenize);
}
