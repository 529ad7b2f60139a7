import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.js';
import { llamaConfig, type ModelConfig } from './config.js';
import { registerFfnKind, type FfnKind } from './ffn-slot.js';
import { denseFfn } from './dense-ffn.js';
import { initParams } from './params.js';
import { forward } from './forward.js';
import { flopsPerToken } from './flops.js';
import { modelSpec } from './spec.js';
import { withFfnKinds, withFfnOptions } from './config-edit.js';

let prepared = 0;
/** The dense FFN with a `prepare` that counts its calls and hands forward its settings. */
const countingFfn: FfnKind = {
  ...denseFfn,
  kind: 'test-counting',
  prepare: (config, _d, layer) => {
    prepared++;
    return { layer, scale: (config.efficientscale?.ffn_options?.['test-counting'] as { scale: number }).scale };
  },
  forward: (ctx, x) => {
    const s = ctx.settings as { layer: number; scale: number };
    expect(s.layer).toBe(ctx.layer);
    return { y: tf.mul(denseFfn.forward(ctx, x).y, s.scale) };
  },
};

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerFfnKind(countingFfn);
});

describe('the model spec', () => {
  it('is built once per config: forward, params and FLOPs read it; each FFN kind prepares its settings once per layer', () => {
    const base = llamaConfig({ vocab: 16, hidden: 8, ffn: 12, layers: 3, heads: 2 });
    const config = withFfnOptions(withFfnKinds(base, ['dense', 'test-counting', 'test-counting']), 'test-counting', { scale: 0 });
    prepared = 0;
    const params = initParams(config, 1); // builds the spec
    const tokens = tf.tensor2d([[1, 2, 3]], [1, 3], 'int32');
    for (let i = 0; i < 4; i++) tf.dispose(forward(config, params, tokens));
    flopsPerToken(config, 8);
    expect(prepared).toBe(2);
    expect(modelSpec(config)).toBe(modelSpec(config));
    expect(Object.isFrozen(modelSpec(config))).toBe(true);
    expect(Object.isFrozen(modelSpec(config).dims)).toBe(true);
    expect(modelSpec(config).kinds.map((k) => k.kind)).toEqual(['dense', 'test-counting', 'test-counting']);
    // A new config (configs are values) gets its own spec: scale 0 silences the FFNs of layers 1 and 2.
    const other = withFfnOptions(config, 'test-counting', { scale: 1 });
    const a = forward(config, params, tokens);
    const b = forward(other, params, tokens);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0])).toBeGreaterThan(0);
    expect(prepared).toBe(4);
    tf.dispose([a, b, tokens, ...Object.values(params)]);
  });

  it('withFfnKinds and withFfnOptions edit efficientscale and drop what becomes empty', () => {
    const base: ModelConfig = llamaConfig({ vocab: 16, hidden: 8, ffn: 12, layers: 2, heads: 2 });
    const low = withFfnOptions(withFfnKinds(base, ['dense', 'lowrank']), 'lowrank', { layer_ranks: { 1: { gate_proj: 2, up_proj: 2, down_proj: 2 } } });
    expect(low.efficientscale).toEqual({ ffn_kinds: ['dense', 'lowrank'], ffn_options: { lowrank: { layer_ranks: { 1: { gate_proj: 2, up_proj: 2, down_proj: 2 } } } } });
    const back = withFfnOptions(withFfnKinds(low, ['dense', 'dense']), 'lowrank', undefined);
    expect(back).toEqual(base);
    expect('efficientscale' in back).toBe(false);
    const mixtral = { ...base, architectures: ['MixtralForCausalLM'], model_type: 'mixtral' };
    expect(withFfnKinds(mixtral, ['moe', 'moe']).efficientscale).toBeUndefined(); // Mixtral's own kinds
    expect(withFfnKinds(mixtral, ['moe', 'moe', 'dense'])).toMatchObject({ num_hidden_layers: 3, efficientscale: { ffn_kinds: ['moe', 'moe', 'dense'] } });
    expect(base.efficientscale).toBeUndefined(); // inputs are not changed
  });
});
