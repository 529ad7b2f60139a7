import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from '@efficientscale/core';

export interface ChartPoint {
  x: number;
  y: number;
}

export interface ChartSeries {
  name: string;
  points: readonly ChartPoint[];
  /** 'line' joins the points in x order; 'point' draws them as dots. */
  mark: 'line' | 'point';
  /** Dashed line (e.g. a reference such as y = x). */
  dashed?: boolean;
  /** A number to colour by, when the chart has a `colorScale` (e.g. the model size of a curve). */
  value?: number;
}

export interface LineChart {
  title: string;
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
}

/** Renders a chart of lines and points to an SVG string (Vega-Lite, rendered headlessly). */
export async function lineChartSvg(chart: LineChart): Promise<string> {
  const rows = chart.series.flatMap((s, order) =>
    s.points
      .filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!chart.logX || p.x > 0) && (!chart.logY || p.y > 0))
      .map((p) => ({ x: p.x, y: p.y, series: s.name, mark: s.mark, order, dashed: s.dashed ? 1 : 0, value: s.value })),
  );
  const names = [...new Set(chart.series.map((s) => s.name))];
  // Log axes span the data (not whole decades) and label with SI prefixes (2G rather than 2,000,000,000).
  const axis = (title: string, log?: boolean) => ({
    title,
    scale: log ? { type: 'log' as const, nice: false } : { zero: false },
    axis: log ? { format: '~s', labelOverlap: 'greedy' as const } : {},
  });
  const encoding = {
    x: { field: 'x', type: 'quantitative' as const, ...axis(chart.xLabel, chart.logX) },
    y: { field: 'y', type: 'quantitative' as const, ...axis(chart.yLabel, chart.logY) },
    color: chart.colorScale
      ? { field: 'value', type: 'quantitative' as const, title: chart.colorScale.title, scale: { type: chart.colorScale.log ? ('log' as const) : ('linear' as const), scheme: 'viridis' }, legend: { format: '~s' } }
      : { field: 'series', type: 'nominal' as const, title: null, sort: names, scale: { scheme: 'tableau10' } },
    detail: { field: 'series', type: 'nominal' as const },
  };
  const layer = (mark: 'line' | 'point') => ({
    transform: [{ filter: { field: 'mark', equal: mark } }],
    mark: mark === 'line' ? { type: 'line' as const, strokeWidth: 1.5 } : { type: 'point' as const, filled: true, size: 18, opacity: 0.7 },
    encoding:
      mark === 'line'
        ? { ...encoding, strokeDash: { field: 'dashed', type: 'nominal' as const, legend: null, scale: { domain: [0, 1], range: [[1, 0], [5, 4]] } } }
        : encoding,
  });
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: chart.title,
    width: chart.width ?? 560,
    height: chart.height ?? 380,
    background: 'white',
    data: { values: rows },
    layer: (['line', 'point'] as const).filter((m) => chart.series.some((s) => s.mark === m)).map(layer),
  } as TopLevelSpec;
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Renders `chart` and writes it to `path` as SVG (atomically). */
export async function writeLineChartSvg(path: string, chart: LineChart): Promise<void> {
  writeFileAtomic(path, await lineChartSvg(chart));
}
