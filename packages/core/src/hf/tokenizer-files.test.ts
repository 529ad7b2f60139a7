import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { tf } from '../tf.js';
import { UserError } from '../errors.js';
import { llamaConfig } from '../model/config.js';
import { initParams } from '../model/params.js';
import { saveModel } from '../model/load.js';
import { defaultAdamW } from '../train/adamw.js';
import { readRunInfo, runPaths, startRun, type RunSpec } from '../train/run.js';
import { loadDefaultCorpus } from '../data/corpus.js';
import { ByteTokenizer, type Tokenizer } from '../data/tokenizer.js';
import { tokenizerByName } from '../data/load-tokenizer.js';
import { Gpt2Tokenizer } from '../data/gpt2-tokenizer.js';
import { TokenizerJson } from '../data/tokenizer-json.js';
import { byteTokenizerJson } from '../data/byte-level-json.js';
import { builtInTokenizerOf, gpt2TokenizerJson } from '../data/gpt2-json.js';
import { tinyBpe } from '../data/test-tokenizers.js';
import { checkpointTokenizer, checkpointTokenizerFiles, tokenizerForCheckpoint } from './tokenizer-files.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'es-tokfiles-'));
const hfIds = (json: Record<string, unknown>, text: string) => new HfTokenizer(json, {}).encode(text, { add_special_tokens: false }).ids;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('the built-in tokenizers as tokenizer.json', () => {
  it('byte: @huggingface/tokenizers gives the byte tokenizer\'s ids (UTF-8 bytes) and decodes them back, for any text', () => {
    const hf = new HfTokenizer(byteTokenizerJson(), {});
    const bytes = new ByteTokenizer();
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const ids = hf.encode(text, { add_special_tokens: false }).ids;
        expect(ids).toEqual(Array.from(bytes.encode(text)));
        if (ids.length > 0) expect(hf.decode(ids)).toBe(bytes.decode(ids)); // it refuses an empty list
      }),
      { numRuns: 200 },
    );
  });

  it('gpt2: @huggingface/tokenizers gives GPT-2\'s ids on the Brown Corpus and decodes them back; 50,257 tokens, 50,000 merges', () => {
    const json = gpt2TokenizerJson();
    const model = json.model as { vocab: Record<string, number>; merges: string[] };
    expect(Object.keys(model.vocab)).toHaveLength(50257);
    expect(model.merges).toHaveLength(50000);
    expect(model.merges.slice(0, 3)).toEqual(['Ġ t', 'Ġ a', 'h e']); // GPT-2's published merges.txt starts so
    const text = `${loadDefaultCorpus().text.slice(0, 5_000)} naïve café — 日本語 😀 it's  two  spaces\t\ttabs\n\n`;
    const ids = hfIds(json, text);
    expect(ids).toEqual(Array.from(new Gpt2Tokenizer().encode(text)));
    expect(new HfTokenizer(json, {}).decode(ids)).toBe(text);
  });

  it('a tokenizer.json with the built-in ids is read as the built-in tokenizer; any other stays itself', () => {
    expect(builtInTokenizerOf(byteTokenizerJson())).toBe('byte');
    expect(builtInTokenizerOf(gpt2TokenizerJson())).toBe('gpt2');
    expect(builtInTokenizerOf(tinyBpe())).toBeUndefined();
    const model = gpt2TokenizerJson().model as { merges: string[] };
    const swapped = { ...gpt2TokenizerJson(), model: { ...model, merges: [model.merges[1], model.merges[0], ...model.merges.slice(2)] } };
    expect(builtInTokenizerOf(swapped)).toBeUndefined();
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(byteTokenizerJson()));
    expect(tokenizerByName(dir)).toBeInstanceOf(ByteTokenizer);
  });
});

const spec = (corpus: string): RunSpec => ({
  totalSteps: 2,
  valFraction: 0.1,
  evalEvery: 2,
  checkpointEvery: 2,
  corpus,
  trainer: { batchSize: 2, seqLen: 8, accumulation: 1, schedule: { kind: 'constant', lr: 1e-2, warmup: 0 }, adamw: defaultAdamW, clipNorm: 1, seed: 1, evalBatches: 1 },
});

describe('a checkpoint holds its tokenizer', () => {
  const cases: Array<[string, () => Tokenizer, typeof ByteTokenizer | typeof Gpt2Tokenizer | typeof TokenizerJson]> = [
    ['byte', () => new ByteTokenizer(), ByteTokenizer],
    ['gpt2', () => new Gpt2Tokenizer(), Gpt2Tokenizer],
    ['a user\'s tokenizer.json', () => new TokenizerJson(tinyBpe(), { model_max_length: 64 }), TokenizerJson],
  ];
  it.each(cases)('%s: a run\'s checkpoint has tokenizer.json, tokenizer_config.json and generation_config.json, and gives the tokenizer back', async (_, make, kind) => {
    const tokenizer = make();
    const config = llamaConfig({ vocab: tokenizer.vocabSize, hidden: 8, ffn: 16, layers: 1, heads: 2, maxPositions: 16 });
    config.eos_token_id = 2;
    const run = path.join(tmp(), 'run');
    await startRun({ outDir: run, text: 'ab cd abe dab cab bad ace '.repeat(80), tokenizer, config, spec: spec('test') });
    const dir = runPaths(run).checkpoint;
    for (const f of ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) expect(fs.existsSync(path.join(dir, f))).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'generation_config.json'), 'utf8'))).toEqual({ _from_model_config: true, eos_token_id: 2 });
    const back = checkpointTokenizer(dir)!;
    expect(back).toBeInstanceOf(kind);
    expect(Array.from(back.encode('ab cd abe'))).toEqual(Array.from(tokenizer.encode('ab cd abe')));
    // The file itself is a tokenizer.json that @huggingface/tokenizers reads to the same ids.
    expect(hfIds(JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')), 'ab cd abe')).toEqual(Array.from(tokenizer.encode('ab cd abe')));
    // Carried to a new checkpoint as they are.
    const copy = checkpointTokenizerFiles(dir, config);
    expect(copy['tokenizer.json']).toBe(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8'));
  });

  it('a checkpoint from before tokenizer.json: the tokenizer its trainer_state.json names, and files made from it', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ vocab_size: 50304 }));
    fs.writeFileSync(path.join(dir, 'trainer_state.json'), JSON.stringify({ tokenizer: { kind: 'gpt2' } }));
    expect(checkpointTokenizer(dir)).toBeInstanceOf(Gpt2Tokenizer);
    const files = checkpointTokenizerFiles(dir, { vocab_size: 50304 });
    expect(builtInTokenizerOf(JSON.parse(files['tokenizer.json']))).toBe('gpt2');
    expect(JSON.parse(files['tokenizer_config.json'])).toMatchObject({ tokenizer_class: 'GPT2TokenizerFast', eos_token: '<|endoftext|>' });
  });

  it('a checkpoint without a tokenizer is read with bytes only when its vocabulary is 256; otherwise refused, or read with the one named', () => {
    const config = llamaConfig({ vocab: 50257, hidden: 8, ffn: 16, layers: 1, heads: 2 });
    const params = initParams(config, 0);
    const dir = path.join(tmp(), 'bpe');
    saveModel(dir, config, params, null);
    tf.dispose(Object.values(params));
    expect(fs.existsSync(path.join(dir, 'tokenizer.json'))).toBe(false);
    expect(() => readRunInfo(dir)).toThrow(UserError);
    expect(() => readRunInfo(dir)).toThrow(/expected a tokenizer\.json \(or --tokenizer byte\|gpt2\|FILE naming the one the model was trained with\), found none, and a vocabulary of 50257 tokens/);
    expect(readRunInfo(dir, new Gpt2Tokenizer()).tokenizer.name).toBe('gpt2');
    const small = tmp();
    fs.writeFileSync(path.join(small, 'config.json'), JSON.stringify({ vocab_size: 256 }));
    expect(tokenizerForCheckpoint(small)).toBeInstanceOf(ByteTokenizer);
    expect(() => tokenizerForCheckpoint(small, new Gpt2Tokenizer())).toThrow(/tokenizer: expected one of at most the model's vocab_size \(256\) tokens, found gpt2 with 50257/);
  });

  it('a missing checkpoint directory is named as one (eval and generate said "config.json: expected a JSON file, found no such file")', () => {
    const missing = path.join(tmp(), 'nothing-here');
    expect(() => tokenizerForCheckpoint(missing)).toThrow(UserError);
    expect(() => tokenizerForCheckpoint(missing)).toThrow(/nothing-here: expected a checkpoint directory, found nothing at that path/);
    expect(() => tokenizerForCheckpoint(missing, new ByteTokenizer())).toThrow(/nothing-here: expected a checkpoint directory, found nothing at that path/);
    expect(() => tokenizerForCheckpoint(tmp())).toThrow(/expected a checkpoint directory containing config\.json, found no config\.json/);
  });
});
