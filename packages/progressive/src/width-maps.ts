import { mismatch, type Rng } from '@efficientscale/core';
import type { Axis } from './remap.js';

/** A grown dimension: the old unit each new unit copies (-1: new, zero) and which copy it is (0: the original). */
export interface UnitMap {
  src: number[];
  copy: number[];
}

/** Hidden size h → h2: every unit copied c = ⌊h2/h⌋ times (all the same count, so RMSNorm sees the same mean square up to a known factor), the rest zero. */
export function hiddenMap(h: number, h2: number): UnitMap & { copies: number; padded: number; alpha: number } {
  const copies = Math.floor(h2 / h);
  const src = Array.from({ length: h2 }, (_, j) => (j < copies * h ? j % h : -1));
  const copy = Array.from({ length: h2 }, (_, j) => (j < copies * h ? Math.floor(j / h) : 0));
  return { src, copy, copies, padded: h2 - copies * h, alpha: (copies * h) / h2 };
}

/** FFN units f → f2: the first f keep their place, the new ones copy units round-robin (Net2Net, spread evenly). */
export function ffnMap(f: number, f2: number): UnitMap {
  const src = Array.from({ length: f2 }, (_, j) => (j < f ? j : (j - f) % f));
  const copy = Array.from({ length: f2 }, (_, j) => (j < f ? 0 : 1 + Math.floor((j - f) / f)));
  return { src, copy };
}

/**
 * Query heads H → H2 and KV heads G → G2 with GQA kept valid: new KV head g2 copies old KV head g2 mod G;
 * the query slots of the KV copies of g take g's query heads round-robin, so every new query head reads
 * the keys and values its source head read. Every old query head must get a slot.
 */
export function headMaps(heads: number, kv: number, heads2: number, kv2: number): { q: UnitMap; kv: UnitMap } {
  const rep = heads / kv;
  const rep2 = heads2 / kv2;
  const fewest = Math.floor(kv2 / kv);
  if (fewest * rep2 < rep) {
    throw mismatch(
      'heads growth',
      `at least ${rep} query heads per copy of each old KV head (old heads ${heads}, KV heads ${kv})`,
      `${fewest * rep2} (heads ${heads2}, KV heads ${kv2})`,
    );
  }
  const q: UnitMap = { src: [], copy: [] };
  for (let h2 = 0; h2 < heads2; h2++) {
    const g2 = Math.floor(h2 / rep2);
    const t = Math.floor(g2 / kv) * rep2 + (h2 % rep2);
    q.src.push((g2 % kv) * rep + (t % rep));
    q.copy.push(Math.floor(t / rep));
  }
  const kvMap: UnitMap = { src: [], copy: [] };
  for (let g2 = 0; g2 < kv2; g2++) {
    kvMap.src.push(g2 % kv);
    kvMap.copy.push(Math.floor(g2 / kv));
  }
  return { q, kv: kvMap };
}

/** A per-head map expanded to the headDim rows (or columns) of each head. */
export function perHead(map: UnitMap, headDim: number): UnitMap {
  const src: number[] = [];
  const copy: number[] = [];
  map.src.forEach((s, h) => {
    for (let e = 0; e < headDim; e++) {
      src.push(s < 0 ? -1 : s * headDim + e);
      copy.push(map.copy[h]);
    }
  });
  return { src, copy };
}

/** Rows copied as they are; `keep` chooses which copies this term supplies (the others are left to another term). */
export function copyAxis(map: UnitMap, keep: (copy: number) => boolean = () => true, scale = 1): Axis {
  return map.src.map((src, j) => (src >= 0 && keep(map.copy[j]) ? { src, scale } : { src: -1, scale: 0 }));
}

/**
 * Outgoing weights of copied units, split so the copies of a unit sum to the original: evenly (fpi, aki)
 * or unevenly with random shares that still sum to one (lossless: exact, and the copies differ).
 */
export function splitAxis(map: UnitMap, uneven: Rng | undefined, keep: (copy: number) => boolean = () => true, extra = 1): Axis {
  const count = new Map<number, number>();
  for (const s of map.src) if (s >= 0) count.set(s, (count.get(s) ?? 0) + 1);
  const weight = map.src.map((s) => (s >= 0 && uneven && count.get(s)! > 1 ? 0.5 + uneven.nextFloat() : 1));
  const total = new Map<number, number>();
  map.src.forEach((s, j) => total.set(s, (total.get(s) ?? 0) + weight[j]));
  return map.src.map((src, j) => (src >= 0 && keep(map.copy[j]) ? { src, scale: (extra * weight[j]) / total.get(src)! } : { src: -1, scale: 0 }));
}
