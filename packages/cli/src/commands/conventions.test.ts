import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { llamaConfig, readSafetensors, tf, writeSafetensors } from '@efficientscale/core/node';
import { wantsJson } from '../program.js';
import { cli } from './test-util.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const cliPackage = JSON.parse(fs.readFileSync(path.resolve(here, '../../package.json'), 'utf8')) as { version: string };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-conventions-'));
const run = path.join(tmp, 'run');
const VOCAB = 256;

/** The one JSON error object a failed command writes to stderr under --json. */
function jsonError(r: { stdout: string; stderr: string }): string {
  expect(r.stdout).toBe('');
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  const parsed = JSON.parse(lines[0]) as { error: unknown };
  expect(typeof parsed.error).toBe('string');
  return parsed.error as string;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  const corpus = path.join(tmp, 'corpus.txt');
  const config = path.join(tmp, 'config.json');
  fs.writeFileSync(corpus, 'It was the best of times, it was the worst of times.\n'.repeat(40));
  fs.writeFileSync(config, JSON.stringify(llamaConfig({ vocab: VOCAB, hidden: 16, ffn: 32, layers: 1, heads: 2, maxPositions: 32 })));
  const r = await cli('train', '--config', config, '--corpus', corpus, '--batch', '2', '--seq', '8', '--steps', '1', '--out', run, '--backend', 'cpu', '--json');
  expect(r.code, r.stderr).toBe(0);
});

describe('--version and help', () => {
  it('--version and -V print the cli package.json version', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await cli(flag);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(cliPackage.version);
    }
  });

  it('--help documents the exit codes and the JSON error form', async () => {
    const r = await cli('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2 usage error');
    expect(r.stdout).toContain('{"error": "..."} on stderr');
  });
});

describe('exit codes: 2 for usage errors, 1 for runtime errors', () => {
  it.each([
    ['an unknown option', ['train', '--bogus']],
    ['a bad number', ['train', '--steps', 'many']],
    ['an unknown command', ['trian']],
    ['a missing required option', ['generate', run]],
    ['no command', []],
  ])('%s exits 2', async (_what, args) => {
    const r = await cli(...args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
  });

  it('a missing file exits 1 with one plain line', async () => {
    const r = await cli('predict', '--law', path.join(tmp, 'nope.json'), '--params', '1', '--tokens', '1');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: --law .*nope\.json: expected a readable law file, found no such file\n$/);
  });
});

describe('errors under --json are one JSON object on stderr', () => {
  it('usage errors: exit 2, commander\'s message without help text', async () => {
    const bad = await cli('generate', run, '--prompt', 'It', '--tokens', 'zero', '--json');
    expect(bad.code).toBe(2);
    expect(jsonError(bad)).toMatch(/--tokens <n>.*Expected a positive integer, found "zero"/);
    const unknown = await cli('fit', 'x.csv', '--json', '--bogus');
    expect(unknown.code).toBe(2);
    expect(jsonError(unknown)).toMatch(/^unknown option '--bogus'/);
    const root = await cli('--json');
    expect(root.code).toBe(2);
    expect(jsonError(root)).toMatch(/^unknown option '--json'/);
  });

  it('runtime errors: exit 1, the UserError message', async () => {
    const r = await cli('predict', '--law', path.join(tmp, 'nope.json'), '--params', '1', '--tokens', '1', '--json');
    expect(r.code).toBe(1);
    expect(jsonError(r)).toMatch(/^--law .*nope\.json: expected a readable law file, found no such file$/);
  });

  it('a --json after "--" is an argument, not the flag', () => {
    expect(wantsJson(['fit', '--json'])).toBe(true);
    expect(wantsJson(['fit', '--', '--json'])).toBe(false);
    expect(wantsJson(['fit', 'a.csv'])).toBe(false);
  });
});

describe('generate and forward --json', () => {
  it('generate --json gives prompt, completion and its ids, matching the plain output', async () => {
    const args = ['generate', run, '--prompt', 'It was', '--tokens', '4', '--seed', '3', '--backend', 'cpu'];
    const j = await cli(...args, '--json');
    expect(j.code, j.stderr).toBe(0);
    const out = JSON.parse(j.stdout) as { prompt: string; completion: string; text: string; completion_ids: number[]; seed: number; topK: number; temperature: number };
    expect(out).toMatchObject({ prompt: 'It was', seed: 3, topK: 40, temperature: 0.8 });
    expect(out.completion_ids).toHaveLength(4);
    for (const id of out.completion_ids) expect(id >= 0 && id < VOCAB).toBe(true);
    expect(out.text).toBe(out.prompt + out.completion);
    const plain = await cli(...args);
    expect(plain.stdout).toBe(`${out.text}\n`);
  });

  it('forward --json names the file written and the logits\' shape', async () => {
    const input = path.join(tmp, 'ids.safetensors');
    const logits = path.join(tmp, 'logits.safetensors');
    writeSafetensors(input, { input_ids: { dtype: 'I32', shape: [2, 3], data: Int32Array.from([1, 2, 3, 4, 5, 6]) } });
    const r = await cli('forward', path.join(run, 'checkpoint'), '--input', input, '--out', logits, '--backend', 'cpu', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ out: logits, logits: { dtype: 'F32', shape: [2, 3, VOCAB] } });
    expect(readSafetensors(logits).tensors.logits.shape).toEqual([2, 3, VOCAB]);
    const quiet = await cli('forward', path.join(run, 'checkpoint'), '--input', input, '--out', logits, '--backend', 'cpu');
    expect(quiet.stdout).toBe('');
  });
});
