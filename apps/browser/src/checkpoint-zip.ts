/** A checkpoint's files as one zip holding a directory (what `efficientscale eval DIR` reads once unzipped). */
import { strToU8, zipSync, type Zippable } from 'fflate';

export function zipCheckpoint(dirName: string, files: Record<string, Uint8Array | string>): Uint8Array {
  const entries: Zippable = {};
  for (const [name, content] of Object.entries(files)) entries[`${dirName}/${name}`] = typeof content === 'string' ? strToU8(content) : content;
  // safetensors is dense float data: deflate gains little and costs time; store it.
  return zipSync(entries, { level: 0 });
}
