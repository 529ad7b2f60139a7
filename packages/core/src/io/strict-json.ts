/**
 * What JSON.parse lets through but the reference safetensors reader (serde_json) refuses: a key
 * given twice in one object (JSON.parse keeps the last silently) and shape / offset numbers
 * written with a fraction or exponent ("4.0", "4e0"), which serde will not read as an integer.
 * Runs on text JSON.parse has already accepted, so it only needs to track strings and nesting.
 */
import { mismatch } from '../errors.js';

export function checkStrictJson(text: string, source: string): void {
  const stack: Array<{ keys: Set<string>; expectKey: boolean } | null> = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) throw mismatch(source, 'each key once per object', `${JSON.stringify(key)} twice`);
        top.keys.add(key);
        top.expectKey = false;
      }
      i = j + 1;
      continue;
    }
    if (ch === '-' || (ch >= '0' && ch <= '9')) {
      let j = i;
      while (j < text.length && /[-+.eE0-9]/.test(text[j])) j++;
      const token = text.slice(i, j);
      if (/[.eE]/.test(token)) throw mismatch(source, 'integers written as plain digits', token);
      i = j;
      continue;
    }
    if (ch === '{') stack.push({ keys: new Set(), expectKey: true });
    else if (ch === '[') stack.push(null);
    else if (ch === '}' || ch === ']') stack.pop();
    else if (ch === ',') {
      const top = stack[stack.length - 1];
      if (top) top.expectKey = true;
    }
    i++;
  }
}
