// Shared by the bench sections that run several seeds: medians and ranges, curve reading, and the plot
// of every seed's eval curve (one colour per run, one line per seed). Not a section itself (bench.mjs
// runs only tools/bench/*.mjs).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Seeds from an environment variable (default 0,1,2). */
export const seedsFrom = (name) => (process.env[name] ?? '0,1,2').split(',').map(Number);

/** Median of numbers (undefined counts as the worst: +Infinity for losses, -Infinity for savings, as `worst` says). */
export function median(xs, worst = Infinity) {
  const s = xs.map((x) => (x === undefined || x === null ? worst : x)).sort((a, b) => a - b);
  const n = s.length;
  const m = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  return Number.isFinite(m) ? m : undefined;
}

/** "1.2% (0.8 to 1.9)" for a list of values with a formatter; `missing` (default "not reached") for undefined entries. */
export function medianRange(xs, fmt, worst = Infinity, missing = 'not reached') {
  const m = median(xs, worst);
  const seen = xs.filter((x) => x !== undefined && x !== null);
  const lo = seen.length === xs.length ? Math.min(...seen) : undefined;
  const hi = seen.length ? Math.max(...seen) : undefined;
  const f = (x) => (x === undefined ? missing : fmt(x));
  if (xs.length === 1) return f(xs[0] ?? undefined);
  const range = worst === Infinity ? [lo, seen.length === xs.length ? hi : undefined] : [seen.length === xs.length ? lo : undefined, hi];
  // All seeds alike (as formatted): the value once.
  if (f(range[0]) === f(range[1]) && f(range[0]) === f(m)) return f(m);
  return `${f(m)} (${f(range[0])} to ${f(range[1])})`;
}

/** FLOPs (or any x) at which an eval curve [{x, y}] first reaches `loss`, linear between evaluations. */
export function reach(curve, loss) {
  for (let i = 0; i < curve.length; i++) {
    if (curve[i].y > loss) continue;
    if (i === 0) return curve[0].x;
    const a = curve[i - 1];
    const b = curve[i];
    return a.x + ((a.y - loss) / (a.y - b.y)) * (b.x - a.x);
  }
  return undefined;
}

export const pct = (x, digits = 1) => `${(100 * x).toFixed(digits)}%`;

/**
 * Eval loss against `axis` ('flops' or 'tokens') for runs [{ name, seed, evals: [{flops, tokens, evalLoss}] }]:
 * colour by run name, one line per seed; a dashed reference line at `goal` if given. Written as SVG.
 */
export async function plotSeeds(file, runs, axis, title, subtitle, goal) {
  const cliRequire = createRequire(path.join(root, 'packages/cli/package.json'));
  const vega = await import(pathToFileURL(cliRequire.resolve('vega')).href);
  const { compile } = await import(pathToFileURL(cliRequire.resolve('vega-lite')).href);
  const rows = runs.flatMap((r) => r.evals.map((e) => ({ run: r.name, seed: `${r.name} ${r.seed}`, x: e[axis], loss: e.evalLoss })));
  const names = [...new Set(runs.map((r) => r.name))];
  const losses = rows.map((r) => r.loss).sort((a, b) => a - b);
  const lo = Math.floor((goal ?? losses[0]) * 10 - 1) / 10;
  // The top of the y axis: the loss early on (the 10th percentile of the first evaluations), so the ends are legible.
  const firsts = runs.map((r) => r.evals[Math.min(1, r.evals.length - 1)].evalLoss).sort((a, b) => a - b);
  const hi = Math.ceil(firsts[Math.floor(firsts.length / 2)] * 10) / 10;
  const xs = rows.map((r) => r.x);
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle },
    width: 640,
    height: 380,
    background: 'white',
    layer: [
      {
        data: { values: rows },
        mark: { type: 'line', point: { filled: true, size: 12 }, strokeWidth: 1.2, opacity: 0.85, clip: true },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: axis === 'flops' ? 'training FLOPs' : 'training tokens', scale: { type: axis === 'flops' ? 'log' : 'linear', nice: false }, axis: { format: '~s' } },
          y: { field: 'loss', type: 'quantitative', title: 'eval loss (nats/token)', scale: { zero: false, domain: [lo, hi], clamp: true } },
          color: { field: 'run', type: 'nominal', title: null, sort: names, scale: { scheme: 'tableau10' }, legend: { orient: 'bottom', columns: 1, labelLimit: 600 } },
          detail: { field: 'seed', type: 'nominal' },
        },
      },
      ...(goal === undefined
        ? []
        : [
            {
              data: { values: [{ x: Math.min(...xs), loss: goal }, { x: Math.max(...xs), loss: goal }] },
              mark: { type: 'line', strokeDash: [5, 4], color: 'gray' },
              encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'loss', type: 'quantitative' } },
            },
          ]),
    ],
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  fs.writeFileSync(file, await view.toSVG());
  view.finalize();
}
