/**
 * The project's one seeded PRNG, for data order, sampling and every random weight a transform draws.
 * Its whole state is four uint32s, so a training run can store it in trainer_state.json and resume the
 * exact same data order. xoshiro128** (Blackman & Vigna), seeded through splitmix32; only 32-bit
 * integer ops (Math.imul, >>>), so every platform and JS engine produces the same sequence.
 */
import { mismatch } from '../errors.js';

export type RngState = number[];

export interface Rng {
  /** A uniform integer in [0, 2^32). */
  nextU32(): number;
  /** A uniform float in [0, 1) with 32 bits of randomness. */
  nextFloat(): number;
  /** A uniform integer in [0, n), without modulo bias; n must be in [1, 2^32]. */
  nextInt(n: number): number;
  /** A standard normal draw (Box–Muller from two nextFloat draws; no cached second value, so state() is the whole state). */
  normal(): number;
  /** A copy of the current state, for restoreRng. */
  state(): RngState;
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

class Xoshiro128 implements Rng {
  constructor(private readonly s: Uint32Array) {}

  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  nextFloat(): number {
    return this.nextU32() / 2 ** 32;
  }

  nextInt(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 2 ** 32) throw new RangeError(`nextInt: n must be an integer in [1, 2^32], got ${n}`);
    // Reject the top partial block of 2^32 so every residue is equally likely.
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return x % n;
    }
  }

  normal(): number {
    const radius = Math.sqrt(-2 * Math.log(1 - this.nextFloat())); // 1 − u ∈ (0, 1]: finite
    return radius * Math.cos(2 * Math.PI * this.nextFloat());
  }

  state(): RngState {
    return Array.from(this.s);
  }
}

function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return (z ^ (z >>> 15)) >>> 0;
  };
}

/** FNV-1a of a string's UTF-16 code units: names a stream of draws. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * A generator seeded from any safe integer (both 32-bit halves count). `stream` names an independent
 * sequence for the same seed (a transform draws each output tensor's numbers from the stream of its
 * name, so an output is the same whichever order the outputs are computed in); '' is the plain seed.
 */
export function createRng(seed: number, stream = ''): Rng {
  if (!Number.isSafeInteger(seed)) throw mismatch('seed', 'a safe integer', String(seed));
  const high = Math.floor(seed / 2 ** 32) >>> 0;
  const named = stream === '' ? 0 : Math.imul(fnv1a(stream), 0x27d4eb2f);
  const next = splitmix32((seed >>> 0) ^ Math.imul(high, 0x85ebca6b) ^ named);
  const s = new Uint32Array([next(), next(), next(), next()]);
  if (s.every((x) => x === 0)) s[0] = 1; // the all-zero state is a fixed point
  return new Xoshiro128(s);
}

/** Restores a generator from `rng.state()` (e.g. read back from JSON). */
export function restoreRng(state: unknown): Rng {
  if (!Array.isArray(state) || state.length !== 4 || !state.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32)) {
    throw mismatch('RNG state', 'four unsigned 32-bit integers', JSON.stringify(state));
  }
  if (state.every((x) => x === 0)) throw mismatch('RNG state', 'at least one non-zero word', '[0,0,0,0]');
  return new Xoshiro128(Uint32Array.from(state));
}
