/**
 * A safetensors file read tensor by tensor: the header is parsed (and checked as strictly as a whole-file
 * read) without touching the data, and each tensor is read into its own buffer on demand, so loading a
 * model never holds the whole file in memory besides the tensors kept.
 */
import * as fs from 'node:fs';
import { UserError, mismatch } from '../errors.js';
import { statRegularFile } from '../io/read-file.js';
import { decodeSafetensorsHeader, safetensorsHeaderLength, tensorFromBytes, type Entry, type RawTensor, type SafetensorsHeader } from '../io/safetensors.js';

function openForReading(file: string): number {
  try {
    statRegularFile(file, 'a safetensors file'); // a directory, a FIFO (open would block), a device: refused by name
    return fs.openSync(file, 'r');
  } catch (err) {
    if (err instanceof UserError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw mismatch(file, 'a safetensors file', 'no such file');
    throw new UserError(`${file}: expected a safetensors file, found an unreadable file (${code ?? String(err)})`);
  }
}

function readExactly(fd: number, into: Uint8Array, position: number): void {
  let done = 0;
  // One read returns at most ~2 GiB; loop until the buffer is full.
  while (done < into.length) {
    const n = fs.readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) throw new Error(`unexpected end of file at byte ${position + done}`);
    done += n;
  }
}

export class SafetensorsFile {
  readonly header: SafetensorsHeader;
  private readonly byName: Map<string, Entry>;
  private fd: number | undefined;

  private constructor(
    readonly file: string,
    fd: number,
  ) {
    this.fd = fd;
    try {
      const size = fs.fstatSync(fd).size;
      const first8 = new Uint8Array(Math.min(8, size));
      readExactly(fd, first8, 0);
      const head = new Uint8Array(8 + safetensorsHeaderLength(first8, size, file));
      readExactly(fd, head, 0);
      this.header = decodeSafetensorsHeader(head, size, file);
    } catch (err) {
      this.close();
      throw err;
    }
    this.byName = new Map(this.header.entries.map((e) => [e.name, e]));
  }

  static open(file: string): SafetensorsFile {
    return new SafetensorsFile(file, openForReading(file));
  }

  get names(): string[] {
    return this.header.entries.map((e) => e.name);
  }

  entry(name: string): Entry | undefined {
    return this.byName.get(name);
  }

  /** Reads one tensor (F16/BF16/F64 converted to F32, integer types to I32). */
  read(name: string): RawTensor {
    const e = this.byName.get(name);
    if (!e) throw mismatch(this.file, `a tensor named ${JSON.stringify(name)}`, 'no such tensor');
    if (this.fd === undefined) throw new Error(`${this.file} is closed`);
    const bytes = new Uint8Array(e.end - e.begin); // its own ArrayBuffer: F32 data is used in place, aligned
    readExactly(this.fd, bytes, this.header.dataStart + e.begin);
    return tensorFromBytes(bytes, 0, e, `${this.file}: tensor ${JSON.stringify(name)}`);
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
