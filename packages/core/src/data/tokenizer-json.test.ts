import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf } from '../tf.js';
import { UserError } from '../errors.js';
import { llamaConfig } from '../model/config.js';
import { defaultAdamW } from '../train/adamw.js';
import { readRunInfo, continueRun, runPaths, startRun, type RunSpec } from '../train/run.js';
import { tokenizerByName, tokenizerFromJSON } from './load-tokenizer.js';
import { TokenizerJson } from './tokenizer-json.js';
import { checkpointTokenizer, tokenizerFiles } from '../hf/tokenizer-files.js';
import { tinyBpe } from './test-tokenizers.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'es-tokjson-'));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('tokenizer.json', () => {
  it('encodes with the BPE merges, decodes back, and sizes the vocabulary by its largest id', () => {
    const t = new TokenizerJson(tinyBpe());
    expect(t.vocabSize).toBe(13);
    // "ab" → ▁ab; "cd" → ▁cd; "abe" → ▁ab e; "dab" → ▁ d ab
    expect(Array.from(t.encode('ab cd abe dab'))).toEqual([10, 12, 10, 7, 2, 6, 9]);
    expect(t.decode(t.encode('ab cd abe dab'))).toBe('ab cd abe dab');
    expect(() => t.decode([13])).toThrow(/token id at position 0: expected an integer in \[0, 13\), found 13/);
  });

  it('is restored from its JSON description and found by path (file or directory) or in a checkpoint directory', () => {
    const dir = tmp();
    const t = new TokenizerJson(tinyBpe(), { model_max_length: 64 });
    for (const [name, text] of Object.entries(tokenizerFiles(t, {}))) fs.writeFileSync(path.join(dir, name), text);
    const text = 'abe cd ab';
    const restored = tokenizerFromJSON(JSON.parse(JSON.stringify(t.toJSON())));
    for (const other of [restored, tokenizerByName(dir), tokenizerByName(path.join(dir, 'tokenizer.json')), checkpointTokenizer(dir)!]) {
      expect(other.name).toBe('tokenizer.json');
      expect(Array.from(other.encode(text))).toEqual(Array.from(t.encode(text)));
    }
    expect(checkpointTokenizer(tmp())).toBeUndefined();
    expect(() => tokenizerByName(path.join(dir, 'missing.json'))).toThrow(UserError);
    expect(() => new TokenizerJson({ version: '1.0' })).toThrow(/"model": expected an object/);
  });

  it('a transformers-style checkpoint directory (no trainer_state.json) with tokenizer.json uses it', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ vocab_size: 13 }));
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tinyBpe()));
    expect(readRunInfo(dir).tokenizer.name).toBe('tokenizer.json');
  });

  it('a run trained with it stores it in trainer_state.json, and resume and eval tokenize with it again', async () => {
    const out = tmp();
    const tok = new TokenizerJson(tinyBpe());
    const config = llamaConfig({ vocab: 16, hidden: 8, ffn: 16, layers: 1, heads: 2, maxPositions: 32 });
    const spec: RunSpec = {
      totalSteps: 4,
      valFraction: 0.1,
      evalEvery: 2,
      checkpointEvery: 2,
      corpus: 'test',
      trainer: { batchSize: 2, seqLen: 8, accumulation: 1, schedule: { kind: 'constant', lr: 1e-2, warmup: 0 }, adamw: defaultAdamW, clipNorm: 1, seed: 1, evalBatches: 1 },
    };
    const text = 'ab cd abe dab cab bad ace '.repeat(30);
    const run = path.join(out, 'run');
    await startRun({ outDir: run, text, tokenizer: tok, config, spec, stopAfter: 2 });
    expect(readRunInfo(runPaths(run).checkpoint).tokenizer.name).toBe('tokenizer.json');
    const resumed = await continueRun({ outDir: run, text });
    expect(resumed.steps).toBe(4);
    expect(resumed.tokenizer).toBe('tokenizer.json');
    expect(readRunInfo(runPaths(run).checkpoint).tokenizer.vocabSize).toBe(13);
  });
});
