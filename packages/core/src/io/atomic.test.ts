import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../errors.js';
import { recoverInterruptedDirSwap, writeDirAtomic, writeFileAtomic } from './atomic.js';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'atomic-'));
});
afterEach(() => {
  fs.chmodSync(root, 0o755);
  fs.rmSync(root, { recursive: true, force: true });
});

/** Every file under `dir` with its bytes, for byte-identical comparisons. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(fs.readdirSync(dir).sort().map((name) => [name, fs.readFileSync(path.join(dir, name)).toString('base64')]));
}

describe('writeFileAtomic', () => {
  it('creates and replaces a file, leaving no temp files', () => {
    const file = path.join(root, 'a.json');
    writeFileAtomic(file, 'one');
    writeFileAtomic(file, new Uint8Array([1, 2, 3]));
    expect([...fs.readFileSync(file)]).toEqual([1, 2, 3]);
    expect(fs.readdirSync(root)).toEqual(['a.json']);
  });

  it('keeps the previous file when the new content cannot be written', () => {
    const file = path.join(root, 'a.json');
    writeFileAtomic(file, 'old');
    expect(() => writeFileAtomic(file, 42 as unknown as string)).toThrow(UserError);
    expect(fs.readFileSync(file, 'utf8')).toBe('old');
    expect(fs.readdirSync(root)).toEqual(['a.json']);
  });
});

describe('writeDirAtomic', () => {
  it('creates a directory (and missing parents) with exactly the given files', () => {
    const dir = path.join(root, 'nested', 'ckpt');
    writeDirAtomic(dir, { 'a.txt': 'hello', 'b.bin': new Uint8Array([0, 255]) });
    expect(snapshot(dir)).toEqual({ 'a.txt': Buffer.from('hello').toString('base64'), 'b.bin': 'AP8=' });
  });

  it('replaces the whole previous directory and cleans up', () => {
    const dir = path.join(root, 'ckpt');
    writeDirAtomic(dir, { 'a.txt': 'one', 'stale.txt': 'gone soon' });
    writeDirAtomic(dir, { 'a.txt': 'two' });
    expect(fs.readdirSync(dir)).toEqual(['a.txt']);
    expect(fs.readFileSync(path.join(dir, 'a.txt'), 'utf8')).toBe('two');
    expect(fs.readdirSync(root)).toEqual(['ckpt']);
  });

  it('leaves the previous directory byte-identical when a file fails mid-way', () => {
    const dir = path.join(root, 'ckpt');
    writeDirAtomic(dir, { 'config.json': '{"a":1}', 'model.safetensors': new Uint8Array([9, 8, 7]) });
    const before = snapshot(dir);
    const bad = { 'config.json': '{"a":2}', 'model.safetensors': { not: 'bytes' } as unknown as Uint8Array, 'z.txt': 'z' };
    expect(() => writeDirAtomic(dir, bad)).toThrow(/model\.safetensors: file content: expected a string or Uint8Array/);
    expect(snapshot(dir)).toEqual(before);
    expect(fs.readdirSync(root)).toEqual(['ckpt']);
  });

  it('rejects file names that would escape the directory, before touching anything', () => {
    const dir = path.join(root, 'ckpt');
    writeDirAtomic(dir, { 'a.txt': 'keep' });
    expect(() => writeDirAtomic(dir, { '../evil.txt': 'x' })).toThrow(/plain name/);
    expect(snapshot(dir)).toEqual({ 'a.txt': Buffer.from('keep').toString('base64') });
    expect(fs.readdirSync(root)).toEqual(['ckpt']);
  });

  it('fails cleanly when the parent is not a directory', () => {
    const parent = path.join(root, 'file');
    fs.writeFileSync(parent, 'x');
    expect(() => writeDirAtomic(path.join(parent, 'ckpt'), { 'a.txt': 'a' })).toThrow();
    expect(fs.readdirSync(root)).toEqual(['file']);
  });

  // Permission bits do not stop root, so this case only runs as an ordinary user.
  it.skipIf(process.getuid?.() === 0)('leaves the previous directory intact when the parent is unwritable', () => {
    const dir = path.join(root, 'ckpt');
    writeDirAtomic(dir, { 'a.txt': 'keep' });
    fs.chmodSync(root, 0o555);
    expect(() => writeDirAtomic(dir, { 'a.txt': 'new' })).toThrow();
    fs.chmodSync(root, 0o755);
    expect(fs.readFileSync(path.join(dir, 'a.txt'), 'utf8')).toBe('keep');
    expect(fs.readdirSync(root)).toEqual(['ckpt']);
  });
});

describe('recoverInterruptedDirSwap', () => {
  it('renames the previous content back when a kill came between the two renames', () => {
    const dir = path.join(root, 'checkpoint');
    fs.mkdirSync(`${dir}.old-abc`);
    fs.writeFileSync(path.join(`${dir}.old-abc`, 'a.txt'), 'previous');
    fs.mkdirSync(`${dir}.tmp-def`);
    fs.writeFileSync(path.join(`${dir}.tmp-def`, 'a.txt'), 'half');
    expect(recoverInterruptedDirSwap(dir)).toBe(`${dir}.old-abc`);
    expect(fs.readFileSync(path.join(dir, 'a.txt'), 'utf8')).toBe('previous');
    expect(fs.readdirSync(root)).toEqual(['checkpoint']);
  });

  it('keeps a complete directory and drops its superseded copy and half-written temp dirs', () => {
    const dir = path.join(root, 'checkpoint');
    writeDirAtomic(dir, { 'a.txt': 'new' });
    fs.mkdirSync(`${dir}.old-abc`);
    fs.mkdirSync(`${dir}.tmp-def`);
    fs.writeFileSync(path.join(root, 'other.tmp-x'), 'not ours');
    expect(recoverInterruptedDirSwap(dir)).toBeUndefined();
    expect(fs.readFileSync(path.join(dir, 'a.txt'), 'utf8')).toBe('new');
    expect(fs.readdirSync(root).sort()).toEqual(['checkpoint', 'other.tmp-x']);
  });

  it('does not guess between two previous copies', () => {
    const dir = path.join(root, 'checkpoint');
    fs.mkdirSync(`${dir}.old-a`);
    fs.mkdirSync(`${dir}.old-b`);
    expect(recoverInterruptedDirSwap(dir)).toBeUndefined();
    expect(fs.existsSync(dir)).toBe(false);
  });
});
