import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.js';
import { AdamW } from './adamw.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** AdamW by the book (Loshchilov & Hutter; PyTorch's torch.optim.AdamW), on plain numbers. */
function reference(p: number, grads: number[], lr: number, o: { beta1: number; beta2: number; eps: number; weightDecay: number }) {
  let m = 0;
  let v = 0;
  grads.forEach((g, i) => {
    const t = i + 1;
    p -= lr * o.weightDecay * p;
    m = o.beta1 * m + (1 - o.beta1) * g;
    v = o.beta2 * v + (1 - o.beta2) * g * g;
    p -= (lr * (m / (1 - o.beta1 ** t))) / (Math.sqrt(v / (1 - o.beta2 ** t)) + o.eps);
  });
  return p;
}

describe('AdamW', () => {
  const options = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };
  const grads = [0.5, -0.25, 1.5, 0.1];

  it('matches the textbook update, decaying matrices but not vectors', () => {
    const opt = new AdamW(options);
    const vars = { w: tf.variable(tf.fill([2, 2], 0.8)), n: tf.variable(tf.fill([2], 0.8)) };
    for (const g of grads) {
      const gs = { w: tf.fill([2, 2], g), n: tf.fill([2], g) };
      opt.apply(vars, gs, 0.01);
      tf.dispose(Object.values(gs));
    }
    expect(vars.w.dataSync()[0]).toBeCloseTo(reference(0.8, grads, 0.01, options), 6);
    expect(vars.n.dataSync()[0]).toBeCloseTo(reference(0.8, grads, 0.01, { ...options, weightDecay: 0 }), 6);
    expect(opt.step).toBe(grads.length);
    opt.dispose();
    tf.dispose(Object.values(vars));
  });

  it('round-trips its state through named tensors', () => {
    const opt = new AdamW(options);
    const vars = { w: tf.variable(tf.fill([3], 1)) };
    const g = { w: tf.fill([3], 0.3) };
    opt.apply(vars, g, 0.01);
    const copy = new AdamW(options);
    copy.loadState(opt.stateTensors(), opt.step);
    expect(Array.from(copy.m.w.dataSync())).toEqual(Array.from(opt.m.w.dataSync()));
    expect(Array.from(copy.v.w.dataSync())).toEqual(Array.from(opt.v.w.dataSync()));
    expect(copy.step).toBe(1);
    [opt, copy].forEach((o) => o.dispose());
    tf.dispose([vars.w, g.w]);
  });
});
