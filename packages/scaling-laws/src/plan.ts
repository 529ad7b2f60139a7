import { mismatch } from './errors.js';
import { getLaw, predictWithTheta, thetaToParams, type LawName } from './laws.js';
import { percentileInterval } from './stats.js';

/** What prediction and planning need: a law form, its fitted log-space parameters, optionally bootstrap fits. */
export interface LawEstimate {
  law: LawName;
  theta: readonly number[];
  bootstrap?: { thetas: readonly (readonly number[])[]; confidence: number };
}

/** A point estimate with its bootstrap percentile interval when the estimate has bootstrap fits. */
export interface Estimate {
  value: number;
  interval?: [number, number];
}

function positive(what: string, v: number): void {
  if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) throw mismatch(what, 'a positive finite number', String(v));
}

function withInterval(est: LawEstimate, f: (theta: readonly number[]) => number): Estimate {
  const value = f(est.theta);
  if (!est.bootstrap || est.bootstrap.thetas.length < 2) return { value };
  return { value, interval: percentileInterval(est.bootstrap.thetas.map(f), est.bootstrap.confidence) };
}

/**
 * Predicted loss of a model of `params` parameters trained on `tokens` tokens, of which `uniqueTokens`
 * are distinct (default: all; only the repetition law uses it).
 */
export function predictLoss(est: LawEstimate, params: number, tokens: number, uniqueTokens?: number): Estimate {
  positive('params', params);
  positive('tokens', tokens);
  if (uniqueTokens !== undefined) positive('unique tokens', uniqueTokens);
  const law = getLaw(est.law);
  return withInterval(est, (theta) => predictWithTheta(law, theta, params, tokens, uniqueTokens));
}

/** The compute-optimal allocation of a budget of C = 6·N·D FLOPs and the loss it reaches. */
export interface ComputePlan {
  flops: number;
  /** Parameters and tokens; absent for the L(C) form, which does not split C between them. */
  params?: Estimate;
  tokens?: Estimate;
  tokensPerParam?: Estimate;
  loss: Estimate;
}

/**
 * N_opt and D_opt for the Chinchilla form (theta's first five entries) (Hoffmann et al. 2022, eq. 4):
 * N_opt = G (C/6)^{β/(α+β)}, D_opt = G⁻¹ (C/6)^{α/(α+β)}, G = (αA / βB)^{1/(α+β)}.
 */
export function chinchillaOptimum(theta: readonly number[], flops: number): { params: number; tokens: number } {
  const [a, b, , alpha, beta] = theta;
  if (!(alpha > 0 && beta > 0)) {
    throw mismatch('compute-optimal allocation', 'positive exponents alpha and beta', `alpha=${alpha}, beta=${beta}`);
  }
  const logG = (Math.log(alpha) + a - Math.log(beta) - b) / (alpha + beta);
  const logHalf = Math.log(flops / 6);
  const params = Math.exp(logG + (beta / (alpha + beta)) * logHalf);
  return { params, tokens: flops / (6 * params) };
}

/**
 * Compute-optimal N and D for a budget of `flops`, and the loss reachable with it. For the repetition
 * law the plan assumes enough unique data (no repetition), where it is the Chinchilla form.
 */
export function planCompute(est: LawEstimate, flops: number): ComputePlan {
  positive('flops', flops);
  const law = getLaw(est.law);
  if (!law.usesTokens) throw mismatch('law for planning', 'a form that depends on tokens (chinchilla or compute)', est.law);
  if (est.law === 'compute') {
    // L(C) does not depend on how C is split: the loss is all it gives.
    return { flops, loss: withInterval(est, (theta) => predictWithTheta(law, theta, flops / 6, 1)) };
  }
  const opt = (theta: readonly number[]) => chinchillaOptimum(theta, flops);
  return {
    flops,
    params: withInterval(est, (t) => opt(t).params),
    tokens: withInterval(est, (t) => opt(t).tokens),
    tokensPerParam: withInterval(est, (t) => opt(t).tokens / opt(t).params),
    loss: withInterval(est, (t) => {
      const o = opt(t);
      return predictWithTheta(law, t, o.params, o.tokens);
    }),
  };
}

/** Natural-space parameters of an estimate ({A, B, E, alpha, beta}). */
export function estimateParams(est: LawEstimate): Record<string, number> {
  return thetaToParams(getLaw(est.law), est.theta);
}
