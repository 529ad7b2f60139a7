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

/** The JSON object of a law file with its format and version checked; one-line errors name the field. */
export function readLawJson(text: string, source: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw mismatch(source, 'a JSON law file written by `efficientscale fit --out`', 'text that is not JSON');
  }
  const file = raw as { format?: unknown; version?: unknown };
  if (typeof raw !== 'object' || raw === null || file.format !== LAW_FILE_FORMAT) {
    throw mismatch(`${source}: format`, JSON.stringify(LAW_FILE_FORMAT), JSON.stringify(file?.format));
  }
  if (file.version !== LAW_FILE_VERSION) throw mismatch(`${source}: version`, String(LAW_FILE_VERSION), JSON.stringify(file.version));
  return raw as Record<string, unknown>;
}

/** A law file's bootstrap refits as prediction intervals need them, checked against the law's theta length. */
export function readBootstrap(boot: { thetas?: unknown; confidence?: unknown } | undefined, thetaLength: number, source: string): { thetas: number[][]; confidence: number } | undefined {
  if (!boot) return undefined;
  const thetas = boot.thetas;
  const ok = Array.isArray(thetas) && thetas.every((t) => Array.isArray(t) && t.length === thetaLength && t.every((v) => typeof v === 'number' && Number.isFinite(v)));
  if (!ok) throw mismatch(`${source}: bootstrap.thetas`, `arrays of ${thetaLength} finite numbers`, 'something else');
  const confidence = boot.confidence as number;
  if (!(confidence > 0 && confidence < 1)) throw mismatch(`${source}: bootstrap.confidence`, 'a number between 0 and 1', String(confidence));
  return { thetas: thetas as number[][], confidence };
}

/** Reads a law file's text into an estimate for prediction and planning; one-line errors name the field. */
export function parseLawFile(text: string, source: string): LawEstimate & { file: LawFile } {
  const file = readLawJson(text, source) as Partial<LawFile>;
  const law = getLaw(String(file.law));
  let theta: number[];
  try {
    theta = paramsToTheta(law, (file.params ?? {}) as Record<string, number>);
  } catch (err) {
    throw mismatch(`${source}: params`, `numbers ${law.paramNames.join(', ')}`, (err as Error).message);
  }
  const bootstrap = readBootstrap(file.bootstrap, theta.length, source);
  return { law: law.name, theta, file: file as LawFile, ...(bootstrap ? { bootstrap } : {}) };
}
