import { tf } from '../tf.js';
import { adamWUpdate } from '../ops/fused.js';

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export const defaultAdamW: AdamWOptions = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };

/**
 * AdamW with decoupled weight decay (Loshchilov & Hutter), which tfjs does not have. Decay applies to
 * matrices only; norm weights are left alone. State (first and second moments, step count) is plain
 * named tensors so that checkpoints and growth operators can read and reshape it.
 */
export class AdamW {
  readonly m: Record<string, tf.Variable> = {};
  readonly v: Record<string, tf.Variable> = {};
  step = 0;

  constructor(readonly options: AdamWOptions = defaultAdamW) {}

  /** Applies one update to `vars` from `grads` at learning rate `lr`. */
  apply(vars: Record<string, tf.Variable>, grads: Record<string, tf.Tensor>, lr: number): void {
    this.step += 1;
    const { beta1, beta2, eps, weightDecay } = this.options;
    const c1 = 1 - Math.pow(beta1, this.step);
    const c2 = 1 - Math.pow(beta2, this.step);
    for (const [name, p] of Object.entries(vars)) {
      const g = grads[name];
      if (!g) continue;
      this.m[name] ??= tf.tidy(() => tf.variable(tf.zerosLike(p), false));
      this.v[name] ??= tf.tidy(() => tf.variable(tf.zerosLike(p), false));
      const m = this.m[name];
      const v = this.v[name];
      tf.tidy(() => {
        const decay = p.rank >= 2 && weightDecay > 0 ? lr * weightDecay : 0;
        const [p2, m2, v2] = adamWUpdate(p, g, m, v, { lr, beta1, beta2, eps, decay, c1, c2 });
        m.assign(m2);
        v.assign(v2);
        p.assign(p2);
      });
    }
  }

  /** Optimizer state as named tensors (`m.<param>`, `v.<param>`); the step goes in trainer_state. */
  stateTensors(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const [n, t] of Object.entries(this.m)) out[`m.${n}`] = t;
    for (const [n, t] of Object.entries(this.v)) out[`v.${n}`] = t;
    return out;
  }

  /** Restores state written by `stateTensors` (copies the tensors in). */
  loadState(tensors: Record<string, tf.Tensor>, step: number): void {
    this.dispose();
    this.step = step;
    for (const [key, t] of Object.entries(tensors)) {
      const [kind, ...rest] = key.split('.');
      const name = rest.join('.');
      if (kind === 'm') this.m[name] = tf.variable(t, false);
      else if (kind === 'v') this.v[name] = tf.variable(t, false);
    }
  }

  dispose(): void {
    for (const t of [...Object.values(this.m), ...Object.values(this.v)]) t.dispose();
    for (const k of Object.keys(this.m)) delete this.m[k];
    for (const k of Object.keys(this.v)) delete this.v[k];
  }
}
