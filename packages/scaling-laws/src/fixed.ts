import { mismatch } from './errors.js';

/**
 * Which parameters to hold fixed, from `--fix alpha=0.34,beta=0.28` and/or a prior fit's parameters.
 * A name without a value (`--fix alpha`) takes the prior's value; with a prior and no spec, the
 * prior's exponents (alpha, beta) are fixed, the part of a law that transfers between setups.
 */
export function resolveFixed(spec: string | undefined, prior?: { source: string; params: Readonly<Record<string, number>> }): Record<string, number> {
  const out: Record<string, number> = {};
  if (spec === undefined || spec.trim() === '') {
    if (!prior) return out;
    for (const name of ['alpha', 'beta']) if (name in prior.params) out[name] = prior.params[name];
    if (Object.keys(out).length === 0) throw mismatch(`${prior.source}: params`, 'an exponent alpha or beta to fix', Object.keys(prior.params).join(', '));
    return out;
  }
  for (const item of spec.split(',')) {
    const m = /^\s*([A-Za-z]\w*)\s*(?:=\s*(\S+))?\s*$/.exec(item);
    if (!m) throw mismatch('--fix', 'name=value pairs such as alpha=0.34,beta=0.28', JSON.stringify(item));
    const [, name, text] = m;
    if (text === undefined) {
      if (!prior) throw mismatch(`--fix ${name}`, 'a value (name=value) or --prior law.json', 'neither');
      if (!(name in prior.params)) throw mismatch(`--fix ${name}: ${prior.source}`, `a parameter ${name}`, Object.keys(prior.params).join(', '));
      out[name] = prior.params[name];
    } else {
      const value = Number(text);
      if (!Number.isFinite(value)) throw mismatch(`--fix ${name}`, 'a number', JSON.stringify(text));
      out[name] = value;
    }
  }
  return out;
}
