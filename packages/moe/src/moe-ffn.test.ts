import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { flopsPerToken, forwardWithAux, initParams, llamaConfig, paramShapes, tf, type ModelConfig } from '@efficientscale/core';
import { dispatch, expertForward, groupByExpert, type ExpertWeights } from './dispatch.js';
import { loadBalancingLoss, routingWeights, topKIndices } from './routing.js';
import './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function mixtral(experts: number, k: number, extra: Partial<ModelConfig> = {}): ModelConfig {
  const base = llamaConfig({ vocab: 32, hidden: 8, ffn: 12, layers: 2, heads: 2 });
  return { ...base, architectures: ['MixtralForCausalLM'], model_type: 'mixtral', num_local_experts: experts, num_experts_per_tok: k, router_aux_loss_coef: 0.01, ...extra };
}

const randomExperts = (n: number, hidden: number, ffn: number, seed: number): ExpertWeights[] =>
  Array.from({ length: n }, (_, e) => ({
    w1: tf.randomNormal([ffn, hidden], 0, 0.5, 'float32', seed + 3 * e) as tf.Tensor2D,
    w2: tf.randomNormal([hidden, ffn], 0, 0.5, 'float32', seed + 3 * e + 1) as tf.Tensor2D,
    w3: tf.randomNormal([ffn, hidden], 0, 0.5, 'float32', seed + 3 * e + 2) as tf.Tensor2D,
  }));

describe('routing', () => {
  it('top-k picks the k largest logits of each token, and the weights sum to 1 (topk-softmax)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 1e6 }), (experts, tokens, kRaw, seed) => {
        const k = Math.min(kRaw, experts);
        const logits = tf.randomNormal([tokens, experts], 0, 2, 'float32', seed) as tf.Tensor2D;
        const data = logits.dataSync();
        const sel = topKIndices(data as Float32Array, tokens, experts, k);
        for (let t = 0; t < tokens; t++) {
          const row = Array.from(data.slice(t * experts, (t + 1) * experts));
          const picked = Array.from(sel.slice(t * k, (t + 1) * k));
          expect(new Set(picked).size).toBe(k);
          const minPicked = Math.min(...picked.map((e) => row[e]));
          for (let e = 0; e < experts; e++) if (!picked.includes(e)) expect(row[e]).toBeLessThanOrEqual(minPicked);
        }
        const w = routingWeights(logits, sel, k, 'topk-softmax');
        const sums = tf.sum(w, 1).dataSync();
        for (const s of sums) expect(s).toBeCloseTo(1, 5);
        // softmax-topk keeps the full softmax's probabilities of the picked experts: sums at most 1.
        const w2 = routingWeights(logits, sel, k, 'softmax-topk');
        const probs = tf.softmax(logits).dataSync();
        const w2d = w2.dataSync();
        for (let i = 0; i < sel.length; i++) expect(w2d[i]).toBeCloseTo(probs[Math.floor(i / k) * experts + sel[i]], 6);
        tf.dispose([logits, w, w2]);
      }),
      { numRuns: 15 },
    );
  });

  it('load-balancing loss equals E · Σ f_i · P_i on a hand-made routing', () => {
    // 2 tokens, 2 experts, k = 1; token 0 → expert 0, token 1 → expert 0. f = [1, 0].
    const logits = tf.tensor2d([[0, 0], [Math.log(3), 0]]); // probs [.5,.5], [.75,.25] → P = [.625, .375]
    const loss = loadBalancingLoss(logits, Int32Array.from([0, 0]));
    expect(loss.dataSync()[0]).toBeCloseTo(2 * (1 * 0.625 + 0 * 0.375), 6);
    // balanced routing with uniform probs gives the minimum, k (here 1).
    const flat = loadBalancingLoss(tf.zeros([2, 2]) as tf.Tensor2D, Int32Array.from([0, 1]));
    expect(flat.dataSync()[0]).toBeCloseTo(1, 6);
    // 2 tokens, 3 experts, k = 2: token 0 → {0, 1}, token 1 → {0, 2}; f = [2, 1, 1] / 2 (sums to k).
    const three = tf.tensor2d([[Math.log(2), Math.log(2), 0], [0, 0, 0]]); // probs [.4,.4,.2], [1/3,1/3,1/3]
    const p = [(0.4 + 1 / 3) / 2, (0.4 + 1 / 3) / 2, (0.2 + 1 / 3) / 2];
    const k2 = loadBalancingLoss(three, Int32Array.from([0, 1, 0, 2]));
    expect(k2.dataSync()[0]).toBeCloseTo(3 * (1 * p[0] + 0.5 * p[1] + 0.5 * p[2]), 6);
    tf.dispose([logits, loss, flat, three, k2]);
  });
});

describe('grouped dispatch', () => {
  it('equals a naive reference that runs every expert on every token and masks', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 1e6 }), (n, tokens, kRaw, seed) => {
        const k = Math.min(kRaw, n);
        const ex = randomExperts(n, 6, 5, seed);
        const x = tf.randomNormal([tokens, 6], 0, 1, 'float32', seed + 99) as tf.Tensor2D;
        const logits = tf.randomNormal([tokens, n], 0, 1, 'float32', seed + 7) as tf.Tensor2D;
        const sel = topKIndices(logits.dataSync() as Float32Array, tokens, n, k);
        const w = routingWeights(logits, sel, k, 'topk-softmax');
        const got = dispatch(x, sel, w, ex);
        const wd = w.dataSync();
        const mask = new Float32Array(tokens * n);
        for (let i = 0; i < sel.length; i++) mask[Math.floor(i / k) * n + sel[i]] += wd[i];
        const maskT = tf.tensor2d(mask, [tokens, n]);
        let want = tf.zeros([tokens, 6]);
        ex.forEach((e, i) => (want = tf.add(want, tf.mul(expertForward(x, e), tf.slice(maskT, [0, i], [tokens, 1])))));
        const a = got.dataSync();
        const b = want.dataSync();
        for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-5);
        tf.dispose([x, logits, w, got, maskT, want, ...ex.flatMap((e) => [e.w1, e.w2, e.w3])]);
      }),
      { numRuns: 15 },
    );
  });
});

/** Kept assignments under a capacity, the slow obvious way: per expert, sort its assignments by (slot, token). */
function keptByCapacity(sel: Int32Array, n: number, k: number, capacity: number): boolean[] {
  const kept = new Array<boolean>(sel.length).fill(false);
  for (let e = 0; e < n; e++) {
    const mine = [...sel.keys()].filter((i) => sel[i] === e).sort((a, b) => a % k - (b % k) || a - b);
    for (const i of mine.slice(0, capacity)) kept[i] = true;
  }
  return kept;
}

describe('capacity', () => {
  it('keeps first choices before second choices, token order within a slot, and drops the rest', () => {
    // tokens → experts: t0 → (0, 1), t1 → (0, 1), t2 → (1, 0); capacity 2 each.
    const g = groupByExpert(Int32Array.from([0, 1, 0, 1, 1, 0]), 2, 2, 2);
    expect(Array.from(g.counts)).toEqual([2, 2]);
    expect(g.dropped).toBe(2); // t1's and t2's second choices
    expect(Array.from(g.order)).toEqual([0, 2, 1, 4]);
    expect(Array.from(g.position)).toEqual([0, 2, 1, 4, 3, 4]); // 4: the zero row
    expect(groupByExpert(Int32Array.from([0, 1, 0, 1, 1, 0]), 2, 2).dropped).toBe(0);
  });
});

describe('grouped dispatch gradients', () => {
  it('equal the naive reference\'s for the input, the routing weights and every expert weight (with and without a capacity)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 1e6 }), fc.option(fc.integer({ min: 1, max: 6 })), (n, tokens, kRaw, seed, cap) => {
        const k = Math.min(kRaw, n);
        const capacity = cap ?? Infinity;
        const ex = randomExperts(n, 4, 3, seed);
        const x = tf.randomNormal([tokens, 4], 0, 1, 'float32', seed + 1) as tf.Tensor2D;
        const logits = tf.randomNormal([tokens, n], 0, 1, 'float32', seed + 2) as tf.Tensor2D;
        const probe = tf.randomNormal([tokens, 4], 0, 1, 'float32', seed + 3);
        const sel = topKIndices(logits.dataSync() as Float32Array, tokens, n, k);
        const w = routingWeights(logits, sel, k, 'topk-softmax');
        const flat = ex.flatMap((e) => [e.w1, e.w2, e.w3]);
        const unflat = (ts: tf.Tensor[]) => ex.map((_, i) => ({ w1: ts[3 * i], w2: ts[3 * i + 1], w3: ts[3 * i + 2] }) as ExpertWeights);
        // experts nobody picked do not run; the 0 · Σw term gives their weights a (zero) gradient to compare.
        const untouched = (ws: tf.Tensor[]) => tf.mul(0, tf.addN(ws.map((t) => tf.sum(t))));
        const grouped = (xi: tf.Tensor, wi: tf.Tensor, ...ws: tf.Tensor[]) =>
          tf.add(tf.sum(tf.mul(dispatch(xi as tf.Tensor2D, sel, wi as tf.Tensor2D, unflat(ws), capacity), probe)), untouched(ws));
        const naive = (xi: tf.Tensor, wi: tf.Tensor, ...ws: tf.Tensor[]) => {
          // every expert on every token, weighted by a one-hot mask of the kept assignments' routing weights
          const kept = keptByCapacity(sel, n, k, capacity);
          const hot = new Float32Array(sel.length * n);
          sel.forEach((e, i) => (hot[i * n + e] = kept[i] ? 1 : 0));
          const oneHot = tf.tensor2d(hot, [sel.length, n]);
          const mask = tf.sum(tf.reshape(tf.mul(oneHot, tf.reshape(wi, [-1, 1])), [tokens, k, n]), 1);
          const outs = unflat(ws).map((e, i) => tf.mul(expertForward(xi as tf.Tensor2D, e), tf.slice(mask, [0, i], [tokens, 1])));
          return tf.sum(tf.mul(tf.addN(outs), probe));
        };
        const a = tf.grads(grouped)([x, w, ...flat]);
        const b = tf.grads(naive)([x, w, ...flat]);
        a.forEach((g, i) => {
          const d = tf.tidy(() => tf.max(tf.abs(tf.sub(g, b[i]))).dataSync()[0]);
          expect(d).toBeLessThan(1e-4);
        });
        tf.dispose([x, logits, probe, w, ...flat, ...a, ...b]);
      }),
      { numRuns: 12 },
    );
  });
});

describe('the moe FFN kind in core', () => {
  it('has Mixtral weights, counts k experts + router as active, returns the aux loss, and gradients reach the router', () => {
    const config = mixtral(4, 2);
    const shapes = paramShapes(config);
    expect(shapes['model.layers.0.block_sparse_moe.gate.weight']).toEqual([4, 8]);
    expect(shapes['model.layers.1.block_sparse_moe.experts.3.w2.weight']).toEqual([8, 12]);
    expect(shapes['model.layers.0.mlp.up_proj.weight']).toBeUndefined();
    const dense = llamaConfig({ vocab: 32, hidden: 8, ffn: 12, layers: 2, heads: 2 });
    expect(flopsPerToken(config, 16).activeMatmulParams - flopsPerToken(dense, 16).activeMatmulParams).toBe(2 * (4 * 8 + 3 * 8 * 12));
    const params = initParams(config, 1, 0.3);
    const tokens = tf.tensor2d([[1, 2, 3, 4, 5, 6]], [1, 6], 'int32');
    const router = 'model.layers.0.block_sparse_moe.gate.weight';
    const before = tf.memory().numTensors;
    const lossOf = (r: tf.Tensor) => {
      const { logits, auxLoss } = forwardWithAux(config, { ...params, [router]: r }, tokens);
      return tf.add(tf.mean(tf.square(logits)), auxLoss) as tf.Scalar;
    };
    const g = tf.grad(lossOf)(params[router]);
    expect(tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0])).toBeGreaterThan(0);
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([tokens, ...Object.values(params)]);
  });

  it('drops assignments over the capacity factor and reports their fraction', () => {
    const config = mixtral(2, 1, { efficientscale: { ffn_options: { moe: { capacity_factor: 0.5 } } } });
    const params = initParams(config, 3, 0.3);
    for (const l of [0, 1]) {
      const name = `model.layers.${l}.block_sparse_moe.gate.weight`;
      params[name].dispose();
      params[name] = tf.zeros([2, 8]); // ties: every token picks expert 0
    }
    const tokens = tf.tensor2d([[1, 2, 3, 4, 5, 6, 7, 8]], [1, 8], 'int32');
    const out = forwardWithAux(config, params, tokens);
    // capacity ⌈0.5 · 8 · 1 / 2⌉ = 2: two of the eight tokens reach expert 0.
    expect(out.ffnMetrics.dropped_fraction).toEqual({ 0: [0.75], 1: [0.75] });
    expect(out.ffnMetrics.expert_load[0]).toEqual([1, 0]);
    expect(() => paramShapes(mixtral(2, 1, { efficientscale: { ffn_options: { moe: { capacity_factor: -1 } } } }))).toThrowError(/capacity_factor": expected a number >= 0, found -1/);
    tf.dispose([tokens, out.logits, out.auxLoss, ...Object.values(params)]);
  });

  it('supports softmax-then-top-k routing, a shared expert and a z-loss', () => {
    const config = mixtral(3, 1, { efficientscale: { ffn_options: { moe: { routing: 'softmax-topk', shared_expert_intermediate_size: 4, router_z_loss_coef: 0.5 } } } });
    const shapes = paramShapes(config);
    expect(shapes['model.layers.0.block_sparse_moe.shared_expert.w1.weight']).toEqual([4, 8]);
    const params = initParams(config, 2, 0.3);
    const tokens = tf.tensor2d([[1, 2, 3]], [1, 3], 'int32');
    const { logits, auxLoss } = forwardWithAux(config, params, tokens);
    expect(logits.shape).toEqual([1, 3, 32]);
    // the z-loss (logsumexp² > 0 for 3 experts) dominates the balancing term here.
    expect(auxLoss.dataSync()[0]).toBeGreaterThan(0.5 * Math.log(3) ** 2 * 0.5);
    expect(() => paramShapes(mixtral(2, 3))).toThrowError(/num_experts_per_tok.*at most num_local_experts \(2\), found 3/);
    expect(() => paramShapes(mixtral(0, 1))).toThrowError(/"num_local_experts": expected a positive integer, found 0/);
    tf.dispose([logits, auxLoss, tokens, ...Object.values(params)]);
  });
});
