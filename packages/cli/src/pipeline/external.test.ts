import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readMetrics, readSafetensors, tf } from '@efficientscale/core/node';
import { BIN } from '../commands/spawn-cli.js';
import { cli } from '../commands/test-util.js';
import { writeTestPlan } from './test-plans.js';

/** A train stage run by an external trainer: a command template on the stage's Hugging Face directory. */
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'es-external-'));
const settings = { batch: 2, seq: 16, lr: 0.01, evalsPerStage: 2, evalBatches: 2, checkpointsPerStage: 1 };
const dense = { type: 'train', name: 'dense', model: { hidden: 16, layers: 1, heads: 2, ffn: 32 }, steps: 4 };
const node = JSON.stringify(process.execPath);

/** transformers' Trainer, as far as the pipeline sees it: output/checkpoint-N/ (weights, no tokenizer) and output/trainer_state.json. */
const fakeHfTrainer = path.join(root, 'fake-hf-trainer.mjs');

beforeAll(async () => {
  await tf.setBackend('cpu');
  fs.writeFileSync(
    fakeHfTrainer,
    `import * as fs from 'node:fs';
const [input, output, steps] = process.argv.slice(2);
const last = Number(steps);
fs.mkdirSync(output + '/checkpoint-' + last, { recursive: true });
for (const f of ['config.json', 'model.safetensors']) fs.copyFileSync(input + '/' + f, output + '/checkpoint-' + last + '/' + f);
const log_history = [{ step: last / 2, loss: 4.5, learning_rate: 0.01 }, { step: last, loss: 4.25, num_input_tokens_seen: 999 }, { step: last, eval_loss: 4.1 }, { step: last, train_runtime: 1, train_loss: 4.4 }];
fs.writeFileSync(output + '/trainer_state.json', JSON.stringify({ global_step: last, log_history }));
console.log('fake trainer: done');
`,
  );
});

async function run(file: string, ...flags: string[]) {
  const r = await cli('pipeline', file, '--backend', 'cpu', '--json', ...flags);
  return { ...r, json: r.code === 0 ? JSON.parse(r.stdout) : undefined };
}

describe('a pipeline train stage with an external trainer', () => {
  it('runs this toolkit\'s own train --init-from on the grown checkpoint, reads its metrics.jsonl back, and chains the report', async () => {
    const dir = path.join(root, 'own');
    const corpus = path.join(dir, 'corpus.txt');
    const command = `${node} ${JSON.stringify(BIN)} train --init-from {input} --out {output} --steps {steps} --lr {lr} --schedule constant --corpus ${JSON.stringify(corpus)} --batch 2 --seq 16 --backend cpu --json`;
    const file = writeTestPlan(dir, { ...settings, stages: [dense, { type: 'grow', hidden: 32, heads: 4, ffn: 64 }, { type: 'train', name: 'outside', steps: 4, lr: 0.005, trainer: { command } }] });
    const r = await run(file);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.complete).toBe(true);
    const stage = path.join(dir, 'out', '03-outside');
    // The trainer's own run: 4 steps from the grown weights at the stage's learning rate.
    const own = readMetrics(path.join(stage, 'output', 'metrics.jsonl'));
    expect(own.map((m) => m.step)).toEqual([1, 2, 3, 4]);
    expect(own[0].lr).toBe(0.005);
    // Read back in the pipeline's counters: steps 5..8, tokens and FLOPs after the first stage's, the losses the trainer logged.
    const records = readMetrics(path.join(stage, 'metrics.jsonl'));
    expect(records.map((m) => m.step)).toEqual([5, 6, 7, 8]);
    expect(records.map((m) => m.loss)).toEqual(own.map((m) => m.loss));
    expect(records.map((m) => m.tokens)).toEqual([5, 6, 7, 8].map((s) => s * 32));
    const first = readMetrics(path.join(dir, 'out', '01-dense', 'metrics.jsonl'));
    expect(records[0].flops).toBeGreaterThan(first.at(-1)!.flops);
    // The pipeline's own held-out loss of the result, on the plan's corpus, is the point the report chains.
    expect(records.at(-1)!.eval_loss).toBeCloseTo(r.json.stages[2].eval_loss, 10);
    expect(r.json.stages[2]).toMatchObject({ steps: 4, tokens: 128, tokens_end: 256 });
    // The stage's checkpoint is the trainer's model, with the tokenizer.
    const weights = (d: string) => readSafetensors(path.join(d, 'model.safetensors')).tensors['model.norm.weight'].data;
    expect(Array.from(weights(path.join(stage, 'checkpoint')))).toEqual(Array.from(weights(path.join(stage, 'output', 'checkpoint'))));
    expect(fs.existsSync(path.join(stage, 'checkpoint', 'tokenizer.json'))).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'out', 'report.md'), 'utf8')).toContain('outside');
  }, 120_000);

  it('reads transformers\' layout: the latest checkpoint-N/ and trainer_state.json\'s log_history; the tokenizer comes from the input', async () => {
    const dir = path.join(root, 'hf');
    const command = `${node} ${JSON.stringify(fakeHfTrainer)} {input} {output} {steps}`;
    const file = writeTestPlan(dir, { ...settings, stages: [dense, { type: 'train', name: 'hf', steps: 4, trainer: { command } }] });
    const r = await run(file);
    expect(r.code, r.stderr).toBe(0);
    const stage = path.join(dir, 'out', '02-hf');
    const records = readMetrics(path.join(stage, 'metrics.jsonl'));
    expect(records.map((m) => [m.step, m.loss, m.tokens])).toEqual([[6, 4.5, 128 + 64], [8, 4.25, 128 + 999]]);
    expect(records[1].trainer_eval_loss).toBe(4.1);
    expect(records[1].eval_loss).toBe(r.json.stages[1].eval_loss);
    // The fake trainer copied its input: the stage's weights are the first stage's.
    const norm = (d: string) => Array.from(readSafetensors(path.join(d, 'model.safetensors')).tensors['model.norm.weight'].data);
    expect(norm(path.join(stage, 'checkpoint'))).toEqual(norm(path.join(dir, 'out', '01-dense', 'checkpoint')));
    expect(fs.readFileSync(path.join(stage, 'checkpoint', 'tokenizer.json'), 'utf8')).toBe(fs.readFileSync(path.join(dir, 'out', '01-dense', 'checkpoint', 'tokenizer.json'), 'utf8'));
    expect(fs.readFileSync(path.join(stage, 'trainer.log'), 'utf8')).toContain('fake trainer: done');
  });

  it('refuses, in one line: a field it does not know, one of our train stages after it, a trainer that fails', async () => {
    const line = (r: { stderr: string }) => r.stderr.trim().split('\n').filter((l) => !l.startsWith('backend'));
    const unknown = writeTestPlan(path.join(root, 'unknown'), { ...settings, stages: [dense, { type: 'train', steps: 2, trainer: { command: 'train {input} {model}' } }] });
    const a = await cli('pipeline', unknown, '--dry-run');
    expect(line(a)).toEqual([expect.stringMatching(/"stages\[1\]\.trainer\.command": expected a command whose \{fields\} are among \{input\}, \{output\}, \{steps\}, \{tokens\}, \{lr\}, found "train \{input\} \{model\}"/)]);
    const after = writeTestPlan(path.join(root, 'after'), { ...settings, stages: [dense, { type: 'train', steps: 2, trainer: { command: 'true' } }, { type: 'train', steps: 2 }] });
    const b = await cli('pipeline', after, '--dry-run');
    expect(line(b)).toEqual([expect.stringMatching(/stages\[2\] \(train\)\.trainer: expected an external trainer too \(stages\[1\] \(train\) trained with one, leaving no optimizer state or data position to continue\), found none/)]);
    const failing = writeTestPlan(path.join(root, 'failing'), { ...settings, stages: [dense, { type: 'train', steps: 2, trainer: { command: 'echo out of memory >&2; exit 3' } }] });
    const c = await cli('pipeline', failing, '--backend', 'cpu');
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/error: stages\[1\] \(train\) trainer: expected a command that exits with 0, found exit code 3 \(its output: .*02-train\/trainer\.log\)/);
    expect(fs.readFileSync(path.join(root, 'failing', 'out', '02-train', 'trainer.log'), 'utf8')).toContain('out of memory');
  });
});
