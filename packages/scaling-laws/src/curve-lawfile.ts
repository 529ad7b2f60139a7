import { mismatch } from './errors.js';
import { curveTheta, getCurveLaw, isCurveLawName, type CurveLawName } from './curve-laws.js';
import type { CurveBootstrapResult } from './curve-bootstrap.js';
import type { FittedCurveLaw } from './curve-fit.js';
import type { CurveLawEstimate } from './curve-predict.js';
import { LAW_FILE_FORMAT, LAW_FILE_VERSION, readBootstrap, readLawJson } from './lawfile.js';

/** The JSON `efficientscale fit --law annealing|multipower --out law.json` writes; same format tag as the point laws. */
export interface CurveLawFile {
  format: typeof LAW_FILE_FORMAT;
  version: typeof LAW_FILE_VERSION;
  law: CurveLawName;
  formula: string;
  joint: boolean;
  /** Natural parameters; theta is recomputed from these when the file is read. */
  params: Record<string, number>;
  fit: Omit<FittedCurveLaw, 'law' | 'formula' | 'params' | 'theta' | 'joint'>;
  bootstrap?: CurveBootstrapResult;
}

export function toCurveLawFile(fit: FittedCurveLaw, bootstrap?: CurveBootstrapResult): CurveLawFile {
  const { law, formula, params, joint, theta: _theta, ...rest } = fit;
  return { format: LAW_FILE_FORMAT, version: LAW_FILE_VERSION, law, formula, joint, params, fit: rest, ...(bootstrap ? { bootstrap } : {}) };
}

/** Whether a parsed law file holds a curve law (annealing, multipower) rather than a point law. */
export function isCurveLawFile(raw: unknown): boolean {
  return typeof raw === 'object' && raw !== null && typeof (raw as { law?: unknown }).law === 'string' && isCurveLawName((raw as { law: string }).law);
}

/** Reads a curve law file's text into an estimate for predictCurve; one-line errors name the field. */
export function parseCurveLawFile(text: string, source: string): CurveLawEstimate & { file: CurveLawFile } {
  const file = readLawJson(text, source) as Partial<CurveLawFile>;
  if (!isCurveLawName(String(file.law))) throw mismatch(`${source}: law`, 'a whole-curve law (annealing or multipower)', JSON.stringify(file.law));
  const law = getCurveLaw(String(file.law));
  if (typeof file.joint !== 'boolean') throw mismatch(`${source}: joint`, 'true or false', JSON.stringify(file.joint));
  if (!Array.isArray(file.fit?.runs)) throw mismatch(`${source}: fit.runs`, 'the runs the law was fitted on', JSON.stringify(file.fit?.runs));
  const theta = curveTheta(law, file.joint, (file.params ?? {}) as Record<string, number>, source);
  const bootstrap = readBootstrap(file.bootstrap, theta.length, source);
  return { law: law.name, joint: file.joint, theta, file: file as CurveLawFile, ...(bootstrap ? { bootstrap } : {}) };
}
