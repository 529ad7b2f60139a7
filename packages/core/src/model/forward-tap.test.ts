import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.js';
import { llamaConfig } from './config.js';
import { initParams } from './params.js';
import { forward } from './forward.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('forward tap', () => {
  it('sees each layer\'s FFN input once, in order, without changing the logits', () => {
    const config = llamaConfig({ vocab: 20, hidden: 8, ffn: 12, layers: 3, heads: 2 });
    const params = initParams(config, 4);
    const tokens = tf.tensor2d([[1, 5, 7, 2], [3, 3, 9, 0]], [2, 4], 'int32');
    const seen: Array<{ layer: number; shape: number[]; data: Float32Array }> = [];
    const tapped = forward(config, params, tokens, { tap: (layer, x) => seen.push({ layer, shape: x.shape, data: x.dataSync() as Float32Array }) });
    const plain = forward(config, params, tokens);
    expect(tapped.dataSync()).toEqual(plain.dataSync());
    expect(seen.map((s) => [s.layer, s.shape])).toEqual([[0, [8, 8]], [1, [8, 8]], [2, [8, 8]]]);
    // An FFN input is RMS-normed (weights 1): its RMS is 1/√(1 + eps/ms), just under 1 for these small activations.
    const rms = Math.sqrt(seen[0].data.slice(0, 8).reduce((a, v) => a + v * v, 0) / 8);
    expect(rms).toBeGreaterThan(0.95);
    expect(rms).toBeLessThanOrEqual(1);
    expect(tf.memory().numTensors).toBe(Object.keys(params).length + 3);
    tf.dispose([tapped, plain, tokens, ...Object.values(params)]);
  });
});
