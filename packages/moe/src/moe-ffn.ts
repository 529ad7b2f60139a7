import { readsAreAsync, tf, type FfnKind, type FfnOutput, type WeightSpec } from '@efficientscale/core';
import { expertWeight, moeSettings, routerWeight, sharedWeight, type MoeSettings } from './moe-config.js';
import { dispatch, expertForward, groupByExpert, type ExpertWeights } from './dispatch.js';
import { loadBalancingLoss, routerZLoss, routingWeights, topKIndices } from './routing.js';
import { droppedMetric, expertLoad, expertLoadMetric } from './expert-load.js';
import { dispatchOnDevice, loadOnDevice, routeOnDevice, routingWeightsOnDevice } from './device-dispatch.js';
import { registerMoeKernels } from './device-kernels.js';

registerMoeKernels();

let routing: 'auto' | 'host' | 'device' = 'auto';

/**
 * Where the routing runs: 'auto' keeps it on the device where the host reads tensors only asynchronously
 * (webgpu) and reads it on the host elsewhere; tests force either to compare them.
 */
export function setMoeRouting(where: 'auto' | 'host' | 'device'): void {
  routing = where;
}
const onDevice = () => routing === 'device' || (routing === 'auto' && readsAreAsync());

const experts = (n: number) => Array.from({ length: n }, (_, e) => e);

/** Mixtral's sparse MoE block as an FFN slot kind: router, top-k, grouped dispatch, aux losses. */
export const moeFfn: FfnKind = {
  kind: 'moe',
  weights(config, d) {
    const s = moeSettings(config, d);
    const rows: Record<string, WeightSpec> = { [routerWeight]: { shape: [s.experts, d.hidden], role: 'router' } };
    const swiglu = (name: (w: 'w1' | 'w2' | 'w3') => string, ffn: number) => {
      rows[name('w1')] = { shape: [ffn, d.hidden], role: 'input-projection' };
      rows[name('w2')] = { shape: [d.hidden, ffn], role: 'output-projection' };
      rows[name('w3')] = { shape: [ffn, d.hidden], role: 'input-projection' };
    };
    for (const e of experts(s.experts)) swiglu((w) => expertWeight(e, w), s.expertFfn);
    if (s.sharedFfn > 0) swiglu(sharedWeight, s.sharedFfn);
    return rows;
  },
  initStd(config, d, _layer, initStd) {
    // Output projections get GPT-2's 1/sqrt(2·layers) scaling, as the dense kind's down_proj does.
    const s = moeSettings(config, d);
    const residual = initStd / Math.sqrt(2 * d.layers);
    const stds: Record<string, number> = Object.fromEntries(experts(s.experts).map((e) => [expertWeight(e, 'w2'), residual]));
    if (s.sharedFfn > 0) stds[sharedWeight('w2')] = residual;
    return stds;
  },
  prepare: (config, d) => moeSettings(config, d),
  forward(ctx, x) {
    const s = (ctx.settings as MoeSettings | undefined) ?? moeSettings(ctx.config, ctx.dims);
    const tokens = x.shape[0];
    const logits = tf.matMul(x, ctx.param(routerWeight) as tf.Tensor2D, false, true) as tf.Tensor2D;
    if (onDevice()) return forwardOnDevice(ctx, x, logits, s);
    const selected = topKIndices(logits.dataSync() as Float32Array, tokens, s.experts, s.topK);
    const weights = routingWeights(logits, selected, s.topK, s.routing);
    const w = (name: string) => ctx.param(name) as tf.Tensor2D;
    const expertWs: ExpertWeights[] = experts(s.experts).map((e) => ({ w1: w(expertWeight(e, 'w1')), w2: w(expertWeight(e, 'w2')), w3: w(expertWeight(e, 'w3')) }));
    const capacity = s.capacityFactor > 0 ? Math.ceil((s.capacityFactor * tokens * s.topK) / s.experts) : Infinity;
    let y = dispatch(x, selected, weights, expertWs, capacity);
    if (s.sharedFfn > 0) y = tf.add(y, expertForward(x, { w1: w(sharedWeight('w1')), w2: w(sharedWeight('w2')), w3: w(sharedWeight('w3')) }));
    let auxLoss = tf.mul(s.auxLossCoef, loadBalancingLoss(logits, selected)) as tf.Scalar;
    if (s.zLossCoef > 0) auxLoss = tf.add(auxLoss, tf.mul(s.zLossCoef, routerZLoss(logits)));
    const metrics: Record<string, number[]> = { [expertLoadMetric]: expertLoad(selected, s.experts) };
    if (capacity < Infinity) metrics[droppedMetric] = [groupByExpert(selected, s.experts, s.topK, capacity).dropped / selected.length];
    return { y, auxLoss, metrics };
  },
  activeParamsPerToken(config, d) {
    const s = moeSettings(config, d);
    return s.experts * d.hidden + 3 * d.hidden * (s.topK * s.expertFfn + s.sharedFfn);
  },
};

type Ctx = Parameters<FfnKind['forward']>[0];

/** The same layer with nothing read back: routing, dispatch and the logged loads stay on the device. */
function forwardOnDevice(ctx: Ctx, x: tf.Tensor2D, logits: tf.Tensor2D, s: ReturnType<typeof moeSettings>): FfnOutput {
  const tokens = x.shape[0];
  const w = (name: string) => ctx.param(name) as tf.Tensor2D;
  const capacity = s.capacityFactor > 0 ? Math.ceil((s.capacityFactor * tokens * s.topK) / s.experts) : Infinity;
  const route = routeOnDevice(logits, s.topK, s.experts, capacity);
  const weights = routingWeightsOnDevice(logits, route.selected, s.routing);
  const expertWs = experts(s.experts).map((e) => ({ w1: w(expertWeight(e, 'w1')), w2: w(expertWeight(e, 'w2')), w3: w(expertWeight(e, 'w3')) }));
  let y = dispatchOnDevice(x, route, weights, expertWs);
  if (s.sharedFfn > 0) y = tf.add(y, expertForward(x, { w1: w(sharedWeight('w1')), w2: w(sharedWeight('w2')), w3: w(sharedWeight('w3')) }));
  const load = loadOnDevice(logits, route.selected);
  let auxLoss = tf.mul(s.auxLossCoef, load.balance) as tf.Scalar;
  if (s.zLossCoef > 0) auxLoss = tf.add(auxLoss, tf.mul(s.zLossCoef, routerZLoss(logits)));
  const deviceMetrics: Record<string, tf.Tensor1D> = { [expertLoadMetric]: load.share };
  if (capacity < Infinity) {
    const n = route.selected.size;
    deviceMetrics[droppedMetric] = tf.div(tf.sub(n, tf.cast(tf.slice(route.offsets, [s.experts], [1]), 'float32')), n) as tf.Tensor1D;
  }
  return { y, auxLoss, deviceMetrics };
}
