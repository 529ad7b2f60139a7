import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN } from './spawn-cli.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'es-fit-stdin-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// Points on a known Chinchilla law: 5 model sizes × 3 tokens-per-parameter ratios.
const points = [2e7, 6e7, 2e8, 6e8, 2e9].flatMap((N) => [5, 20, 80].map((r) => ({ params: N, tokens: N * r, loss: 1.7 + 400 / N ** 0.34 + 410 / (N * r) ** 0.28 })));
const csv = `params,tokens,loss\n${points.map((p) => `${p.params},${p.tokens},${p.loss}`).join('\n')}\n`;
const jsonl = `${points.map((p) => JSON.stringify(p)).join('\n')}\n`;

/** `efficientscale ...args` with `input` on standard input. */
function cli(args: string[], input: string) {
  if (!fs.existsSync(BIN)) throw new Error(`${BIN} is missing: run pnpm build first`);
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', cwd: dir, timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("efficientscale fit - (standard input)", () => {
  const fromFile = (() => {
    fs.writeFileSync(path.join(dir, 'points.csv'), csv);
    const r = cli(['fit', 'points.csv', '--json'], '');
    return JSON.parse(r.out).params as Record<string, number>;
  })();

  it('reads CSV from standard input and fits what the same file gives', () => {
    const r = cli(['fit', '-', '--json'], csv);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).params).toEqual(fromFile);
  });

  it('reads JSONL with --format jsonl, and guesses it from a leading {', () => {
    for (const args of [['fit', '-', '--format', 'jsonl', '--json'], ['fit', '-', '--json']]) {
      const r = cli(args, jsonl);
      expect(r.code, r.err).toBe(0);
      expect(JSON.parse(r.out).params).toEqual(fromFile);
    }
  });

  it('refuses in one line: JSONL read as --format csv, an unknown --format, - twice', () => {
    const asCsv = cli(['fit', '-', '--format', 'csv'], jsonl);
    expect(asCsv.code).toBe(1);
    expect(asCsv.err).toMatch(/^error: standard input/);
    expect(asCsv.err.trim().split('\n')).toHaveLength(1);
    const unknown = cli(['fit', '-', '--format', 'tsv'], csv);
    expect(unknown.code).not.toBe(0);
    expect(unknown.err).toMatch(/--format.*tsv.*csv, jsonl/);
    const twice = cli(['fit', '-', '-'], csv);
    expect(twice.code).toBe(1);
    expect(twice.err.trim()).toBe("error: data files: expected standard input ('-') at most once, found '-' 2 times");
  });
});
