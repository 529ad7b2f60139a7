import type { TopLevelSpec } from 'vega-lite';

// vega, vega-lite and core are loaded when a chart is drawn, not when the CLI starts: they take most of its
// start-up time, and vega's top-level await would keep `require('@efficientscale/cli')` from loading.
// vega and vega-lite are optional peer dependencies (30 MB, 76 packages, for a few charts): without them
// a requested plot is refused in one line before any work, and automatic plots are skipped with one line.

/** What to install to draw plots. */
const PLOT_PACKAGES = 'the optional packages vega and vega-lite (npm i vega vega-lite)';

type Vega = { vega: typeof import('vega'); compile: typeof import('vega-lite').compile };
let vegaLoaded: Promise<Vega | undefined> | undefined;
/** The note about missing plots is said once per process. */
let noted = false;

/** vega and vega-lite, or undefined when either is not installed. */
function loadVega(): Promise<Vega | undefined> {
  vegaLoaded ??= Promise.all([import('vega'), import('vega-lite')]).then(
    ([vega, { compile }]) => ({ vega, compile }),
    (err: NodeJS.ErrnoException) => {
      if ((err.code === 'ERR_MODULE_NOT_FOUND' || err.code === 'MODULE_NOT_FOUND') && /vega/.test(err.message)) return undefined;
      throw err;
    },
  );
  return vegaLoaded;
}

/** Refuses, in one line, a plot the user asked for (`what`: the flag or command) when vega is not installed. */
export async function assertPlotting(what: string): Promise<void> {
  if (await loadVega()) return;
  const { mismatch } = await import('@efficientscale/core');
  throw mismatch(what, `${PLOT_PACKAGES} to draw plots`, 'them not installed');
}

/** An automatic plot: draws it when vega is installed, else says in one line on stderr that it did not. */
export async function writeLineChartSvgIfPlotting(path: string, chart: LineChart): Promise<boolean> {
  if (!(await loadVega())) {
    if (!noted) process.stderr.write(`note: plots are not drawn (${path}, …): they need ${PLOT_PACKAGES}\n`);
    noted = true;
    return false;
  }
  await writeLineChartSvg(path, chart);
  return true;
}

export interface ChartPoint {
  x: number;
  y: number;
  /** The other edge of a band (mark 'band' only: the band spans y to y2). */
  y2?: number;
}

export interface ChartSeries {
  name: string;
  points: readonly ChartPoint[];
  /** 'line' joins the points in x order; 'point' draws them as dots; 'band' shades from y to y2. */
  mark: 'line' | 'point' | 'band';
  /** Dashed line (e.g. a reference such as y = x). */
  dashed?: boolean;
  /** A number to colour by, when the chart has a `colorScale` (e.g. the model size of a curve). */
  value?: number;
}

export interface LineChart {
  title: string;
  /** A second, smaller title line (what the marks mean). */
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  logX?: boolean;
  logY?: boolean;
  series: readonly ChartSeries[];
  width?: number;
  height?: number;
  /**
   * Colour series by their `value` on a continuous scale with a gradient legend, instead of one legend
   * entry per series (which cannot show dozens of model sizes).
   */
  colorScale?: { title: string; log?: boolean };
  /** Axes whose values are counts (parameters, tokens): labelled 10B, 300M, 20k rather than SI 10G. */
  countAxes?: { x?: boolean; y?: boolean; color?: boolean };
}

/** Most legend entries a colour scale lists; more real values are thinned evenly (smallest and largest kept). */
const MAX_LEGEND_VALUES = 8;

/** Up to `max` of the sorted distinct values, evenly spread, always keeping the first and last. */
export function legendValues(values: readonly number[], max = MAX_LEGEND_VALUES): number[] {
  const sorted = [...new Set(values)].sort((a, b) => a - b);
  if (sorted.length <= max) return sorted;
  return [...new Set(Array.from({ length: max }, (_, i) => sorted[Math.round((i * (sorted.length - 1)) / (max - 1))]))];
}

/** A Vega expression labelling counts with T/B/M/k (10B, not the SI 10G), three significant digits. */
const COUNT_LABEL =
  "abs(datum.value) >= 1e12 ? format(datum.value / 1e12, '.3~g') + 'T' : abs(datum.value) >= 1e9 ? format(datum.value / 1e9, '.3~g') + 'B' : " +
  "abs(datum.value) >= 1e6 ? format(datum.value / 1e6, '.3~g') + 'M' : abs(datum.value) >= 1e3 ? format(datum.value / 1e3, '.3~g') + 'k' : format(datum.value, '.3~g')";

/** The same labels in TypeScript (legend titles, series names): 10B, 300M, 20k, 512. */
export function countLabel(x: number): string {
  const units: [number, string][] = [[1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'k']];
  const [scale, unit] = units.find(([u]) => Math.abs(x) >= u) ?? [1, ''];
  return `${Number((x / scale).toPrecision(3))}${unit}`;
}

/**
 * The y range of the lines and points alone, when the chart has bands: a bootstrap band of a poorly
 * identified fit can span decades and would flatten the data into one line; it is clipped instead.
 */
function bandFreeDomain(rows: { y: number; mark: string }[], log?: boolean): [number, number] | undefined {
  if (!rows.some((r) => r.mark === 'band')) return undefined;
  const ys = rows.filter((r) => r.mark !== 'band').map((r) => r.y);
  if (!ys.length) return undefined;
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  if (log) return [lo / 1.05, hi * 1.05];
  const pad = (hi - lo) * 0.05 || Math.abs(hi) * 0.05 || 1;
  return [lo - pad, hi + pad];
}

/** Renders a chart of lines and points to an SVG string (Vega-Lite, rendered headlessly). */
export async function lineChartSvg(chart: LineChart): Promise<string> {
  const ok = (v: number | undefined, log?: boolean) => v !== undefined && Number.isFinite(v) && (!log || v > 0);
  const rows = chart.series.flatMap((s, order) =>
    s.points
      .filter((p) => ok(p.x, chart.logX) && ok(p.y, chart.logY) && (s.mark !== 'band' || ok(p.y2, chart.logY)))
      .map((p) => ({ x: p.x, y: p.y, y2: p.y2, series: s.name, mark: s.mark, order, dashed: s.dashed ? 1 : 0, value: s.value })),
  );
  const names = [...new Set(chart.series.map((s) => s.name))];
  // Log axes span the data (not whole decades); SI prefixes (2G rather than 2,000,000,000), or B/M/k on count axes.
  const axis = (title: string, log?: boolean, count?: boolean) => ({
    title,
    scale: log ? { type: 'log' as const, nice: false } : { zero: false },
    axis: count ? { labelExpr: COUNT_LABEL, labelOverlap: 'greedy' as const } : log ? { format: '~s', labelOverlap: 'greedy' as const } : {},
  });
  const count = chart.countAxes ?? {};
  // A continuous colour scale lists the values that occur (real model sizes), not round numbers between them.
  const values = legendValues(chart.series.flatMap((s) => (s.value === undefined ? [] : [s.value])));
  const yAxis = axis(chart.yLabel, chart.logY, count.y);
  const yDomain = bandFreeDomain(rows, chart.logY);
  const encoding = {
    x: { field: 'x', type: 'quantitative' as const, ...axis(chart.xLabel, chart.logX, count.x) },
    y: { field: 'y', type: 'quantitative' as const, ...yAxis, scale: yDomain ? { ...yAxis.scale, domain: yDomain } : yAxis.scale },
    color: chart.colorScale
      ? {
          field: 'value',
          type: 'quantitative' as const,
          title: chart.colorScale.title,
          scale: { type: chart.colorScale.log ? ('log' as const) : ('linear' as const), scheme: 'viridis' },
          legend: { type: 'symbol' as const, values, symbolType: 'circle', symbolOpacity: 1, ...(count.color ? { labelExpr: COUNT_LABEL } : { format: '~s' }) },
        }
      : { field: 'series', type: 'nominal' as const, title: null, sort: names, scale: { scheme: 'tableau10' } },
    detail: { field: 'series', type: 'nominal' as const },
  };
  const layer = (mark: 'line' | 'point' | 'band') => ({
    transform: [{ filter: { field: 'mark', equal: mark } }],
    mark:
      mark === 'line'
        ? { type: 'line' as const, strokeWidth: 1.5 }
        : mark === 'band'
          ? { type: 'area' as const, opacity: 0.18, clip: true }
          : { type: 'point' as const, filled: true, size: 18, opacity: 0.7 },
    encoding:
      mark === 'line'
        ? { ...encoding, strokeDash: { field: 'dashed', type: 'nominal' as const, legend: null, scale: { domain: [0, 1], range: [[1, 0], [5, 4]] } } }
        : mark === 'band'
          ? { ...encoding, y2: { field: 'y2' } }
          : encoding,
  });
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: chart.subtitle ? { text: chart.title, subtitle: chart.subtitle } : chart.title,
    width: chart.width ?? 560,
    height: chart.height ?? 380,
    background: 'white',
    data: { values: rows },
    layer: (['band', 'line', 'point'] as const).filter((m) => chart.series.some((s) => s.mark === m)).map(layer),
  } as TopLevelSpec;
  const loaded = await loadVega();
  if (!loaded) {
    await assertPlotting('plot');
    throw new Error('unreachable: assertPlotting refuses without vega');
  }
  const { vega, compile } = loaded;
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Renders `chart` and writes it to `path` as SVG (atomically). */
export async function writeLineChartSvg(path: string, chart: LineChart): Promise<void> {
  const svg = await lineChartSvg(chart);
  const { writeFileAtomic } = await import('@efficientscale/core/node');
  writeFileAtomic(path, svg);
}
