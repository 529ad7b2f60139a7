import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../errors.js';
import { assertNewOutputDir, assertOutputFile, assertOutputFilesIn, assertWritableLocation, makeDirs } from './output-path.js';
import { writeDirAtomic, writeFileAtomic } from './atomic.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-output-path-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const aFile = path.join(tmp, 'a-file');
fs.writeFileSync(aFile, 'keep me');
const checkpoint = path.join(tmp, 'ckpt');
fs.mkdirSync(checkpoint);
fs.writeFileSync(path.join(checkpoint, 'config.json'), '{}');
fs.writeFileSync(path.join(checkpoint, 'model.safetensors'), 'weights');

/** The one-line UserError a call throws. */
function refusal(f: () => void): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).not.toContain('\n');
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('assertWritableLocation', () => {
  it.each(['/proc/x', '/proc', '/sys/kernel/x', '/proc/self/fd/x/y'])('refuses %s', (p) => {
    expect(refusal(() => assertWritableLocation(p, '--out'))).toMatch(/^--out: expected a path outside \/proc and \/sys, found a path under \/(proc|sys)$/);
  });

  it('refuses a link that leads under /proc', () => {
    const link = path.join(tmp, 'to-proc');
    fs.symlinkSync('/proc/self', link);
    expect(refusal(() => assertWritableLocation(path.join(link, 'x')))).toMatch(/found a path through .*to-proc, which is \/proc\/\d+ under \/proc/);
  });

  it('refuses a path below a file (ENOTDIR), naming the file', () => {
    expect(refusal(() => assertWritableLocation(path.join(aFile, 'sub', 'x'), '--out'))).toBe(`--out: expected a path below directories only, found ${aFile}, a file`);
  });

  it('accepts new paths below directories, and existing files', () => {
    assertWritableLocation(path.join(tmp, 'new', 'deeper', 'file'));
    assertWritableLocation(aFile);
  });

  it('makeDirs and the atomic writers refuse /proc at once instead of spinning', () => {
    const started = performance.now();
    expect(refusal(() => makeDirs('/proc/x/y'))).toMatch(/under \/proc/);
    expect(refusal(() => writeFileAtomic('/proc/x/y/file', 'x'))).toMatch(/under \/proc/);
    expect(refusal(() => writeDirAtomic('/proc/x/dir', { a: 'x' }))).toMatch(/under \/proc/);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('assertOutputFile', () => {
  it('refuses to replace an existing file unless forced', () => {
    expect(refusal(() => assertOutputFile(aFile, { what: '--out' }))).toBe(`--out ${aFile}: expected a new file (pass --force to replace it), found an existing file`);
    assertOutputFile(aFile, { force: true });
    expect(fs.readFileSync(aFile, 'utf8')).toBe('keep me');
  });

  it("never writes into a checkpoint directory, even forced: not over its weights, not beside them", () => {
    for (const name of ['model.safetensors', 'logits.safetensors']) {
      expect(refusal(() => assertOutputFile(path.join(checkpoint, name), { force: true, what: '--out' }))).toMatch(/expected a file outside any checkpoint directory, found a path inside the checkpoint .*ckpt$/);
    }
  });

  it('refuses a directory and a path below a file', () => {
    expect(refusal(() => assertOutputFile(tmp, { force: true }))).toMatch(/expected a file name, found a directory/);
    expect(refusal(() => assertOutputFile(path.join(aFile, 'x')))).toMatch(/a file$/);
  });
});

describe('assertOutputFilesIn and assertNewOutputDir', () => {
  it('a plot directory: not a file, not a checkpoint, its files new unless forced', () => {
    expect(refusal(() => assertOutputFilesIn(aFile, ['x.svg'], { what: '--out' }))).toBe(`--out ${aFile}: expected a directory, found a file`);
    expect(refusal(() => assertOutputFilesIn(checkpoint, ['x.svg']))).toMatch(/expected a directory that is not a checkpoint/);
    expect(refusal(() => assertOutputFilesIn(tmp, ['a-file']))).toMatch(/a-file: expected a new file \(pass --force to replace it\)/);
    assertOutputFilesIn(tmp, ['a-file'], { force: true });
    assertOutputFilesIn(path.join(tmp, 'not-yet'), ['x.svg']);
  });

  it('a directory to fill: absent or empty', () => {
    assertNewOutputDir(path.join(tmp, 'absent'));
    expect(refusal(() => assertNewOutputDir(checkpoint))).toBe(`--out ${checkpoint}: expected a new or empty directory, found 2 entries (config.json, model.safetensors)`);
    expect(refusal(() => assertNewOutputDir(aFile, { kind: 'run directory' }))).toBe(`--out ${aFile}: expected a new or empty run directory, found a file`);
    expect(refusal(() => assertNewOutputDir('/proc/x'))).toMatch(/under \/proc/);
  });
});
