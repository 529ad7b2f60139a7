import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../errors.js';
import { brownFileToParagraphs, detokenize } from './brown.js';
import { loadDefaultCorpus, loadTextCorpus } from './corpus.js';
import { ByteTokenizer } from './tokenizer.js';
import { unigramEntropy } from './unigram.js';

describe('Brown Corpus detokenization', () => {
  it('strips tags, straightens quotes and attaches punctuation', () => {
    const tokens = '``/`` Only/rb a/at (/( relative/jj )/) handful/nn ,/, 1-1/2/cd 1/4\'\'/nn ;/; said/vbd ?/. \'\'/\'\' she/pps said/vbd ./.';
    expect(detokenize(tokens.split(' '))).toBe('"Only a (relative) handful, 1-1/2 1/4"; said?" she said.');
  });

  it('starts paragraphs at tab-indented lines and keeps headlines apart', () => {
    const file = '\n\n\tA/at b/nn ./.\nC/np d/nn ./.\n\n\n\t(/( E/np ./.\n)/) F/np\n,/, g/nn ./.\nMerger/nn-hl proposed/vbn-hl\nHowever/wrb ./.\n';
    expect(brownFileToParagraphs(file)).toEqual(['A b. C d.', '(E.) F, g.', 'Merger proposed', 'However.']);
  });
});

describe('loadDefaultCorpus', () => {
  const corpus = loadDefaultCorpus();

  it('is the Brown Corpus as plain text, one paragraph per line', () => {
    expect(corpus.name).toBe('brown');
    // The first paragraph of sample ca01 is a single sentence.
    expect(corpus.text.slice(0, corpus.text.indexOf('\n'))).toBe(
      'The Fulton County Grand Jury said Friday an investigation of Atlanta\'s recent primary election produced "no evidence" that any irregularities took place.',
    );
    expect(corpus.text.length).toBeGreaterThan(5_000_000);
    expect(corpus.text.length).toBeLessThan(7_000_000);
    expect(corpus.text.split('\n').length).toBeGreaterThan(10_000);
    expect(loadDefaultCorpus()).toBe(corpus); // cached
  });

  it('has no tags, no Brown quote tokens and no spaces before punctuation left', () => {
    // Real text keeps its own slashes ("and/or", "material/hr./in."); a leftover tag would be
    // followed by the space between tokens.
    expect(corpus.text).not.toMatch(/\/(at|nn|nns|np\$?|vbd|vbz|vbn|in|jj|cc|cs|rb|pps|dti|wdt|hvd|bedz)(-tl|-hl|-nc)?(?=\s|$)/m);
    expect(corpus.text).not.toMatch(/(^|\s)[^\s/]+\/(\.|,|``|''|--|\(|\)|\*)(?=\s|$)/m);
    expect(corpus.text).not.toMatch(/``|''/);
    expect(corpus.text).not.toMatch(/ [,.;:?!)](?=\s|$)/m); // (" :35.3" seconds is real text)
  });

  it('has a byte-level unigram entropy of ≈3.08 nats (the loss a trained model must beat)', () => {
    expect(unigramEntropy(new ByteTokenizer().encode(corpus.text), 256)).toBeCloseTo(3.0816, 3);
  });
});

describe('loadTextCorpus', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'corpus-'));
  const write = (name: string, data: string | Uint8Array) => {
    fs.writeFileSync(path.join(dir, name), data);
    return path.join(dir, name);
  };

  it('reads a UTF-8 text file named after the file', () => {
    const file = write('poems.txt', 'Grüße\n');
    expect(loadTextCorpus(file)).toEqual({ name: 'poems', text: 'Grüße\n', source: path.resolve(file) });
  });

  it('rejects missing, empty and non-text files', () => {
    expect(() => loadTextCorpus(path.join(dir, 'absent.txt'))).toThrow(/absent\.txt: expected a text corpus, found no such file/);
    expect(() => loadTextCorpus(write('empty.txt', ''))).toThrow(/empty\.txt: expected a non-empty text corpus, found an empty file/);
    expect(() => loadTextCorpus(write('bin.dat', new Uint8Array([0x80, 0x81])))).toThrow(/bin\.dat: expected a text corpus in UTF-8/);
    expect(() => loadTextCorpus(write('nul.txt', 'a\0b'))).toThrow(UserError);
    expect(() => loadTextCorpus(dir)).toThrow(/found a directory/);
  });
});
