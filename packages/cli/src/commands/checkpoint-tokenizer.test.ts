import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Gpt2Tokenizer, initParams, TokenizerJson, llamaConfig, saveModel, tf } from '@efficientscale/core/node';
import { cli } from './test-util.js';

/** A checkpoint is a Hugging Face directory, whole: every command writes the tokenizer files, every loader reads them. */
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-ckpt-tok-'));
const corpus = path.join(tmp, 'corpus.txt');
const bpe = path.join(tmp, 'bpe');
const bytes = path.join(tmp, 'bytes');
const gpt2Config = path.join(tmp, 'gpt2-config.json');
const byteConfig = path.join(tmp, 'byte-config.json');
const small = ['--batch', '2', '--seq', '16', '--backend', 'cpu', '--json'];
const evalFlags = ['--batch', '2', '--seq', '16', '--batches', '2', '--backend', 'cpu', '--json'];
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json'];

const read = (dir: string, file: string) => fs.readFileSync(path.join(dir, file), 'utf8');
async function ok(...args: string[]): Promise<Record<string, unknown>> {
  const r = await cli(...args);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  // Not the embedded corpus: eval must find it again from the run's record.
  fs.writeFileSync(corpus, 'Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse, I thought I would sail about.\n'.repeat(150));
  fs.writeFileSync(gpt2Config, JSON.stringify(llamaConfig({ vocab: 50257, hidden: 8, ffn: 16, layers: 1, heads: 2, maxPositions: 32 })));
  fs.writeFileSync(byteConfig, JSON.stringify(llamaConfig({ vocab: 256, hidden: 16, ffn: 32, layers: 2, heads: 2, maxPositions: 32 })));
  await ok('train', '--config', gpt2Config, '--tokenizer', 'gpt2', '--corpus', corpus, '--steps', '2', '--out', bpe, ...small);
  await ok('train', '--config', byteConfig, '--corpus', corpus, '--steps', '2', '--out', bytes, ...small);
});

describe('a checkpoint holds its tokenizer', () => {
  it('train writes tokenizer.json (GPT-2 BPE that @huggingface/tokenizers reads to GPT-2\'s ids), tokenizer_config.json and generation_config.json', () => {
    const dir = path.join(bpe, 'checkpoint');
    for (const f of TOKENIZER_FILES) expect(fs.existsSync(path.join(dir, f)), f).toBe(true);
    const text = 'Call me Ishmael. Some years ago';
    // TokenizerJson reads a tokenizer.json with @huggingface/tokenizers.
    const hf = new TokenizerJson(JSON.parse(read(dir, 'tokenizer.json')), JSON.parse(read(dir, 'tokenizer_config.json')));
    expect(Array.from(hf.encode(text))).toEqual(Array.from(new Gpt2Tokenizer().encode(text)));
    expect(JSON.parse(read(dir, 'tokenizer_config.json'))).toMatchObject({ tokenizer_class: 'GPT2TokenizerFast' });
  });

  it('a weights-and-tokenizer copy (import: no trainer_state.json) evaluates and generates with GPT-2 BPE, as the run does', async () => {
    const copy = path.join(tmp, 'bpe-import');
    await ok('import', path.join(bpe, 'checkpoint'), '--out', copy, '--json');
    expect(fs.existsSync(path.join(copy, 'trainer_state.json'))).toBe(false);
    for (const f of TOKENIZER_FILES) expect(read(copy, f)).toBe(read(path.join(bpe, 'checkpoint'), f));
    const run = await ok('eval', bpe, '--corpus', corpus, ...evalFlags);
    const imported = await ok('eval', copy, '--corpus', corpus, ...evalFlags);
    expect(imported.eval_loss).toBe(run.eval_loss);
    const g = await ok('generate', copy, '--prompt', 'Call me', '--tokens', '2', '--backend', 'cpu', '--json');
    expect(g).toMatchObject({ tokenizer: 'gpt2', prompt_ids: Array.from(new Gpt2Tokenizer().encode('Call me')) });
  });

  it('grow, upcycle and grow --stream carry the tokenizer files to their output', async () => {
    const from = path.join(bytes, 'checkpoint');
    const outs = { grown: path.join(tmp, 'grown'), moe: path.join(tmp, 'moe'), deep: path.join(tmp, 'deep') };
    await ok('grow', bytes, '--out', outs.grown, '--layers', '3', '--backend', 'cpu', '--json');
    await ok('upcycle', bytes, '--out', outs.moe, '--experts', '2', '--top-k', '1', '--backend', 'cpu', '--json');
    await ok('grow', from, '--out', outs.deep, '--layers', '3', '--depth-method', 'copy', '--stream', '--json');
    for (const out of Object.values(outs)) {
      for (const f of TOKENIZER_FILES) expect(read(out, f), `${out}/${f}`).toBe(read(from, f));
    }
  });

  it('a checkpoint without a tokenizer whose vocabulary is not the byte tokenizer\'s is refused in one line, or read with --tokenizer', async () => {
    const dir = path.join(tmp, 'no-tokenizer');
    const config = llamaConfig({ vocab: 50257, hidden: 8, ffn: 16, layers: 1, heads: 2, maxPositions: 32 });
    const params = initParams(config, 0);
    saveModel(dir, config, params, null);
    tf.dispose(Object.values(params));
    for (const args of [['eval', dir, '--corpus', corpus, '--backend', 'cpu'], ['generate', dir, '--prompt', 'x', '--backend', 'cpu']]) {
      const r = await cli(...args);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/no-tokenizer: expected a tokenizer\.json \(or --tokenizer byte\|gpt2\|FILE naming the one the model was trained with\), found none, and a vocabulary of 50257 tokens/);
    }
    await ok('generate', dir, '--prompt', 'Call me', '--tokens', '1', '--tokenizer', 'gpt2', '--backend', 'cpu', '--json');
  });
});

describe('eval reads the corpus the run trained on', () => {
  it('a --corpus run evaluates on that corpus without naming it again', async () => {
    const named = await ok('eval', bytes, '--corpus', corpus, ...evalFlags);
    const recorded = await ok('eval', bytes, ...evalFlags);
    expect(recorded.corpus).toBe('corpus');
    expect(recorded.eval_loss).toBe(named.eval_loss);
  });

  it('a run whose corpus file is gone is refused in one line naming it', async () => {
    const moved = path.join(tmp, 'moved.txt');
    const run = path.join(tmp, 'moved-run');
    fs.copyFileSync(corpus, moved);
    await ok('train', '--config', byteConfig, '--corpus', moved, '--steps', '1', '--out', run, ...small);
    fs.rmSync(moved);
    const r = await cli('eval', run, '--backend', 'cpu');
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/"spec\.corpus" .*moved\.txt: expected the corpus file the run trained on \(or --corpus FILE\), found no such file/);
  });
});
