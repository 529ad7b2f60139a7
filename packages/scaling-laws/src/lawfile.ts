import type { BootstrapResult } from './bootstrap.js';
import { mismatch } from './errors.js';
import type { FittedLaw } from './fit.js';
import { getLaw, paramsToTheta } from './laws.js';
import type { LawEstimate } from './plan.js';

export const LAW_FILE_FORMAT = 'efficientscale.scaling-law';
export const LAW_FILE_VERSION = 1;

/** The JSON written by `efficientscale fit --out law.json` and read by `predict` and `plan`. */
export interface LawFile {
  format: typeof LAW_FILE_FORMAT;
  version: typeof LAW_FILE_VERSION;
  law: FittedLaw['law'];
  formula: string;
  /** Natural-space parameters; `theta` is recomputed from these when the file is read. */
  params: Record<string, number>;
  fit: Omit<FittedLaw, 'law' | 'formula' | 'params' | 'theta'>;
  bootstrap?: Omit<BootstrapResult, 'thetas'> & { thetas: number[][] };
}

/** A law file for a fit and, optionally, its bootstrap. */
export function toLawFile(fit: FittedLaw, bootstrap?: BootstrapResult): LawFile {
  const { law, formula, params, theta: _theta, ...rest } = fit;
  return {
    format: LAW_FILE_FORMAT,
    version: LAW_FILE_VERSION,
    law,
    formula,
    params,
    fit: rest,
    ...(bootstrap ? { bootstrap } : {}),
  };
}

/** Reads a law file's text into an estimate for prediction and planning; one-line errors name the field. */
export function parseLawFile(text: string, source: string): LawEstimate & { file: LawFile } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw mismatch(source, 'a JSON law file written by `efficientscale fit --out`', 'text that is not JSON');
  }
  const file = raw as Partial<LawFile>;
  if (typeof raw !== 'object' || raw === null || file.format !== LAW_FILE_FORMAT) {
    throw mismatch(`${source}: format`, JSON.stringify(LAW_FILE_FORMAT), JSON.stringify((file as { format?: unknown })?.format));
  }
  if (file.version !== LAW_FILE_VERSION) throw mismatch(`${source}: version`, String(LAW_FILE_VERSION), JSON.stringify(file.version));
  const law = getLaw(String(file.law));
  let theta: number[];
  try {
    theta = paramsToTheta(law, (file.params ?? {}) as Record<string, number>);
  } catch (err) {
    throw mismatch(`${source}: params`, `numbers ${law.paramNames.join(', ')}`, (err as Error).message);
  }
  const est: LawEstimate & { file: LawFile } = { law: law.name, theta, file: file as LawFile };
  const boot = file.bootstrap;
  if (boot) {
    const ok =
      Array.isArray(boot.thetas) &&
      boot.thetas.every((t) => Array.isArray(t) && t.length === theta.length && t.every((v) => typeof v === 'number' && Number.isFinite(v)));
    if (!ok) throw mismatch(`${source}: bootstrap.thetas`, `arrays of ${theta.length} finite numbers`, 'something else');
    if (!(boot.confidence > 0 && boot.confidence < 1)) throw mismatch(`${source}: bootstrap.confidence`, 'a number between 0 and 1', String(boot.confidence));
    est.bootstrap = { thetas: boot.thetas, confidence: boot.confidence };
  }
  return est;
}
