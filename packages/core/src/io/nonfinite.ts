/** Finds NaN/Inf in checkpoint tensors, so garbage weights are refused with their name instead of giving NaN logits later. */
import { mismatch } from '../errors.js';
import type { RawTensor } from './safetensors.js';

/** Index of the first NaN or ±Inf element, or -1. */
export function firstNonfinite(data: Float32Array | Int32Array): number {
  if (data instanceof Int32Array) return -1;
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
}

/** Throws one UserError naming the first tensor with a non-finite element. */
export function assertFinite(tensors: Record<string, RawTensor>, source: string, hint: string): void {
  for (const [name, t] of Object.entries(tensors)) {
    const i = firstNonfinite(t.data);
    if (i >= 0) throw mismatch(`${source}: tensor ${JSON.stringify(name)} element ${i}`, `a finite number${hint}`, String(t.data[i]));
  }
}
