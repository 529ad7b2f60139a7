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
 * tokenizer files, and the trainer state exactly where a run continues). The commands are the README's
 * chain section, read from it, so what the README shows is what runs here.
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

/** The commands of the README's chain section (its sh block), as argument lists. */
function readmeChain(): string[][] {
  const readme = fs.readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');
  const section = readme.split('\n## ').find((s) => s.startsWith('Chaining the commands'));
  const block = section && /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README.md: expected a "## Chaining the commands" section with an sh block, found none');
  return block
    .split('\n')
    .filter((line) => line.startsWith('efficientscale '))
    .map((line) => (line.match(/"[^"]*"|\S+/g) ?? []).slice(1).map((word) => word.replace(/^"(.*)"$/, '$1')));
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
    const evalArgs = [...data, '--batches', '2'];

    // The README's commands in order, each with what keeps it small here: this config and corpus instead
    // of the preset and the embedded corpus, two steps a leg, hidden 32 (the flags given last win).
    let step = 0;
    const results: Array<Record<string, unknown>> = [];
    for (const args of readmeChain()) {
      const [command] = args;
      let extra: string[] = [];
      if (command === 'train') {
        const fresh = !args.includes('--resume') && !args.includes('--init-from');
        step = args.includes('--resume') ? step + 2 : 2;
        extra = [...(fresh ? ['--config', 'config.json', '--tokenizer', tokenizer] : []), ...(args.includes('--resume') ? [] : data), '--steps', String(step)];
      } else if (command === 'grow') extra = ['--hidden', '32'];
      else if (command === 'eval') extra = evalArgs;
      else if (command === 'generate') extra = ['--tokens', '6', '--temperature', '0'];
      const result = await run(dir, ...args, ...extra);
      results.push(result);
      if (command === 'train') {
        const out = args[args.indexOf('--out') + 1];
        expect(steps(path.join(dir, out)), args.join(' ')).toEqual([step - 1, step]);
      }
    }
    const byCommand = (name: string) => results.filter((_, i) => readmeChain()[i][0] === name);
    expect(readmeChain().map((a) => a[0])).toEqual(['train', 'grow', 'train', 'upcycle', 'train', 'lowrank', 'train', 'export', 'eval', 'generate']);
    const tokenizerJson = fs.readFileSync(path.join(dir, 'runs/c1/checkpoint/tokenizer.json'));

    // Scale-Up and Scale-Out keep the function and continue the run (step counter, AdamW moments);
    // low-rank factors start a new run; export multiplies them out again.
    expect(byCommand('grow')[0]).toMatchObject({ exact: true, resumable: true });
    expect(byCommand('upcycle')[0]).toMatchObject({ resumable: true, layers: [0, 2] });
    expect(byCommand('upcycle')[0].maxAbsLogitDiff).toBeLessThan(1e-5);
    expect(byCommand('lowrank')[0].resumable).toBe(false);
    expect(byCommand('export')[0].layers).toEqual([1, 3]);

    // Every output is a whole Hugging Face directory with the run's tokenizer; only grow and upcycle
    // (continued with --resume) carry the trainer state and moments.
    for (const [out, resumable] of [['runs/c1-grown', true], ['runs/c2-moe', true], ['runs/c3-lowrank', false], ['runs/c4/checkpoint', true], ['runs/c4-dense', false]] as const) {
      const at = path.join(dir, out);
      for (const file of ['config.json', 'model.safetensors', 'tokenizer_config.json', 'generation_config.json']) expect(has(at, file), `${out}/${file}`).toBe(true);
      expect(fs.readFileSync(path.join(at, 'tokenizer.json')).equals(tokenizerJson), `${out}/tokenizer.json`).toBe(true);
      expect(has(at, 'trainer_state.json') && has(at, 'optimizer.safetensors'), out).toBe(resumable);
    }
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'runs/c4-dense/config.json'), 'utf8'))).toMatchObject({ vocab_size: vocab, hidden_size: 32, num_hidden_layers: 4 });

    // The exported dense model computes what the low-rank run does: the same loss on the same text, the
    // same greedy tokens, read with the tokenizer from its own directory.
    const dense = byCommand('eval')[0];
    const factors = await run(dir, 'eval', 'runs/c4', ...evalArgs);
    expect(dense.tokens).toBe(factors.tokens);
    expect(Math.abs((dense.eval_loss as number) - (factors.eval_loss as number))).toBeLessThan(1e-4);
    const said = byCommand('generate')[0];
    const saidBefore = await run(dir, 'generate', 'runs/c4', '--prompt', said.prompt as string, '--tokens', '6', '--temperature', '0');
    expect(said).toMatchObject({ tokenizer, prompt: 'It was', completion_ids: saidBefore.completion_ids });
    expect((said.completion_ids as number[]).length).toBe(6);
    if (tokenizer === 'gpt2') expect(said.prompt_ids).toEqual([1026, 373]); // GPT-2's ids for "It", " was"
    else expect(said.prompt_ids).toEqual([...Buffer.from('It was')]);
  }, 900_000);
});
