/** A feature matrix drawn as a PNG: one column per frame, row 0 (lowest frequency or coefficient) at the bottom. */
import { ConfigError } from '../util/errors.js';
import { colormapTable, encodePng, type Colormap } from '../util/png.js';
import type { FeatureMatrix } from './defaults.js';
import { powerToDb } from './power-to-db.js';

/** What the values are: dB already, power (|X|^2), or anything else, which is drawn as a magnitude. */
export type SpectrogramScale = 'db' | 'power' | 'magnitude';

export interface SpectrogramImageOptions {
  scale: SpectrogramScale;
  /** Colours (default 'magma'). */
  colormap?: Colormap;
}

/** Values in dB and the range the colours span: dB values their own min..max; power and magnitude 80 dB below the peak. */
function decibels(m: FeatureMatrix, scale: SpectrogramScale): { db: Float32Array; lo: number; hi: number } {
  if (scale === 'db') {
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of m.data) {
      hi = Math.max(hi, x);
      lo = Math.min(lo, x);
    }
    return { db: m.data, lo, hi };
  }
  const power = scale === 'power' ? m : { data: m.data.map((x) => x * x), shape: m.shape };
  return { db: powerToDb(power, { ref: 'max', topDb: 80 }).data, lo: -80, hi: 0 };
}

/** The matrix as an RGB PNG, its dB values mapped linearly onto the colormap. */
export function spectrogramPng(m: FeatureMatrix, opts: SpectrogramImageOptions): Uint8Array {
  const [rows, cols] = m.shape;
  if (rows === 0 || cols === 0)
    throw new ConfigError(`spectrogram image: the matrix is ${rows}x${cols}, nothing to draw`, { subject: `${rows}x${cols}` });
  const { db, lo, hi } = decibels(m, opts.scale);
  const span = hi - lo || 1;
  const table = colormapTable(opts.colormap ?? 'magma');
  const data = new Uint8Array(rows * cols * 3);
  for (let r = 0; r < rows; r++) {
    const y = rows - 1 - r;
    for (let c = 0; c < cols; c++) {
      const level = Math.max(0, Math.min(255, Math.round(((db[r * cols + c]! - lo) / span) * 255)));
      const o = (y * cols + c) * 3;
      data[o] = table[level * 3]!;
      data[o + 1] = table[level * 3 + 1]!;
      data[o + 2] = table[level * 3 + 2]!;
    }
  }
  return encodePng({ width: cols, height: rows, channels: 3, data, filter: 'adaptive', level: 9 });
}
