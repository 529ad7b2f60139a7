import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnCli } from './spawn-cli.js';

/**
 * The chain a user runs by hand, every command's output into the next, through the built binary:
 * train → grow → train --resume → upcycle → train --resume → lowrank → train --init-from → export --dense
 * → eval → generate, once with the byte tokenizer and once with GPT-2 BPE. Tiny models and a few steps:
 * what is tested is that each output is a checkpoint the next command takes, whole (weights, config,
 * tokenizer files, and the trainer state exactly where a run continues). The README's chain section runs
 * these commands.
 */
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-chain-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const text = 'It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness.\n';

/** Runs one command in `cwd` with --json; exit 0 and its last stdout line, parsed. */
async function run(cwd: string, ...args: string[]): Promise<Record<string, unknown>> {
  const r = await spawnCli([...args, '--backend', 'cpu', '--json'], { cwd, timeoutMs: 240_000 });
  expect(r.timedOut, `efficientscale ${args.join(' ')} still running after 240 s`).toBe(false);
  expect(r.code, `efficientscale ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

const steps = (run: string) => fs.readFileSync(run + '/metrics.jsonl', 'utf8').trim().split('\n').map((l) => JSON.parse(l).step as number);
const has = (dir: string, file: string) => fs.existsSync(path.join(dir, file));

describe.each([
  ['byte', 256],
  ['gpt2', 50257],
])('the chain with the %s tokenizer', (tokenizer, vocab) => {
  it('train → grow → train --resume → upcycle → train --resume → lowrank → train --init-from → export → eval → generate', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, `${tokenizer}-`));
    fs.writeFileSync(path.join(dir, 'corpus.txt'), text.repeat(300));
    // A Hugging Face config.json, as a user writes one (or takes from a model on the Hub).
    fs.writeFileSync(
      path.join(dir, 'config.json'),
      JSON.stringify({
        architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: vocab, hidden_size: 16, intermediate_size: 32,
        num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 2, hidden_act: 'silu', max_position_embeddings: 64,
        rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false,
      }),
    );
    const data = ['--corpus', 'corpus.txt', '--batch', '2', '--seq', '16'];

    const first = await run(dir, 'train', '--config', 'config.json', '--tokenizer', tokenizer, '--steps', '2', '--out', 'r1', ...data);
    expect(first.steps).toBe(2);
    const tokenizerJson = fs.readFileSync(path.join(dir, 'r1/checkpoint/tokenizer.json'));

    // Scale-Up, function-preserving: the grown model continues the run (its step counter and AdamW moments).
    const grown = await run(dir, 'grow', 'r1', '--out', 'g1', '--hidden', '32', '--layers', '2');
    expect(grown).toMatchObject({ exact: true, resumable: true, paramsAfter: expect.any(Number) });
    await run(dir, 'train', '--resume', 'g1', '--steps', '4', '--out', 'r2');
    expect(steps(path.join(dir, 'r2'))).toEqual([3, 4]);

    // Scale-Out: layer 0 to experts (layer 1 stays dense for lowrank below), same function, resumable.
    const upcycled = await run(dir, 'upcycle', 'r2', '--out', 'u1', '--experts', '4', '--top-k', '2', '--layers', '0');
    expect(upcycled.resumable).toBe(true);
    expect(upcycled.maxAbsLogitDiff).toBeLessThan(1e-5);
    await run(dir, 'train', '--resume', 'u1', '--steps', '6', '--out', 'r3');
    expect(steps(path.join(dir, 'r3'))).toEqual([5, 6]);

    // Low-rank: the factors start a new run (counters at 0); export multiplies them out again.
    const factored = await run(dir, 'lowrank', 'r3', '--out', 'l1', '--rank', '4');
    expect(factored.resumable).toBe(false);
    await run(dir, 'train', '--init-from', 'l1', '--steps', '2', '--out', 'r4', ...data);
    expect(steps(path.join(dir, 'r4'))).toEqual([1, 2]);
    const exported = await run(dir, 'export', 'r4', '--dense', '--out', 'e1');
    expect(exported.layers).toEqual([1]);

    // Every output is a whole Hugging Face directory with the run's tokenizer; only grow and upcycle
    // (continued with --resume) carry the trainer state and moments.
    for (const [out, resumable] of [['g1', true], ['u1', true], ['l1', false], ['r4/checkpoint', true], ['e1', false]] as const) {
      const at = path.join(dir, out);
      for (const file of ['config.json', 'model.safetensors', 'tokenizer_config.json', 'generation_config.json']) expect(has(at, file), `${out}/${file}`).toBe(true);
      expect(fs.readFileSync(path.join(at, 'tokenizer.json')).equals(tokenizerJson), `${out}/tokenizer.json`).toBe(true);
      expect(has(at, 'trainer_state.json') && has(at, 'optimizer.safetensors'), out).toBe(resumable);
    }
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'e1/config.json'), 'utf8'))).toMatchObject({ vocab_size: vocab, hidden_size: 32, num_hidden_layers: 2 });

    // The exported dense model computes what the low-rank run does: the same loss on the same text, the
    // same greedy tokens, read with the tokenizer from its own directory.
    const evalArgs = ['--corpus', 'corpus.txt', '--batch', '2', '--seq', '16', '--batches', '2'];
    const dense = await run(dir, 'eval', 'e1', ...evalArgs);
    const factors = await run(dir, 'eval', 'r4', ...evalArgs);
    expect(dense.tokens).toBe(factors.tokens);
    expect(Math.abs((dense.eval_loss as number) - (factors.eval_loss as number))).toBeLessThan(1e-4);
    const prompt = ['--prompt', 'It was the', '--tokens', '6', '--temperature', '0'];
    const said = await run(dir, 'generate', 'e1', ...prompt);
    const saidBefore = await run(dir, 'generate', 'r4', ...prompt);
    expect(said).toMatchObject({ tokenizer, prompt: 'It was the', completion_ids: saidBefore.completion_ids });
    expect((said.completion_ids as number[]).length).toBe(6);
    if (tokenizer === 'gpt2') expect(said.prompt_ids).toEqual([1026, 373, 262]); // GPT-2's ids for "It", " was", " the"
    else expect(said.prompt_ids).toEqual([...Buffer.from('It was the')]);
  }, 900_000);
});
