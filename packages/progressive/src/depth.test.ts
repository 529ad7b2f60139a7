import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkParams, countParams, initParams, llamaConfig, tf, UserError } from '@efficientscale/core';
import { growDepth, spreadSources } from './depth.js';
import { maxLogitGap } from './probe.js';
import { disposeAll, randomModel, smallConfig } from './test-util.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('growDepth', () => {
  it('exact methods keep the logits and give valid configs', () => {
    fc.assert(
      fc.property(smallConfig, fc.integer({ min: 0, max: 3 }), fc.constantFrom('zero', 'copy', 'interpolate', 'stack' as const), ({ config, seed }, extra, method) => {
        const params = randomModel(config, seed);
        const g = growDepth(config, params, { layers: config.num_hidden_layers + extra, method, seed });
        checkParams(g.config, g.params, 'grown');
        expect(g.report.paramsAfter).toBe(countParams(g.config));
        expect(g.report.exact).toBe(true);
        expect(g.report.maxLogitGap!).toBeLessThan(1e-4);
        expect(g.report.newLayers.length).toBe(extra);
        disposeAll(params, g.params);
      }),
      { numRuns: 12 },
    );
  });

  it('copy without exact changes the function and copies the source layer', () => {
    const config = llamaConfig({ vocab: 20, hidden: 8, ffn: 12, layers: 2, heads: 2 });
    const params = randomModel(config, 3);
    const g = growDepth(config, params, { layers: 3, method: 'copy', exact: false });
    expect(g.report.exact).toBe(false);
    expect(g.report.maxLogitGap!).toBeGreaterThan(1e-3);
    const src = g.report.newLayers[0].source;
    const idx = g.report.newLayers[0].index;
    expect(idx).toBe(src + 1);
    const a = params[`model.layers.${src}.mlp.down_proj.weight`].dataSync();
    expect(Array.from(g.params[`model.layers.${idx}.mlp.down_proj.weight`].dataSync())).toEqual(Array.from(a));
    disposeAll(params, g.params);
  });

  it('grows a 0-layer model (embeddings, norm, head) exactly with zero', () => {
    const config = { ...llamaConfig({ vocab: 16, hidden: 8, ffn: 8, layers: 1, heads: 2 }), num_hidden_layers: 0 };
    const full = randomModel({ ...config, num_hidden_layers: 1 }, 5);
    const params = Object.fromEntries(Object.entries(full).filter(([n]) => !n.startsWith('model.layers.')));
    const g = growDepth(config, params, { layers: 2, method: 'zero' });
    checkParams(g.config, g.params, 'grown');
    expect(g.report.maxLogitGap!).toBeLessThan(1e-5);
    expect(g.report.paramsBefore).toBe(countParams({ ...config, num_hidden_layers: 1 }) - (countParams({ ...config, num_hidden_layers: 2 }) - countParams({ ...config, num_hidden_layers: 1 })));
    const r = growDepth(config, params, { layers: 1, method: 'random', seed: 2 });
    expect(r.report.exact).toBe(false);
    expect(r.report.maxLogitGap!).toBeGreaterThan(0);
    expect(() => growDepth(config, params, { layers: 1, method: 'copy' })).toThrow(UserError);
    disposeAll(full, g.params, r.params);
  });

  it('optimizer moments follow: copied layers copy m and v, zeroed projections start at zero', () => {
    const config = llamaConfig({ vocab: 16, hidden: 8, ffn: 8, layers: 2, heads: 2 });
    const params = initParams(config, 1);
    const optimizer: Record<string, tf.Tensor> = {};
    for (const [n, t] of Object.entries(params)) {
      optimizer[`m.${n}`] = tf.randomNormal(t.shape, 0, 1, 'float32', 7);
      optimizer[`v.${n}`] = tf.randomUniform(t.shape, 0, 1, 'float32', 8);
    }
    const g = growDepth(config, params, { layers: 4, method: 'copy', optimizer });
    const { index, source } = g.report.newLayers[0];
    const q = `self_attn.q_proj.weight`;
    expect(Array.from(g.optimizer![`m.model.layers.${index}.${q}`].dataSync())).toEqual(Array.from(optimizer[`m.model.layers.${source}.${q}`].dataSync()));
    expect(Array.from(g.optimizer![`v.model.layers.${index}.mlp.down_proj.weight`].dataSync()).every((x) => x === 0)).toBe(true);
    expect(Object.keys(g.optimizer!).length).toBe(2 * Object.keys(g.params).length);
    disposeAll(params, optimizer, g.params, g.optimizer);
  });

  it('spreads new layers evenly and refuses shrinking and unknown methods', () => {
    expect(spreadSources(4, 2)).toEqual([1, 3]);
    expect(spreadSources(2, 4)).toEqual([0, 0, 1, 1]);
    const config = llamaConfig({ vocab: 16, hidden: 8, ffn: 8, layers: 2, heads: 2 });
    const params = initParams(config, 1);
    expect(() => growDepth(config, params, { layers: 1, method: 'zero' })).toThrow(/layers: expected at least the current 2 layers \(growth never removes layers\), found 1/);
    expect(() => growDepth(config, params, { layers: 3, method: 'bogus' as never })).toThrow(UserError);
    const same = growDepth(config, params, { layers: 2, method: 'copy' });
    expect(same.report.maxLogitGap).toBe(0);
    const before = tf.memory().numTensors;
    tf.dispose(Object.values(growDepth(config, params, { layers: 3, method: 'zero' }).params));
    expect(tf.memory().numTensors).toBe(before);
    disposeAll(params, same.params);
  });
});
