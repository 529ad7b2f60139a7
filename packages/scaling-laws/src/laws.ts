import { mismatch } from './errors.js';

/** The law forms this package fits. */
export type LawName = 'chinchilla' | 'params' | 'compute' | 'repetition';

export const LAW_NAMES: readonly LawName[] = ['chinchilla', 'params', 'compute', 'repetition'];

/**
 * A law in log space. `theta` holds the log of each multiplicative constant (a = log A, b = log B,
 * e = log E) and the exponents as they are, so every parameter is unconstrained. The predicted loss
 * is a sum of positive terms, computed as a log-sum-exp of the terms' logs.
 */
export interface LawForm {
  name: LawName;
  /** The formula, for people. */
  formula: string;
  /** Names of the entries of theta, in order. */
  thetaNames: readonly string[];
  /** Names of the natural-space parameters, in the same order as theta. */
  paramNames: readonly string[];
  /** Which entries of theta are logs of a constant (exponentiated to give the natural parameter). */
  logScaled: readonly boolean[];
  /** Whether the law depends on D (and so supports compute-optimal planning of N and D). */
  usesTokens: boolean;
  /** The values each entry of theta takes on the starting grid. */
  grid: readonly (readonly number[])[];
  /**
   * log L̂ at one point; when `grad` is given, writes d log L̂ / d theta into it.
   * `logN` and `logD` are natural logs of parameters and tokens; `logU` of unique tokens (only the
   * repetition form reads it; pass logD, or leave it out, when no data was repeated).
   */
  logPredict(theta: ArrayLike<number>, logN: number, logD: number, grad?: Float64Array, logU?: number): number;
}

const LOG6 = Math.log(6);

/** Hoffmann et al.'s grid, as replicated by Epoch AI: 6 × 6 × 5 × 5 × 5 = 4,500 starts. */
const GRID_LOG_CONST = [0, 5, 10, 15, 20, 25];
const GRID_E = [-1, -0.5, 0, 0.5, 1];
const GRID_EXP = [0, 0.5, 1, 1.5, 2];

/**
 * log(E + A/N^α + B/D^β) for theta = [a, b, e, α, β, ...], as a log-sum-exp shifted by the largest term;
 * writes the gradient in a, b, e, α, β into grad[0..4].
 */
function chinchillaLog(theta: ArrayLike<number>, logN: number, logD: number, grad?: Float64Array): number {
  const t0 = theta[0] - theta[3] * logN;
  const t1 = theta[1] - theta[4] * logD;
  const t2 = theta[2];
  const m = Math.max(t0, t1, t2);
  const w0 = Math.exp(t0 - m);
  const w1 = Math.exp(t1 - m);
  const w2 = Math.exp(t2 - m);
  const sum = w0 + w1 + w2;
  if (grad) {
    grad[0] = w0 / sum;
    grad[1] = w1 / sum;
    grad[2] = w2 / sum;
    grad[3] = (-w0 / sum) * logN;
    grad[4] = (-w1 / sum) * logD;
  }
  return m + Math.log(sum);
}

/** L(N, D) = E + A/N^α + B/D^β; theta = [a, b, e, α, β]. */
const chinchilla: LawForm = {
  name: 'chinchilla',
  formula: 'L(N, D) = E + A / N^alpha + B / D^beta',
  thetaNames: ['a', 'b', 'e', 'alpha', 'beta'],
  paramNames: ['A', 'B', 'E', 'alpha', 'beta'],
  logScaled: [true, true, true, false, false],
  usesTokens: true,
  grid: [GRID_LOG_CONST, GRID_LOG_CONST, GRID_E, GRID_EXP, GRID_EXP],
  logPredict: (theta, logN, logD, grad) => chinchillaLog(theta, logN, logD, grad),
};

/**
 * Data-constrained form of Muennighoff et al. 2023 ("Scaling Data-Constrained Language Models"), data
 * term only: D is replaced by the effective data D' = U + U·R*·(1 − exp(−R/R*)), where U is the unique
 * tokens and R = D/U − 1 the repetitions beyond the first epoch; theta = [a, b, e, α, β, log R*].
 * Without repetition (U ≥ D) it is the Chinchilla form.
 */
const repetition: LawForm = {
  name: 'repetition',
  formula: "L(N, D, U) = E + A / N^alpha + B / D'^beta, D' = U (1 + R* (1 - exp(-(D/U - 1) / R*)))",
  thetaNames: ['a', 'b', 'e', 'alpha', 'beta', 'r'],
  paramNames: ['A', 'B', 'E', 'alpha', 'beta', 'Rstar'],
  logScaled: [true, true, true, false, false, true],
  usesTokens: true,
  grid: [GRID_LOG_CONST, GRID_LOG_CONST, GRID_E, GRID_EXP, GRID_EXP, [Math.log(5), Math.log(15), Math.log(50)]],
  logPredict(theta, logN, logD, grad, logU = logD) {
    const rStar = Math.exp(theta[5]);
    const R = logU < logD ? Math.exp(logD - logU) - 1 : 0;
    const decay = Math.exp(-R / rStar);
    const g = rStar * (1 - decay); // effective extra epochs
    const logEff = logU + Math.log1p(g);
    const y = chinchillaLog(theta, logN, logEff, grad);
    if (grad) {
      // d log D' / d log R* = R* · dg/dR* / (1 + g), with dg/dR* = 1 − e^{−R/R*} − (R/R*) e^{−R/R*}.
      const dEff = (rStar * (1 - decay - (R / rStar) * decay)) / (1 + g);
      grad[5] = -theta[4] * grad[1] * dEff;
    }
    return y;
  },
};

/** A two-term law E + A/x^α in one variable x (log x given by `logX`); theta = [a, e, α]. */
function oneVariableLaw(
  name: LawName,
  formula: string,
  usesTokens: boolean,
  alphaGrid: readonly number[],
  logX: (logN: number, logD: number) => number,
): LawForm {
  return {
    name,
    formula,
    thetaNames: ['a', 'e', 'alpha'],
    paramNames: ['A', 'E', 'alpha'],
    logScaled: [true, true, false],
    usesTokens,
    grid: [GRID_LOG_CONST, GRID_E, alphaGrid],
    logPredict(theta, logN, logD, grad) {
      const lx = logX(logN, logD);
      const t0 = theta[0] - theta[2] * lx;
      const t1 = theta[1];
      const m = Math.max(t0, t1);
      const w0 = Math.exp(t0 - m);
      const w1 = Math.exp(t1 - m);
      const sum = w0 + w1;
      if (grad) {
        grad[0] = w0 / sum;
        grad[1] = w1 / sum;
        grad[2] = (-w0 / sum) * lx;
      }
      return m + Math.log(sum);
    },
  };
}

/** L(N) = E + A/N^α: the loss of models trained to convergence (tokens ignored). */
const params = oneVariableLaw('params', 'L(N) = E + A / N^alpha', false, GRID_EXP, (logN) => logN);

/** L(C) = E + A/C^α with C = 6·N·D training FLOPs. */
const compute = oneVariableLaw(
  'compute',
  'L(C) = E + A / C^alpha, C = 6 N D',
  true,
  [0, 0.05, 0.1, 0.2, 0.5],
  (logN, logD) => LOG6 + logN + logD,
);

const LAWS: Record<LawName, LawForm> = { chinchilla, params, compute, repetition };

/** The law form called `name`; throws a ScalingLawError naming the known forms otherwise. */
export function getLaw(name: string): LawForm {
  const law = (LAWS as Record<string, LawForm | undefined>)[name];
  if (!law) throw mismatch('law', `one of ${LAW_NAMES.join(', ')}`, JSON.stringify(name));
  return law;
}

/** Natural-space parameters ({A, B, E, alpha, beta}) from log-space theta. */
export function thetaToParams(law: LawForm, theta: ArrayLike<number>): Record<string, number> {
  const out: Record<string, number> = {};
  law.paramNames.forEach((p, i) => {
    out[p] = law.logScaled[i] ? Math.exp(theta[i]) : theta[i];
  });
  return out;
}

/** Log-space theta from natural-space parameters; throws if one is missing or a constant is not positive. */
export function paramsToTheta(law: LawForm, params: Record<string, number>): number[] {
  return law.paramNames.map((p, i) => {
    const v = params[p];
    if (typeof v !== 'number' || !Number.isFinite(v) || (law.logScaled[i] && v <= 0)) {
      throw mismatch(`law parameter ${p}`, law.logScaled[i] ? 'a positive number' : 'a finite number', String(v));
    }
    return law.logScaled[i] ? Math.log(v) : v;
  });
}

/** Predicted loss L̂(N, D) for log-space theta; `uniqueTokens` (default: all tokens unique) matters to the repetition form. */
export function predictWithTheta(law: LawForm, theta: ArrayLike<number>, params: number, tokens: number, uniqueTokens?: number): number {
  const logD = Math.log(tokens);
  return Math.exp(law.logPredict(theta, Math.log(params), logD, undefined, uniqueTokens === undefined ? logD : Math.log(uniqueTokens)));
}
