/** Whole safetensors files on disk (Node only); the format itself is in safetensors.ts. */
import { writeFileAtomic } from './atomic.js';
import { readBytes } from './read-file.js';
import { decodeSafetensors, encodeSafetensors, type DecodedSafetensors, type RawTensor } from './safetensors.js';

export function readSafetensors(file: string): DecodedSafetensors {
  return decodeSafetensors(readBytes(file, 'a safetensors file'), file);
}

/** Writes a safetensors file atomically (a crash leaves the previous file intact). */
export function writeSafetensors(file: string, tensors: Record<string, RawTensor>, metadata?: Record<string, string>): void {
  writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}
