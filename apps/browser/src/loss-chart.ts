/** The live loss chart: a plain SVG line of loss against step, with a marker where the model changed. */
export interface ChartPoint {
  step: number;
  loss: number;
}

export interface ChartMarker {
  step: number;
  label: string;
}

const W = 640;
const H = 240;
const PAD = { left: 48, right: 12, top: 12, bottom: 30 };

const niceTicks = (lo: number, hi: number, count: number): number[] => {
  const span = hi - lo || 1;
  const raw = span / count;
  const step = [1, 2, 5, 10].map((m) => m * 10 ** Math.floor(Math.log10(raw))).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) ticks.push(Number(t.toPrecision(6)));
  return ticks;
};

export function renderLossChart(svg: SVGSVGElement, points: ChartPoint[], markers: ChartMarker[]): void {
  if (points.length === 0) {
    svg.innerHTML = `<text x="${W / 2}" y="${H / 2}" text-anchor="middle" fill="#8a94a6" font-size="13">loss appears here while training</text>`;
    return;
  }
  const steps = points.map((p) => p.step);
  const losses = points.map((p) => p.loss);
  const x0 = Math.min(...steps, ...markers.map((m) => m.step));
  const x1 = Math.max(x0 + 1, ...steps);
  const y0 = Math.min(...losses);
  const y1 = Math.max(y0 + 1e-3, ...losses);
  const x = (s: number) => PAD.left + ((s - x0) / (x1 - x0)) * (W - PAD.left - PAD.right);
  const y = (l: number) => H - PAD.bottom - ((l - y0) / (y1 - y0)) * (H - PAD.top - PAD.bottom);
  const parts: string[] = [];
  for (const t of niceTicks(y0, y1, 4)) {
    parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(t)}" y2="${y(t)}" stroke="#e6e9ef"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${y(t) + 4}" text-anchor="end" font-size="11" fill="#5b6475">${t}</text>`);
  }
  for (const t of niceTicks(x0, x1, 6).filter((t) => Number.isInteger(t))) {
    parts.push(`<text x="${x(t)}" y="${H - PAD.bottom + 15}" text-anchor="middle" font-size="11" fill="#5b6475">${t}</text>`);
  }
  parts.push(`<text x="${(PAD.left + W - PAD.right) / 2}" y="${H - 3}" text-anchor="middle" font-size="11" fill="#5b6475">step</text>`);
  parts.push(`<text x="12" y="${(PAD.top + H - PAD.bottom) / 2}" text-anchor="middle" font-size="11" fill="#5b6475" transform="rotate(-90 12 ${(PAD.top + H - PAD.bottom) / 2})">loss (nats/token)</text>`);
  for (const m of markers) {
    parts.push(`<line x1="${x(m.step)}" x2="${x(m.step)}" y1="${PAD.top}" y2="${H - PAD.bottom}" stroke="#c2410c" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${x(m.step) + 4}" y="${PAD.top + 11}" font-size="11" fill="#c2410c">${m.label}</text>`);
  }
  const line = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.step).toFixed(1)},${y(p.loss).toFixed(1)}`).join(' ');
  parts.push(`<path d="${line}" fill="none" stroke="#2563eb" stroke-width="1.8"/>`);
  if (points.length === 1) parts.push(`<circle cx="${x(points[0].step)}" cy="${y(points[0].loss)}" r="3" fill="#2563eb"/>`);
  svg.innerHTML = parts.join('');
}
