/**
 * The run's loss curve as one self-contained HTML page (inline SVG, no scripts, no network), so it
 * opens anywhere a browser does and survives being copied out of the run directory. Redrawn at every
 * evaluation and checkpoint; written to a temporary name and renamed so a reader never sees half a page.
 */
import { renameSync, writeFileSync } from 'node:fs';

export interface Series {
  name: string;
  color: string;
  points: { step: number; value: number }[];
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** "Nice" tick values covering [lo, hi]: steps of 1, 2 or 5 times a power of ten. */
export function niceTicks(lo: number, hi: number, target = 6): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Every k-th point (and the last), so that at most about `max` remain. */
function thin<T>(points: T[], max: number): T[] {
  if (points.length <= max) return points;
  const k = Math.ceil(points.length / max);
  const out = points.filter((_, i) => i % k === 0);
  if ((points.length - 1) % k !== 0) out.push(points[points.length - 1]!);
  return out;
}

/** An SVG line chart of the series (x: step, y: value). */
export function lossCurveSvg(series: Series[], opts: { width?: number; height?: number; yLabel?: string } = {}): string {
  const W = opts.width ?? 860;
  const H = opts.height ?? 440;
  const m = { l: 64, r: 20, t: 16, b: 48 };
  // Long runs: at most ~2 points per pixel column, so the page stays small (and no giant spreads).
  series = series.map((s) => ({
    ...s,
    points: thin(
      s.points.filter((p) => Number.isFinite(p.value)),
      2 * W,
    ),
  }));
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (const s of series) {
    for (const p of s.points) {
      x0 = Math.min(x0, p.step);
      x1 = Math.max(x1, p.step);
      y0 = Math.min(y0, p.value);
      y1 = Math.max(y1, p.value);
    }
  }
  if (x0 === Infinity)
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><text x="20" y="30">no data yet</text></svg>`;
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  const pad = (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;
  x0 = Math.min(x0, 0);
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const sy = (y: number) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  );
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="#fff" stroke="#999"/>`);
  for (const t of niceTicks(y0, y1)) {
    const y = sy(t).toFixed(1);
    parts.push(
      `<line x1="${m.l}" x2="${W - m.r}" y1="${y}" y2="${y}" stroke="#eee"/><text x="${m.l - 6}" y="${y}" text-anchor="end" ` +
        `dominant-baseline="middle">${t}</text>`,
    );
  }
  for (const t of niceTicks(x0, x1)) {
    const x = sx(t).toFixed(1);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${m.t}" y2="${H - m.b}" stroke="#eee"/><text x="${x}" y="${H - m.b + 16}" ` +
        `text-anchor="middle">${t}</text>`,
    );
  }
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" text-anchor="middle">step</text>`);
  parts.push(
    `<text transform="translate(14 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(opts.yLabel ?? 'bits per byte')}</text>`,
  );
  series.forEach((s, i) => {
    const p = s.points.filter((q) => Number.isFinite(q.value));
    if (p.length === 0) return;
    const d = p.map((q, j) => `${j === 0 ? 'M' : 'L'}${sx(q.step).toFixed(1)},${sy(q.value).toFixed(1)}`).join('');
    parts.push(`<path d="${d}" fill="none" stroke="${esc(s.color)}" stroke-width="1.5"/>`);
    if (p.length <= 60)
      for (const q of p)
        parts.push(`<circle cx="${sx(q.step).toFixed(1)}" cy="${sy(q.value).toFixed(1)}" r="2.5" fill="${esc(s.color)}"/>`);
    const ly = m.t + 14 + i * 16;
    parts.push(
      `<line x1="${W - m.r - 150}" x2="${W - m.r - 130}" y1="${ly}" y2="${ly}" stroke="${esc(s.color)}" stroke-width="2"/><text ` +
        `x="${W - m.r - 124}" y="${ly}" dominant-baseline="middle">${esc(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** A complete HTML page: title, the chart, and a small table of facts (config, last values). */
export function lossCurveHtml(title: string, series: Series[], facts: Record<string, string | number> = {}, yLabel?: string): string {
  const rows = Object.entries(facts)
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(String(v))}</td></tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin-top:16px}\
th,td{text-align:left;padding:2px 12px 2px 0;font-size:13px}th{color:#555;font-weight:normal}</style>
</head><body>
<h1 style="font-size:18px">${esc(title)}</h1>
${lossCurveSvg(series, { yLabel })}
<table>
${rows}
</table>
</body></html>
`;
}

/** Writes the page atomically (temporary file, then rename). */
export function writeLossCurve(
  path: string,
  title: string,
  series: Series[],
  facts: Record<string, string | number> = {},
  yLabel?: string,
): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, lossCurveHtml(title, series, facts, yLabel));
  renameSync(tmp, path);
}
