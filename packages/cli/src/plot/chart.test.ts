import { describe, expect, it } from 'vitest';
import { countLabel, legendValues, lineChartSvg } from './chart.js';

/** The text of every SVG element of a Vega role (axis labels, legend labels, ...). */
function texts(svg: string, role: string): string[] {
  const group = new RegExp(`class="mark-text role-${role}"[^]*?</g>`, 'g');
  return (svg.match(group) ?? []).flatMap((g) => [...g.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]));
}

describe('chart labels', () => {
  it('labels counts with T/B/M/k, never the SI G', () => {
    expect([1e10, 7e10, 1.75e11, 3e8, 5.73e7, 2e4, 512, 1.4e12].map(countLabel)).toEqual(['10B', '70B', '175B', '300M', '57.3M', '20k', '512', '1.4T']);
  });

  it('lists at most 8 real values in a legend, keeping the smallest and largest', () => {
    expect(legendValues([3, 1, 2, 2])).toEqual([1, 2, 3]);
    const many = Array.from({ length: 42 }, (_, i) => 1e7 * 1.2 ** i);
    const picked = legendValues(many);
    expect(picked).toHaveLength(8);
    expect(picked[0]).toBe(many[0]);
    expect(picked[7]).toBe(many[41]);
    expect(picked.every((v) => many.includes(v))).toBe(true);
  });
});

describe('lineChartSvg', () => {
  const sizes = [2e7, 6e8, 1e10];
  const series = sizes.flatMap((N) => {
    const pts = [1e9, 1e10, 1e11].map((D) => ({ x: D, y: 1.9 + 400 / N ** 0.33 + 1500 / D ** 0.35 }));
    return [
      { name: `N=${N}`, value: N, mark: 'band' as const, points: pts.map((p) => ({ x: p.x, y: p.y * 0.99, y2: p.y * 1.01 })) },
      { name: `N=${N}`, value: N, mark: 'line' as const, points: pts },
    ];
  });
  const chart = { title: 't', subtitle: 'what the marks mean', xLabel: 'training tokens D', yLabel: 'loss (nats/token)', logX: true, logY: true };

  it('draws bands, count axes and a legend of the real sizes only', async () => {
    const svg = await lineChartSvg({ ...chart, series, colorScale: { title: 'parameters N', log: true }, countAxes: { x: true, color: true } });
    expect(svg).toContain('class="mark-area');
    expect(texts(svg, 'legend-label')).toEqual(['20M', '600M', '10B']);
    expect(texts(svg, 'axis-title')).toEqual(['training tokens D', 'loss (nats/token)']);
    const xLabels = texts(svg, 'axis-label').filter((t) => /[a-zA-Z]$/.test(t));
    expect(xLabels).toContain('10B');
    expect(svg).not.toMatch(/>\d+(\.\d+)?G</);
    expect(svg).toContain('what the marks mean');
  });

  it('sets the y axis by the lines and points, clipping a band that spans decades', async () => {
    const wide = series.map((s) => (s.mark === 'band' ? { ...s, points: s.points.map((p) => ({ ...p, y: p.y / 1e3, y2: p.y * 1e6 })) } : s));
    const svg = await lineChartSvg({ ...chart, series: wide });
    const yMax = Math.max(...series.flatMap((s) => s.points.map((p) => p.y)));
    const labels = texts(svg, 'axis-label').map((t) => Number(t.replace(/k$/, 'e3').replace(/M$/, 'e6'))).filter(Number.isFinite);
    expect(Math.max(...labels)).toBeLessThan(yMax * 1.5);
    expect(svg).toContain('class="mark-area');
  });

  it('keeps SI labels and draws no band where none is given', async () => {
    const svg = await lineChartSvg({ ...chart, series: series.filter((s) => s.mark === 'line') });
    expect(svg).not.toContain('class="mark-area');
    expect(svg).toMatch(/>10G</);
  });
});
