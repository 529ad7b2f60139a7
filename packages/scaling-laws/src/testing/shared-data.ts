import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The shared data directory that sits beside the repository (`../shared/data` from the repo root). */
export const SHARED_DATA = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../../shared/data');

export const CHINCHILLA_CSV = resolve(SHARED_DATA, 'chinchilla/svg_extracted_data.csv');
export const GPT3_CSV = resolve(SHARED_DATA, 'scaling-dev/gpt3_curves.csv');
export const OPT_CSV = resolve(SHARED_DATA, 'scaling-dev/opt_trajectories.csv');

if (!existsSync(CHINCHILLA_CSV)) {
  throw new Error(`shared data: expected ${CHINCHILLA_CSV} (the repository's ../shared checkout), found nothing`);
}
