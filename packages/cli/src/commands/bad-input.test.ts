/**
 * Every command's error path under one harness: a table of bad command lines, each run through the CLI
 * (as typed, and again with --json). Each must end with exit 1 or 2 and one clear line (`error: ...`, or
 * one JSON object `{"error": ...}` without a stack), never a stack trace. Every registered command has
 * rows. One row per command also runs as a real process (the built dist/bin.js: a fresh start-up, its
 * own exit path); EFFICIENTSCALE_BAD_INPUT_SPAWN=all spawns every row, both forms. The summary line
 * counts the command lines tried and how many got their one clear line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { llamaConfig, readSafetensors, tf, writeSafetensors } from '@efficientscale/core/node';
import { cli } from './test-util.js';
import { spawnCli } from './spawn-cli.js';
import { buildProgram } from '../program.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CHINCHILLA = path.resolve(here, '../../../../../shared/data/chinchilla/svg_extracted_data.csv');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-bad-input-'));
const at = (name: string) => path.join(tmp, name);

// Fixtures: a trained run, a file, an empty directory, inputs of every kind a command reads.
const run = at('run');
const file = at('a-file');
const emptyDir = at('empty-dir');
const corpus = at('corpus.txt');
const tinyCorpus = at('tiny.txt');
const config = at('config.json');
const ids = at('ids.safetensors');
const law = at('law.json');
const interrupted = at('interrupted-run');
const moeRun = at('moe-run');
const overflow = at('overflow-ckpt');
const plan = (name: string) => at(`${name}.plan.json`);
const B = '--backend';
const CPU = 'cpu';

beforeAll(async () => {
  await tf.setBackend('cpu');
  fs.writeFileSync(file, 'just text\n');
  fs.mkdirSync(emptyDir);
  fs.symlinkSync('/proc', at('proc-link'));
  fs.writeFileSync(corpus, 'It was the best of times, it was the worst of times.\n'.repeat(80));
  fs.writeFileSync(tinyCorpus, 'hi\n');
  fs.writeFileSync(config, JSON.stringify(llamaConfig({ vocab: 256, hidden: 16, ffn: 32, layers: 1, heads: 2, maxPositions: 32 })));
  const r = await cli('train', '--config', config, '--corpus', corpus, '--batch', '2', '--seq', '8', '--steps', '2', '--out', run, B, CPU, '--json');
  expect(r.code, r.stderr).toBe(0);
  writeSafetensors(ids, { input_ids: { dtype: 'I32', shape: [1, 3], data: new Int32Array([72, 105, 33]) } });
  writeSafetensors(at('float-ids.safetensors'), { input_ids: { dtype: 'F32', shape: [1, 3], data: new Float32Array([72, 105, 33]) } });
  writeSafetensors(at('big-ids.safetensors'), { input_ids: { dtype: 'I32', shape: [1, 2], data: new Int32Array([1, 999]) } });
  writeSafetensors(at('long-ids.safetensors'), { input_ids: { dtype: 'I32', shape: [1, 40], data: new Int32Array(40) } });
  fs.writeFileSync(at('eps.json'), fs.readFileSync(config, 'utf8').replace(/"rms_norm_eps":\s*[^,}]+/, '"rms_norm_eps": 1e400'));
  fs.writeFileSync(at('not-json.json'), '{"vocab_size": 256,');
  // A run directory whose checkpoint a kill left renamed aside between the two renames of a save.
  fs.cpSync(run, interrupted, { recursive: true });
  fs.renameSync(path.join(interrupted, 'checkpoint'), path.join(interrupted, 'checkpoint.old-0a1b2c'));
  // A checkpoint whose weights hold a NaN.
  fs.cpSync(path.join(run, 'checkpoint'), at('nan-ckpt'), { recursive: true });
  const weights = readSafetensors(path.join(at('nan-ckpt'), 'model.safetensors')).tensors;
  weights['model.norm.weight'].data[0] = NaN;
  writeSafetensors(path.join(at('nan-ckpt'), 'model.safetensors'), weights, { format: 'pt' });
  // A checkpoint whose finite weights overflow float32 in layer 0's FFN.
  fs.cpSync(path.join(run, 'checkpoint'), overflow, { recursive: true });
  const big = readSafetensors(path.join(overflow, 'model.safetensors')).tensors;
  big['model.layers.0.post_attention_layernorm.weight'].data.fill(3e38);
  writeSafetensors(path.join(overflow, 'model.safetensors'), big, { format: 'pt' });
  fs.mkdirSync(moeRun);
  const record = (step: number) => ({ step, tokens: 64 * step, flops: 1e6 * step, loss: 3, ffn_metrics: { expert_load: { 0: [0.5, 0.5] } } });
  fs.writeFileSync(path.join(moeRun, 'metrics.jsonl'), [1, 2].map((s) => `${JSON.stringify(record(s))}\n`).join(''));
  const f = await cli('fit', CHINCHILLA, '--out', law, '--json');
  expect(f.code, f.stderr).toBe(0);
  fs.writeFileSync(at('no-params.csv'), 'tokens,loss\n1,2\n');
  const stage = { type: 'train', model: { hidden: 16, layers: 1, heads: 2, ffn: 32 }, steps: 2 };
  const quickPlan = (extra: object) => JSON.stringify({ corpus: corpus, tokenizer: 'byte', out: at('plan-out'), batch: 2, seq: 8, stages: [stage], ...extra });
  fs.writeFileSync(plan('bad-stage'), quickPlan({ stages: [{ type: 'teleport' }] }));
  fs.writeFileSync(plan('proc-out'), quickPlan({ out: '/proc/x' }));
  fs.writeFileSync(plan('file-out'), quickPlan({ out: path.join(file, 'sub') }));
});

type Row = [what: string, args: string[], message?: RegExp];

/** Bad command lines, by command. A row's message pattern, when given, is what its one line must say. */
const rows: Row[] = [
  // general
  ['an unknown command', ['trian'], /unknown command 'trian'/],
  ['an unknown flag', ['train', '--bogus'], /unknown option '--bogus'/],
  // train
  ['train --steps 0', ['train', '--steps', '0'], /Expected a positive integer, found "0"/],
  ['train --steps 0x10', ['train', '--steps', '0x10'], /Expected a positive integer, found "0x10"/],
  ['train --steps many', ['train', '--steps', 'many']],
  ['train --lr -1', ['train', '--lr', '-1']],
  ['train --preset bogus', ['train', '--preset', 'bogus']],
  ['train --schedule bogus', ['train', '--schedule', 'bogus']],
  ['train --backend bogus', ['train', B, 'bogus']],
  ['train --steps and --tokens', ['train', '--steps', '2', '--tokens', '100', B, CPU], /expected at most one of them, found both/],
  ['train --config missing', ['train', '--config', at('missing.json'), '--out', at('never'), B, CPU]],
  ['train --config a broken JSON', ['train', '--config', at('not-json.json'), '--out', at('never'), B, CPU], /valid JSON/],
  ['train --config rms_norm_eps 1e400', ['train', '--config', at('eps.json'), '--out', at('never'), B, CPU], /found Infinity/],
  ['train --corpus missing', ['train', '--config', config, '--corpus', at('missing.txt'), '--out', at('never'), B, CPU]],
  ['train --corpus too small for a held-out batch', ['train', '--config', config, '--corpus', tinyCorpus, '--batch', '2', '--seq', '8', '--out', at('never'), B, CPU], /corpus \S*tiny(\.txt)?: expected at least \d+ tokens, so that its held-out 2% holds one batch of 2 × 8 \+ 1 tokens, found 3 tokens/],
  ['train --seq past max_position_embeddings', ['train', '--config', config, '--corpus', corpus, '--seq', '64', '--out', at('never'), B, CPU], /max_position_embeddings/],
  ['train --tokenizer bogus', ['train', '--tokenizer', 'bogus', '--out', at('never'), B, CPU]],
  ['train --out below a file', ['train', '--config', config, '--corpus', corpus, '--steps', '2', '--out', path.join(file, 'sub'), B, CPU], /a file$/],
  ['train --out /proc/x', ['train', '--config', config, '--corpus', corpus, '--steps', '1', '--out', '/proc/x', B, CPU], /under \/proc/],
  ['train --out /sys/x', ['train', '--config', config, '--corpus', corpus, '--steps', '1', '--out', '/sys/x', B, CPU], /--out \/sys\/x: expected a path outside \/proc and \/sys, found a path under \/sys$/],
  ['train --out through a link to /proc', ['train', '--config', config, '--corpus', corpus, '--steps', '1', '--out', path.join(at('proc-link'), 'x'), B, CPU], /expected a path outside \/proc and \/sys, found a path through \S*proc-link, which is \/proc under \/proc$/],
  ['train --out an existing run', ['train', '--config', config, '--corpus', corpus, '--steps', '1', '--out', run, B, CPU], /use --resume/],
  ['train --batch 100000 --steps 1', ['train', '--batch', '100000', '--steps', '1', '--corpus', corpus, '--out', at('never'), B, CPU], /^error: memory: expected a run that fits in the .* available .*, found one that needs about [\d.]+ GiB at its peak/],
  ['train --ffn lowrank without a rank', ['train', '--config', config, '--corpus', corpus, '--ffn', 'lowrank', '--out', at('never'), B, CPU]],
  ['train --progressive --grow-at 1.5', ['train', '--progressive', '--grow-at', '1.5', B, CPU]],
  ['train --resume a missing directory', ['train', '--resume', at('missing-run'), '--corpus', corpus, B, CPU]],
  ['train --resume a file', ['train', '--resume', file, '--corpus', corpus, B, CPU], /a-file: expected a run directory \(or a checkpoint directory\) to resume, found a file/],
  ['train --resume an empty directory', ['train', '--resume', emptyDir, '--corpus', corpus, B, CPU]],
  ['train --resume --lr', ['train', '--resume', run, '--corpus', corpus, '--lr', '0.1', B, CPU], /stored peak learning rate/],
  ['train --resume --steps below done', ['train', '--resume', run, '--corpus', corpus, '--steps', '1', B, CPU], /expected more than the checkpoint's 2 steps, found 1/],
  ['train --resume on another corpus', ['train', '--resume', run, '--corpus', at('no-params.csv'), B, CPU]],
  // eval
  ['eval a missing directory', ['eval', at('missing-run'), B, CPU]],
  ['eval a file', ['eval', file, B, CPU]],
  ['eval an empty directory', ['eval', emptyDir, B, CPU]],
  ['eval an interrupted run', ['eval', interrupted, B, CPU], /train --resume .*interrupted-run restores it/],
  ['eval --corpus too small', ['eval', run, '--corpus', tinyCorpus, B, CPU], /corpus tiny: expected at least \d+ tokens, so that its held-out 2% holds one batch of 8 × 64 \+ 1 tokens, found 3 tokens/],
  ['eval --batch 0', ['eval', run, '--batch', '0']],
  ['eval --seq past max_position_embeddings', ['eval', run, '--corpus', corpus, '--seq', '64', '--batch', '1', B, CPU], /max_position_embeddings \(32\)/],
  ['eval NaN weights', ['eval', at('nan-ckpt'), '--corpus', corpus, B, CPU], /expected a finite number/],
  ['eval an overflowing checkpoint', ['eval', overflow, '--corpus', corpus, '--batch', '1', '--seq', '8', '--batches', '1', B, CPU], /eval loss: expected a finite number, found .* \(the output of layer 0's FFN \(model\.layers\.0\.mlp\) went non-finite first\)$/],
  // generate
  ['generate with an overflowing checkpoint', ['generate', overflow, '--prompt', 'It', '--tokens', '2', B, CPU], /next-token logits: expected finite numbers, found NaN or Inf \(the output of layer 0's FFN/],
  ['generate an empty prompt', ['generate', run, '--prompt', '', '--tokens', '3', B, CPU], /prompt: expected at least one token to continue, found an empty prompt/],
  ['generate without --prompt', ['generate', run]],
  ['generate --tokens 0', ['generate', run, '--prompt', 'x', '--tokens', '0']],
  ['generate --temperature -1', ['generate', run, '--prompt', 'x', '--temperature', '-1']],
  ['generate --top-p 2', ['generate', run, '--prompt', 'x', '--top-p', '2', B, CPU]],
  ['generate a missing directory', ['generate', at('missing-run'), '--prompt', 'x', B, CPU]],
  // forward
  ['forward --input missing', ['forward', run, '--input', at('missing.safetensors'), '--out', at('logits-1'), B, CPU]],
  ['forward --input not safetensors', ['forward', run, '--input', file, '--out', at('logits-2'), B, CPU]],
  ['forward --input float ids', ['forward', run, '--input', at('float-ids.safetensors'), '--out', at('logits-3'), B, CPU], /an integer tensor of rank 2/],
  ['forward --input ids past the vocabulary', ['forward', run, '--input', at('big-ids.safetensors'), '--out', at('logits-4'), B, CPU], /a token id in \[0, 256\)/],
  ['forward --input past max_position_embeddings', ['forward', run, '--input', at('long-ids.safetensors'), '--out', at('logits-5'), B, CPU]],
  ['forward --out a checkpoint weight', ['forward', run, '--input', ids, '--out', path.join(run, 'checkpoint', 'model.safetensors'), '--force', B, CPU], /inside the checkpoint/],
  ['forward --out an existing file', ['forward', run, '--input', ids, '--out', file, B, CPU], /pass --force/],
  ['forward --out /proc/x', ['forward', run, '--input', ids, '--out', '/proc/x', B, CPU], /under \/proc/],
  ['forward --out /sys/kernel/x', ['forward', run, '--input', ids, '--out', '/sys/kernel/x', B, CPU], /found a path under \/sys$/],
  ['forward --out below a file', ['forward', run, '--input', ids, '--out', path.join(file, 'x'), B, CPU], /a file$/],
  ['forward with an overflowing checkpoint', ['forward', overflow, '--input', ids, '--out', at('logits-7'), B, CPU], /logits: expected finite numbers, found NaN or Inf \(the output of layer 0's FFN/],
  ['forward without --input', ['forward', run, '--out', at('logits-6')]],
  // import, grow, upcycle, lowrank, export, streaming
  ['import a missing directory', ['import', at('missing'), '--out', at('imported')]],
  ['import an empty directory', ['import', emptyDir, '--out', at('imported')]],
  ['import --out a non-empty directory', ['import', path.join(run, 'checkpoint'), '--out', run], /a new or empty directory/],
  ['import --out /proc/x', ['import', path.join(run, 'checkpoint'), '--out', '/proc/x'], /under \/proc/],
  ['grow with nothing to grow', ['grow', run, '--out', at('grown'), B, CPU]],
  ['grow a missing directory', ['grow', at('missing'), '--layers', '2', '--out', at('grown'), B, CPU]],
  ['grow --out a non-empty directory', ['grow', run, '--layers', '2', '--out', run, B, CPU], /a new or empty directory/],
  ['grow --out /proc/x', ['grow', run, '--layers', '2', '--out', '/proc/x', B, CPU], /under \/proc/],
  ['upcycle --experts 0', ['upcycle', run, '--out', at('moe'), '--experts', '0']],
  ['upcycle --top-k above --experts', ['upcycle', run, '--out', at('moe'), '--experts', '2', '--top-k', '3', B, CPU]],
  ['upcycle --layers past the model', ['upcycle', run, '--out', at('moe'), '--experts', '2', '--top-k', '1', '--layers', '5', B, CPU]],
  ['upcycle --out a non-empty directory', ['upcycle', run, '--out', run, '--experts', '2', '--top-k', '1', B, CPU], /a new or empty directory/],
  ['upcycle a missing directory', ['upcycle', at('missing'), '--out', at('moe'), '--experts', '2', '--top-k', '1', B, CPU]],
  ['lowrank without a rank', ['lowrank', run, '--out', at('lr'), B, CPU]],
  ['lowrank --rank 0', ['lowrank', run, '--out', at('lr'), '--rank', '0']],
  ['lowrank --out a non-empty directory', ['lowrank', run, '--out', run, '--rank', '2', B, CPU], /a new or empty directory/],
  ['export without --dense', ['export', run, '--out', at('exported'), B, CPU]],
  ['export a missing directory', ['export', at('missing'), '--dense', '--out', at('exported'), B, CPU]],
  ['upcycle --stream a missing directory', ['upcycle', at('missing'), '--stream', '--out', at('s1'), '--experts', '2', '--top-k', '1']],
  ['grow --stream to fewer layers', ['grow', path.join(run, 'checkpoint'), '--stream', '--out', at('s2'), '--layers', '0']],
  ['upcycle --stream --out /proc/x', ['upcycle', path.join(run, 'checkpoint'), '--stream', '--out', '/proc/x', '--experts', '2', '--top-k', '1'], /under \/proc/],
  // bench
  ['bench --vocab 1', ['bench', '--vocab', '1', '--layers', '1', '--hidden', '8', '--heads', '2', '--ffn', '8', '--seq', '4', '--batch', '1', '--steps', '1', '--warmup', '0', B, CPU], /vocab_size: expected at least 2 tokens to train on, found 1/],
  ['bench --heads not dividing --hidden', ['bench', '--hidden', '8', '--heads', '3', '--layers', '1', '--steps', '1', '--warmup', '0', B, CPU]],
  ['bench --steps 0', ['bench', '--steps', '0']],
  ['bench --batch 100000', ['bench', '--batch', '100000', '--seq', '128', B, CPU], /^error: memory: /],
  // scaling laws
  ['fit a missing file', ['fit', at('missing.csv')]],
  ['fit a file that is not a dataset', ['fit', file]],
  ['fit data without params', ['fit', at('no-params.csv')]],
  ['fit --law bogus', ['fit', CHINCHILLA, '--law', 'bogus']],
  ['fit --out an existing file', ['fit', CHINCHILLA, '--out', file], /pass --force/],
  ['fit --out /proc/x', ['fit', CHINCHILLA, '--out', '/proc/x'], /under \/proc/],
  ['fit --plot below a file', ['fit', CHINCHILLA, '--plot', path.join(file, 'fit.svg')], /a file$/],
  ['fit --plot under /sys', ['fit', CHINCHILLA, '--plot', '/sys/fit.svg'], /found a path under \/sys$/],
  ['evaluate --plot under /proc', ['evaluate', CHINCHILLA, '--plot', '/proc/plots'], /found a path under \/proc$/],
  ['fit --fix alpha=x', ['fit', CHINCHILLA, '--fix', 'alpha=x']],
  ['predict --law missing', ['predict', '--law', at('missing.json'), '--params', '1e9', '--tokens', '1e10']],
  ['predict --law not a law', ['predict', '--law', file, '--params', '1e9', '--tokens', '1e10']],
  ['predict --params -1', ['predict', '--law', law, '--params', '-1', '--tokens', '1e10']],
  ['predict without --law', ['predict', '--params', '1e9', '--tokens', '1e10']],
  ['plan --law missing', ['plan', '--law', at('missing.json'), '--flops', '1e21']],
  ['plan --flops 0', ['plan', '--law', law, '--flops', '0']],
  ['evaluate a missing file', ['evaluate', at('missing.csv')]],
  ['evaluate a file that is not a dataset', ['evaluate', file]],
  // pipeline, report, expert-load
  ['pipeline a missing plan', ['pipeline', at('missing.plan.json')]],
  ['pipeline a plan that is not JSON', ['pipeline', file]],
  ['pipeline an unknown stage type', ['pipeline', plan('bad-stage')]],
  ['pipeline out under /proc', ['pipeline', plan('proc-out'), B, CPU], /under \/proc/],
  ['pipeline out below a file', ['pipeline', plan('file-out'), B, CPU], /a file$/],
  ['report a missing directory', ['report', at('missing')]],
  ['report an empty directory', ['report', emptyDir]],
  ['report --out a file', ['report', run, '--out', file], /expected a directory, found a file/],
  ['report --out /proc/x', ['report', run, '--out', '/proc/x'], /under \/proc/],
  ['expert-load a dense run', ['expert-load', run, '--out', at('el')], /an MoE run/],
  ['expert-load --out a file', ['expert-load', moeRun, '--out', file], /expected a directory, found a file/],
];

/** The rows that also run as a real process in every test run: one per command, each reaching the command's own checks. */
const SPAWNED = new Set([
  'an unknown command',
  'train --out /sys/x',
  'train --resume a file',
  'eval an overflowing checkpoint',
  'generate an empty prompt',
  'forward --out a checkpoint weight',
  'import --out /proc/x',
  'grow --out a non-empty directory',
  'upcycle --layers past the model',
  'lowrank without a rank',
  'export without --dense',
  'bench --vocab 1',
  'fit --plot below a file',
  'predict --law not a law',
  'plan --flops 0',
  'evaluate a file that is not a dataset',
  'pipeline out under /proc',
  'report --out a file',
  'expert-load a dense run',
]);
const spawnAll = process.env.EFFICIENTSCALE_BAD_INPUT_SPAWN === 'all';

/** Lines that are not the error: which backend runs, what starts, progress, the usage hint. */
const INFO = /^(backend: |training |step \d+\/|\(run with --help for usage\)|\(Did you mean .*\?\)$|schedule (extended|shortened): )/;
const STACK = /^\s+at \S|^\w*Error\b|node:internal|\.ts:\d+:\d+/;

const tally = { tried: 0, clear: 0, spawned: 0, failures: [] as string[] };

/** The built CLI as a process; a hang (60 s) or a signal is a failure of its own. */
async function spawnOnce(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await spawnCli(argv, { timeoutMs: 60_000 });
  if (r.timedOut) throw new Error(`still running after 60 s`);
  if (r.code === null) throw new Error(`killed by ${r.signal}`);
  return { code: r.code, stdout: r.stdout, stderr: r.stderr };
}

/** The one clear line, or why there is none. */
function oneClearLine(r: { code: number; stdout: string; stderr: string }, json: boolean): string {
  if (r.code !== 1 && r.code !== 2) throw new Error(`exit ${r.code}`);
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '' && !INFO.test(l));
  const stack = lines.find((l) => STACK.test(l));
  if (stack) throw new Error(`a stack trace: ${stack}`);
  if (lines.length !== 1) throw new Error(`${lines.length} lines: ${JSON.stringify(lines)}`);
  if (!json) {
    if (!lines[0].startsWith('error: ')) throw new Error(`not an error line: ${lines[0]}`);
    return lines[0];
  }
  if (r.stdout !== '') throw new Error(`stdout under --json: ${r.stdout}`);
  const parsed = JSON.parse(lines[0]) as { error?: unknown; stack?: unknown };
  if (typeof parsed.error !== 'string' || parsed.stack !== undefined) throw new Error(`not one JSON error without a stack: ${lines[0]}`);
  return `error: ${parsed.error}`;
}

afterAll(() => {
  console.log(`bad input: ${tally.tried} command lines tried (${rows.length} as typed and with --json in process, ${tally.spawned} of them again as a real process), ${tally.clear} got one clear line and a non-zero exit${tally.failures.length ? `; no clear line: ${tally.failures.join('; ')}` : ''}`);
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('every command has bad-input rows', () => {
  it('each registered command has rows here, and one of them runs as a real process', async () => {
    const commands = (await buildProgram()).commands.map((c) => c.name());
    expect(commands.length).toBeGreaterThan(10);
    const spawnedCommands = rows.filter(([what]) => SPAWNED.has(what)).map(([, args]) => args[0]);
    for (const name of commands) {
      expect(rows.filter(([, args]) => args[0] === name).length, `rows for ${name}`).toBeGreaterThan(1);
      expect(spawnedCommands, `a spawned row for ${name}`).toContain(name);
    }
    expect(rows.filter(([what]) => SPAWNED.has(what)).length, 'every SPAWNED name is a row').toBe(SPAWNED.size);
  });
});

type Case = readonly [what: string, args: string[], message: RegExp | undefined, json: boolean, spawned: boolean];
const cases: Case[] = rows.flatMap(([what, args, message]) => {
  const forms: Case[] = [[what, args, message, false, false], [`${what} --json`, args, message, true, false]];
  if (spawnAll) forms.push([`${what} (process)`, args, message, false, true], [`${what} --json (process)`, args, message, true, true]);
  else if (SPAWNED.has(what)) forms.push([`${what} (process)`, args, message, false, true]);
  return forms;
});

describe('bad input gets one clear line and a non-zero exit, never a stack trace', () => {
  it.each(cases)('%s', async (what, args, message, json, spawned) => {
    tally.tried++;
    if (spawned) tally.spawned++;
    let line: string;
    try {
      // In process, a throw out of runCli is an exception the CLI would print with its stack. As a
      // process, whatever start-up, the backends or the exit path print is on stderr too.
      const argv = [...args, ...(json ? ['--json'] : [])];
      const r = spawned ? await spawnOnce(argv) : await cli(...argv);
      line = oneClearLine(r, json);
      if (message && !message.test(line)) throw new Error(`"${line}" does not match ${message}`);
      // A renamed or removed command would otherwise pass every row that names it.
      if (!message && /unknown (command|option)/.test(line)) throw new Error(`"${line}": the row tests nothing`);
    } catch (err) {
      tally.failures.push(`${what}: ${(err as Error).message.split('\n')[0]}`);
      throw err;
    }
    tally.clear++;
    if (process.env.EFFICIENTSCALE_SHOW_LINES) console.log(`${what}: ${line}`); // to read every message
    expect(line).toMatch(/^error: \S/);
  });
});
