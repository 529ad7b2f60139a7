/** Test helpers: a small corpus on which the loss falls within a few steps, and a plan written beside it. */
import * as fs from 'node:fs';
import * as path from 'node:path';

const words = 'the jury said it did find that many of the city laws were outdated and should be revised by the council'.split(' ');
export const testCorpus = Array.from({ length: 1500 }, (_, i) => words[(i * 7 + (i >> 3)) % words.length]).join(' ');

/** Writes `dir/corpus.txt` and `dir/plan.json` (the plan's corpus is corpus.txt, its out dir/out); returns the plan file. */
export function writeTestPlan(dir: string, plan: object): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'corpus.txt'), testCorpus);
  const file = path.join(dir, 'plan.json');
  fs.writeFileSync(file, JSON.stringify({ corpus: 'corpus.txt', out: path.join(dir, 'out'), ...plan }));
  return file;
}
