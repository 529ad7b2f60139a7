/**
 * The unigram entropy of a token stream: the loss (nats/token) of a model that knows only how
 * often each token occurs. A trained language model must beat it to have learned any context.
 */
import { mismatch } from '../errors.js';

export function unigramEntropy(ids: Int32Array, vocabSize: number): number {
  if (ids.length === 0) throw mismatch('token ids', 'at least one token', 'none');
  const counts = new Float64Array(vocabSize);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (id < 0 || id >= vocabSize) throw mismatch(`token id at position ${i}`, `an id in [0, ${vocabSize})`, String(id));
    counts[id]++;
  }
  let entropy = 0;
  for (const c of counts) {
    if (c > 0) {
      const p = c / ids.length;
      entropy -= p * Math.log(p);
    }
  }
  return entropy;
}
