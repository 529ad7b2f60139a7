import { createRng } from '@efficientscale/core';

/**
 * k-means (k-means++ seeding, Lloyd iterations) on rows [n, dim]; returns k centroids [k, dim].
 * With fewer distinct rows than k, some centroids repeat a row (their experts then share a router row).
 */
export function kmeans(rows: Float32Array, n: number, dim: number, k: number, seed: number, iterations = 20): Float32Array {
  const rng = createRng(seed, 'kmeans');
  const rand = () => rng.nextFloat();
  const dist2 = (i: number, c: Float32Array, j: number) => {
    let s = 0;
    for (let d = 0; d < dim; d++) s += (rows[i * dim + d] - c[j * dim + d]) ** 2;
    return s;
  };
  const centroids = new Float32Array(k * dim);
  centroids.set(rows.subarray(0, dim), 0);
  const best = new Float64Array(n).fill(Infinity);
  for (let j = 1; j < k; j++) {
    let total = 0;
    for (let i = 0; i < n; i++) {
      best[i] = Math.min(best[i], dist2(i, centroids, j - 1));
      total += best[i];
    }
    let pick = Math.floor(rand() * n);
    if (total > 0) {
      let r = rand() * total;
      for (pick = 0; pick < n - 1 && (r -= best[pick]) > 0; pick++);
    }
    centroids.set(rows.subarray(pick * dim, (pick + 1) * dim), j * dim);
  }
  const assign = new Int32Array(n);
  for (let it = 0; it < iterations; it++) {
    for (let i = 0; i < n; i++) {
      let bestJ = 0;
      let bestD = Infinity;
      for (let j = 0; j < k; j++) {
        const d = dist2(i, centroids, j);
        if (d < bestD) [bestD, bestJ] = [d, j];
      }
      assign[i] = bestJ;
    }
    const sums = new Float64Array(k * dim);
    const counts = new Int32Array(k);
    for (let i = 0; i < n; i++) {
      counts[assign[i]]++;
      for (let d = 0; d < dim; d++) sums[assign[i] * dim + d] += rows[i * dim + d];
    }
    // An empty cluster keeps its centroid.
    for (let j = 0; j < k; j++) if (counts[j] > 0) for (let d = 0; d < dim; d++) centroids[j * dim + d] = sums[j * dim + d] / counts[j];
  }
  return centroids;
}
