import { it } from 'vitest';
import { tf } from './test-util.js';
it('dbg', () => {
  for (const be of ['cpu', 'native']) {
    tf.setBackend(be);
    try {
      const a = tf.zeros([2, 1, 1, 0]), b = tf.zeros([2, 1, 0, 1]);
      const out = tf.matMul(a, b);
      console.log(be, 'matMul', out.shape, out.dataSync().length);
      const r = tf.fused.matMul({ a, b, bias: tf.ones(out.shape) });
      console.log(be, r.shape, Array.from(r.dataSync()));
    } catch (e) { console.log(be, 'ERR', (e as Error).message, (e as Error).stack?.split('\n').slice(1, 6).join('\n')); }
  }
});
