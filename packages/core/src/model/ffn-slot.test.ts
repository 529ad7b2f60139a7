import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.js';
import { llamaConfig, type ModelConfig } from './config.js';
import { getFfnKind, registerFfnKind, type FfnKind } from './ffn-slot.js';
import { initParams, paramShapes } from './params.js';
import { forward, forwardWithAux } from './forward.js';
import { flopsPerToken } from './flops.js';

/** A stand-in for a technique package's FFN kind: one linear map and a fixed auxiliary loss. */
const linearFfn: FfnKind = {
  kind: 'test-linear',
  weights: (_c, d) => ({ 'mlp.proj.weight': { shape: [d.hidden, d.hidden], role: 'output-projection' } }),
  forward: (ctx, x) => ({ y: tf.matMul(x, ctx.param('mlp.proj.weight') as tf.Tensor2D, false, true), auxLoss: tf.scalar(0.25) }),
  activeParamsPerToken: (_c, d) => d.hidden * d.hidden,
};

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerFfnKind(linearFfn);
});

const base = llamaConfig({ vocab: 32, hidden: 8, ffn: 12, layers: 2, heads: 2 });
const mixed: ModelConfig = { ...base, efficientscale: { ffn_kinds: ['dense', 'test-linear'] } };

describe('the FFN slot', () => {
  it('takes each layer\'s weights, forward pass, aux loss and FLOPs from the kind the config names', () => {
    const shapes = paramShapes(mixed);
    expect(shapes['model.layers.0.mlp.up_proj.weight']).toEqual([12, 8]);
    expect(shapes['model.layers.1.mlp.proj.weight']).toEqual([8, 8]);
    expect(shapes['model.layers.1.mlp.up_proj.weight']).toBeUndefined();
    const params = initParams(mixed, 0);
    const { logits, auxLoss } = forwardWithAux(mixed, params, tf.tensor2d([[1, 2, 3]], [1, 3], 'int32'));
    expect(logits.shape).toEqual([1, 3, 32]);
    expect(auxLoss.dataSync()[0]).toBeCloseTo(0.25, 6);
    const dense = flopsPerToken(base, 16).activeMatmulParams;
    expect(flopsPerToken(mixed, 16).activeMatmulParams).toBe(dense - 3 * 8 * 12 + 8 * 8);
    tf.dispose([logits, auxLoss, ...Object.values(params)]);
  });

  it('names the registered kinds when a config asks for an unknown one', () => {
    expect(() => getFfnKind('moe-that-is-not-loaded')).toThrowError(/FFN kind: expected one of dense, .*test-linear, found "moe-that-is-not-loaded"/);
    const bad = { ...base, efficientscale: { ffn_kinds: ['dense', 'nope'] } };
    expect(() => forward(bad, {}, tf.tensor2d([[1]], [1, 1], 'int32'))).toThrowError(/found "nope"/);
  });
});
