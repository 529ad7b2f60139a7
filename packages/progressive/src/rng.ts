/** A small seeded generator (mulberry32 + Box-Muller): growth must be reproducible from its seed. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = (seed | 0) ^ 0x9e3779b9;
  }
  /** Uniform in [0, 1). */
  uniform(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  normal(std = 1): number {
    const u = Math.max(this.uniform(), 1e-12);
    return std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }
}
