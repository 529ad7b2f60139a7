/**
 * Rotary position embedding tables, computed as Hugging Face transformers does (float32): the default
 * frequencies base^(-2j/headDim), optionally rescaled by Llama 3's `rope_type: "llama3"` (long-context
 * interpolation of the low frequencies) or `"linear"` (positions divided by a factor).
 * The scaling is read from transformers 5's `rope_parameters` or transformers 4's `rope_scaling`.
 */
import { tf } from '../tf.js';
import { mismatch } from '../errors.js';
import { isPlainObject } from '../io/read.js';
import type { Dims, ModelConfig } from './config.js';

export type RopeScaling =
  | { type: 'default' }
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number };

const SUPPORTED = '"default", "linear" or "llama3"';

function positiveField(where: string, o: Record<string, unknown>, key: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0)) throw mismatch(`"${where}.${key}"`, 'a positive number', JSON.stringify(v));
  return v;
}

/** The RoPE scaling a config asks for; throws a UserError for kinds we do not implement. */
export function ropeScalingOf(config: ModelConfig): RopeScaling {
  // transformers 5 folds everything into rope_parameters; 4.x kept a separate rope_scaling (`type` before 4.45).
  const params = config.rope_parameters;
  const scaling = config.rope_scaling;
  const where = isPlainObject(params) && params.rope_type !== undefined ? 'rope_parameters' : 'rope_scaling';
  const o = (where === 'rope_parameters' ? params : scaling) as Record<string, unknown> | null | undefined;
  if (!isPlainObject(o)) return { type: 'default' };
  const kind = o.rope_type ?? o.type ?? 'default';
  if (kind === 'default') return { type: 'default' };
  if (kind === 'linear') return { type: 'linear', factor: positiveField(where, o, 'factor') };
  if (kind === 'llama3') {
    const s = {
      type: 'llama3' as const,
      factor: positiveField(where, o, 'factor'),
      lowFreqFactor: positiveField(where, o, 'low_freq_factor'),
      highFreqFactor: positiveField(where, o, 'high_freq_factor'),
      originalMaxPositions: positiveField(where, o, 'original_max_position_embeddings'),
    };
    if (!(s.highFreqFactor > s.lowFreqFactor)) {
      throw mismatch(`"${where}.high_freq_factor"`, `more than low_freq_factor (${s.lowFreqFactor})`, String(s.highFreqFactor));
    }
    return s;
  }
  throw mismatch(`"${where}.rope_type"`, `${SUPPORTED} (other scaled RoPE variants are not supported)`, JSON.stringify(kind));
}

/** inv_freq [headDim/2] after scaling, in float32 as transformers' `_compute_*_parameters` return it. */
export function ropeInverseFrequencies(config: ModelConfig, d: Dims): Float32Array {
  const half = d.headDim / 2;
  const s = ropeScalingOf(config);
  const out = new Float32Array(half);
  for (let j = 0; j < half; j++) {
    const base = Math.fround(1 / Math.pow(d.ropeTheta, (2 * j) / d.headDim));
    out[j] = s.type === 'linear' ? base / s.factor : s.type === 'llama3' ? llama3Frequency(base, s) : base;
  }
  return out;
}

/** transformers' `_compute_llama3_parameters` for one frequency. */
function llama3Frequency(invFreq: number, s: Extract<RopeScaling, { type: 'llama3' }>): number {
  const wavelen = (2 * Math.PI) / invFreq;
  const lowFreqWavelen = s.originalMaxPositions / s.lowFreqFactor;
  const highFreqWavelen = s.originalMaxPositions / s.highFreqFactor;
  if (wavelen < highFreqWavelen) return invFreq; // high frequencies: unchanged
  if (wavelen > lowFreqWavelen) return invFreq / s.factor; // low frequencies: interpolated by the factor
  const smooth = (s.originalMaxPositions / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
  return ((1 - smooth) * invFreq) / s.factor + smooth * invFreq;
}

/** cos and sin of the rotary angles for positions start..start+seq-1, [seq, headDim/2]. */
export function ropeTables(config: ModelConfig, d: Dims, start: number, seq: number): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
  const half = d.headDim / 2;
  const invFreq = ropeInverseFrequencies(config, d);
  const cos = new Float32Array(seq * half);
  const sin = new Float32Array(seq * half);
  for (let j = 0; j < half; j++) {
    for (let t = 0; t < seq; t++) {
      const angle = Math.fround((start + t) * invFreq[j]);
      cos[t * half + j] = Math.cos(angle);
      sin[t * half + j] = Math.sin(angle);
    }
  }
  return { cos: tf.tensor2d(cos, [seq, half]), sin: tf.tensor2d(sin, [seq, half]) };
}
