/**
 * The MoE layer with routing on the device (what webgpu runs) against the host-routed layer (what cpu
 * and native run), both on the cpu backend through the kernels' JavaScript versions: the same logits, aux
 * loss, expert loads, dropped fraction and gradients, for random configs (capacity, shared expert,
 * routing modes, zero routers whose ties go to the lower index).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { forwardWithAux, initParams, llamaConfig, readDeviceMetrics, tf, type ModelConfig } from '@efficientscale/core';
import { setMoeRouting } from './moe-ffn.js';
import { moeReference } from './device-kernels.js';
import { groupByExpert } from './dispatch.js';
import './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => setMoeRouting('auto'));

const config = (experts: number, k: number, extra: Partial<ModelConfig>): ModelConfig => ({
  ...llamaConfig({ vocab: 32, hidden: 8, ffn: 12, layers: 2, heads: 2 }),
  architectures: ['MixtralForCausalLM'],
  model_type: 'mixtral',
  num_local_experts: experts,
  num_experts_per_tok: k,
  router_aux_loss_coef: 0.01,
  ...extra,
});

let runs = 0;
async function run(where: 'host' | 'device', cfg: ModelConfig, params: Record<string, tf.Tensor>, tokens: tf.Tensor2D) {
  setMoeRouting(where);
  const names = Object.keys(params);
  const id = ++runs;
  const vars = names.map((n) => tf.variable(params[n], true, `${n}@${id}`));
  let captured: ReturnType<typeof forwardWithAux> | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const out = forwardWithAux(cfg, Object.fromEntries(names.map((n, i) => [n, vars[i]])), tokens);
    for (const layers of Object.values(out.ffnDeviceMetrics)) for (const t of Object.values(layers)) tf.keep(t);
    captured = out;
    const w = tf.div(tf.range(0, out.logits.size).reshape(out.logits.shape), out.logits.size);
    return tf.add(tf.sum(tf.mul(out.logits, w)), out.auxLoss) as tf.Scalar;
  }, vars);
  const metrics = await readDeviceMetrics(captured!.ffnDeviceMetrics, { ...captured!.ffnMetrics });
  // experts that got no token are not in the host path's graph: their gradient is 0
  const g = names.map((n, i) => (grads[`${n}@${id}`] ? Array.from(grads[`${n}@${id}`].dataSync()) : new Array(vars[i].size).fill(0)));
  const result = { value: value.dataSync()[0], grads: g, metrics };
  tf.dispose([value, ...Object.values(grads), ...vars]);
  return result;
}

describe('MoE routing on the device', () => {
  it('equals the host-routed layer: loss, expert loads, dropped fraction and every gradient (1e-5), and leaves no tensor behind', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 3 }), fc.constantFrom(0, 1.0, 0.5), fc.boolean(), fc.constantFrom('topk-softmax', 'softmax-topk'), fc.boolean(), fc.integer({ min: 1, max: 1e6 }),
        async (experts, kRaw, capacityFactor, shared, mode, zeroRouter, seed) => {
          const k = Math.min(kRaw, experts);
          const moe = { routing: mode, router_z_loss_coef: 0.001, ...(capacityFactor > 0 ? { capacity_factor: capacityFactor } : {}), ...(shared ? { shared_expert_intermediate_size: 6 } : {}) };
          const cfg = config(experts, k, { efficientscale: { ffn_options: { moe } } } as Partial<ModelConfig>);
          const params = initParams(cfg, seed);
          if (zeroRouter) for (const n of Object.keys(params)) if (n.endsWith('block_sparse_moe.gate.weight')) params[n] = tf.zerosLike(params[n]);
          const tokens = tf.tensor2d(Int32Array.from({ length: 2 * 5 }, (_, i) => (i * 7 + seed) % 32), [2, 5], 'int32');
          const host = await run('host', cfg, params, tokens);
          const before = tf.memory().numTensors;
          const device = await run('device', cfg, params, tokens);
          expect(tf.memory().numTensors, 'tensors left by the device path').toBe(before);
          expect(device.value).toBeCloseTo(host.value, 4);
          // float32 shares on the device, doubles on the host
          expect(Object.keys(device.metrics).sort()).toEqual(Object.keys(host.metrics).sort());
          for (const [name, layers] of Object.entries(host.metrics)) {
            expect(Object.keys(device.metrics[name])).toEqual(Object.keys(layers));
            for (const [layer, v] of Object.entries(layers)) v.forEach((x, i) => expect(device.metrics[name][layer][i]).toBeCloseTo(x, 6));
          }
          host.grads.forEach((g, i) => {
            const scale = Math.max(1e-3, ...g.map(Math.abs));
            g.forEach((v, j) => expect(Math.abs(device.grads[i][j] - v), `grad ${i}[${j}]`).toBeLessThanOrEqual(1e-5 * scale));
          });
          tf.dispose([...Object.values(params), tokens]);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('counting sort reference matches groupByExpert, with dropped assignments pointing past the rows', () => {
    const selected = Int32Array.from([0, 1, 0, 2, 0, 1, 0, 0]); // 4 tokens, k = 2
    const g = groupByExpert(selected, 3, 2, 2);
    const r = moeReference.groupByExpert(selected, 3, 2, 2);
    expect(Array.from(r.offsets)).toEqual([0, 2, 4, 5]);
    expect(Array.from(r.order.slice(0, 5))).toEqual(Array.from(g.order));
    expect(Array.from(r.order.slice(5))).toEqual([8, 8, 8]);
    selected.forEach((_, i) => expect(r.position[i]).toBe(g.position[i] === g.order.length ? 8 : g.position[i]));
  });
});
