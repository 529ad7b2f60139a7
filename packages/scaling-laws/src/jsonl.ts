import { mismatch } from './errors.js';

/** One object of a JSONL text, with its 1-based line number and a `<source> line <n>` for messages. */
export interface JsonlRecord {
  record: Record<string, unknown>;
  line: number;
  where: string;
}

/**
 * The objects of a JSONL text, blank lines skipped; anything else that is not a JSON object is refused in
 * one line naming it. `tornTail`: a last line without its newline that does not parse is skipped (a run
 * being written, or killed mid-line), not refused.
 */
export function jsonlObjects(text: string, source: string, options: { tornTail?: boolean } = {}): JsonlRecord[] {
  const lines = text.split(/\r?\n/);
  const out: JsonlRecord[] = [];
  lines.forEach((lineText, i) => {
    if (lineText.trim() === '') return;
    const where = `${source} line ${i + 1}`;
    let raw: unknown;
    try {
      raw = JSON.parse(lineText);
    } catch {
      if (options.tornTail && i === lines.length - 1) return;
      throw mismatch(where, 'a JSON object', JSON.stringify(lineText.length > 40 ? `${lineText.slice(0, 40)}…` : lineText));
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw mismatch(where, 'a JSON object', Array.isArray(raw) ? 'an array' : typeof raw);
    out.push({ record: raw as Record<string, unknown>, line: i + 1, where });
  });
  return out;
}
