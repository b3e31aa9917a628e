/**
 * compress.py's evaluation, for any Compressor: the chunked rate (every chunk compressed on its own; for
 * classical compressors the fixed header, the length of compressing one zero byte, is counted once:
 * compressed -= header * (chunks - 1)) and the unchunked rate (the chunks concatenated, compressed once),
 * each with the time spent inside the compressor.
 */
import { silentProgress, type ProgressSink } from '../util/progress.js';
import type { CompressContext, Compressor } from './compressor.js';

export interface RateResult {
  /** Compressed bytes / raw bytes. */
  rate: number;
  compressedBytes: number;
  seconds: number;
}

export interface EvalResult {
  compressor: string;
  kind: 'classical' | 'lm';
  chunks: number;
  rawBytes: number;
  /** Header bytes counted once (classical only). */
  headerBytes: number;
  chunked: RateResult;
  /** Classical compressors only (LMIC evaluates LMs chunked only). */
  unchunked?: RateResult;
  /** Extra figures a compressor reports (the LM's ideal rate, coder overhead, workers). */
  extra?: Record<string, number | string>;
}

/** A compressor that codes many chunks at once (the LM, on worker threads), reporting per-chunk sizes. */
export interface BatchCompressor extends Compressor {
  compressChunks(
    chunks: Uint8Array[],
    ctx: CompressContext,
    progress: ProgressSink,
  ): Promise<{ sizes: number[]; seconds: number; extra?: Record<string, number | string> }>;
}

function isBatch(c: Compressor): c is BatchCompressor {
  return typeof (c as Partial<BatchCompressor>).compressChunks === 'function';
}

export interface EvaluateOptions {
  /** Also measure the unchunked rate (classical compressors; default true). */
  unchunked?: boolean;
  progress?: ProgressSink;
}

export async function evaluateCompressor(
  c: Compressor,
  chunks: Uint8Array[],
  ctx: CompressContext,
  opts: EvaluateOptions = {},
): Promise<EvalResult> {
  const progress = opts.progress ?? silentProgress;
  await c.init?.();
  const rawBytes = chunks.reduce((a, ch) => a + ch.length, 0);
  let compressed = 0;
  let seconds = 0;
  let extra: Record<string, number | string> | undefined;
  progress.start(chunks.length, c.name);
  try {
    if (isBatch(c)) {
      const r = await c.compressChunks(chunks, ctx, progress);
      compressed = r.sizes.reduce((a, b) => a + b, 0);
      seconds = r.seconds;
      extra = r.extra;
    } else {
      for (const ch of chunks) {
        const t0 = performance.now();
        const out = c.compress(ch, ctx);
        seconds += (performance.now() - t0) / 1000;
        compressed += out.length;
        progress.tick(1);
      }
    }
  } finally {
    progress.stop();
  }
  let headerBytes = 0;
  if (c.kind === 'classical' && chunks.length > 0) {
    headerBytes = c.compress(Uint8Array.of(0), ctx).length;
    compressed -= headerBytes * (chunks.length - 1);
  }
  const result: EvalResult = {
    compressor: c.name,
    kind: c.kind,
    chunks: chunks.length,
    rawBytes,
    headerBytes,
    chunked: { rate: rawBytes > 0 ? compressed / rawBytes : 0, compressedBytes: compressed, seconds },
  };
  if (extra) result.extra = extra;
  if (c.kind === 'classical' && opts.unchunked !== false && chunks.length > 0) {
    const all = new Uint8Array(rawBytes);
    let p = 0;
    for (const ch of chunks) {
      all.set(ch, p);
      p += ch.length;
    }
    const t0 = performance.now();
    const out = c.compress(all, ctx);
    const s = (performance.now() - t0) / 1000;
    result.unchunked = { rate: out.length / rawBytes, compressedBytes: out.length, seconds: s };
  }
  return result;
}

/** A plain-text table of results (rates in percent, as compress.py logs them). */
export function formatEvalTable(results: EvalResult[]): string {
  const rows = [['compressor', 'chunks', 'raw MB', 'chunked %', 'time s', 'unchunked %', 'time s']];
  for (const r of results) {
    rows.push([
      r.compressor,
      String(r.chunks),
      (r.rawBytes / 1e6).toFixed(2),
      (100 * r.chunked.rate).toFixed(1),
      r.chunked.seconds.toFixed(2),
      r.unchunked ? (100 * r.unchunked.rate).toFixed(1) : '-',
      r.unchunked ? r.unchunked.seconds.toFixed(2) : '-',
    ]);
  }
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ')).join('\n');
}

/** CSV with one row per compressor. */
export function formatEvalCsv(results: EvalResult[]): string {
  const head =
    'compressor,kind,chunks,raw_bytes,header_bytes,chunked_rate,chunked_bytes,chunked_seconds,' +
    'unchunked_rate,unchunked_bytes,unchunked_seconds';
  const lines = results.map((r) =>
    [
      r.compressor,
      r.kind,
      r.chunks,
      r.rawBytes,
      r.headerBytes,
      r.chunked.rate.toFixed(6),
      r.chunked.compressedBytes,
      r.chunked.seconds.toFixed(4),
      r.unchunked?.rate.toFixed(6) ?? '',
      r.unchunked?.compressedBytes ?? '',
      r.unchunked?.seconds.toFixed(4) ?? '',
    ]
      .map((v) => (typeof v === 'string' && /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : String(v)))
      .join(','),
  );
  return `${[head, ...lines].join('\n')}\n`;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A self-contained HTML page with an inline SVG bar chart of chunked and unchunked rates. */
export function evalChartHtml(results: EvalResult[], title = 'wavelm eval'): string {
  const barH = 14;
  const gap = 10;
  const left = 140;
  const width = 520;
  const rowH = 2 * barH + gap;
  const maxRate = Math.max(1, ...results.map((r) => Math.max(r.chunked.rate, r.unchunked?.rate ?? 0))) * 100;
  const scale = (v: number): number => (width * v) / maxRate;
  const h = 40 + results.length * rowH + 40;
  const parts: string[] = [];
  results.forEach((r, i) => {
    const y = 30 + i * rowH;
    parts.push(`<text x="${left - 8}" y="${y + barH + 4}" text-anchor="end">${esc(r.compressor)}</text>`);
    const c = 100 * r.chunked.rate;
    parts.push(
      `<rect x="${left}" y="${y}" width="${scale(c).toFixed(1)}" height="${barH}" fill="#4c72b0"><title>chunked ` +
        `${c.toFixed(2)}%</title></rect>`,
    );
    parts.push(`<text x="${left + scale(c) + 4}" y="${y + barH - 3}">${c.toFixed(1)}%</text>`);
    if (r.unchunked) {
      const u = 100 * r.unchunked.rate;
      parts.push(
        `<rect x="${left}" y="${y + barH}" width="${scale(u).toFixed(1)}" height="${barH}" fill="#dd8452"><title>unchunked ` +
          `${u.toFixed(2)}%</title></rect>`,
      );
      parts.push(`<text x="${left + scale(u) + 4}" y="${y + 2 * barH - 3}">${u.toFixed(1)}%</text>`);
    }
  });
  const axisY = 30 + results.length * rowH;
  for (let t = 0; t <= maxRate; t += maxRate > 60 ? 20 : 10) {
    parts.push(
      `<line x1="${left + scale(t)}" y1="25" x2="${left + scale(t)}" y2="${axisY}" stroke="#ddd"/><text x="${left + scale(t)}" ` +
        `y="${axisY + 14}" text-anchor="middle">${t}%</text>`,
    );
  }
  const legend =
    `<rect x="${left}" y="${h - 18}" width="10" height="10" fill="#4c72b0"/><text x="${left + 14}" y="${h - 9}">chunked (2048 B, ` +
    `header once)</text><rect x="${left + 230}" y="${h - 18}" width="10" height="10" fill="#dd8452"/><text x="${left + 244}" ` +
    `y="${h - 9}">unchunked</text>`;
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${left + width + 80}" height="${h}" font-family="sans-serif" ` +
    `font-size="12">${parts.join('')}${legend}</svg>`;
  return (
    `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title></head><body><h3>${esc(title)}</h3><p>Compression ` +
    `rate (compressed / raw, lower is better)</p>${svg}</body></html>\n`
  );
}
