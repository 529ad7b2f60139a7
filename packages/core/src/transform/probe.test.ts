import { describe, expect, it } from 'vitest';
import { tf } from '../tf.js';
import { llamaConfig } from '../model/config.js';
import { initParams } from '../model/params.js';
import { logitGap, logitGapAsync } from './probe.js';

describe('logitGapAsync', () => {
  it('equals logitGap, and leaves no tensors behind', async () => {
    const config = llamaConfig({ vocab: 32, hidden: 8, ffn: 12, layers: 1, heads: 2, kvHeads: 1, maxPositions: 16 });
    const a = initParams(config, 1);
    const b = initParams(config, 2);
    const sync = logitGap({ config, params: a }, { config, params: b });
    const before = tf.memory().numTensors;
    const async = await logitGapAsync({ config, params: a }, { config, params: b });
    expect(tf.memory().numTensors).toBe(before);
    expect(async).toEqual(sync);
    expect(sync.maxAbsLogitDiff).toBeGreaterThan(0);
    tf.dispose([...Object.values(a), ...Object.values(b)]);
  });
});
