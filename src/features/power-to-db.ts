/** librosa.power_to_db: power in decibels relative to a reference, clipped top_db below the peak. */
import { ConfigError } from '../util/errors.js';
import { LIBROSA_DEFAULTS, type FeatureMatrix } from './defaults.js';

export interface PowerToDbOptions {
  /** Reference power: a number (librosa: 1.0), 'max' (librosa's ref=np.max) or a function of the matrix. */
  ref?: number | 'max' | ((s: Float32Array) => number);
  amin?: number;
  /** Clip to this many dB below the peak; null for no clipping (librosa: 80). */
  topDb?: number | null;
}

/** 10 log10(x) = (10 / ln 10) ln(x); Math.log is markedly faster than Math.log10 in V8 and agrees to float64 rounding. */
export const DB_PER_NEPER = 10 / Math.LN10;

/** power_to_db's offset (10 log10 ref) and clipping floor (peak dB - top_db, or -Infinity) for a matrix. */
export function dbParams(src: Float32Array, opts: PowerToDbOptions): { offset: number; floor: number; amin: number } {
  const amin = opts.amin ?? LIBROSA_DEFAULTS.amin;
  if (!(amin > 0)) throw new ConfigError(`amin must be strictly positive, got ${amin}`, { subject: 'amin' });
  const topDb = opts.topDb === undefined ? LIBROSA_DEFAULTS.topDb : opts.topDb;
  if (topDb !== null && !(topDb >= 0)) throw new ConfigError(`top_db must be non-negative, got ${topDb}`, { subject: 'top_db' });
  const refSpec = opts.ref ?? LIBROSA_DEFAULTS.ref;
  let max = -Infinity;
  for (let i = 0; i < src.length; i++) if (src[i]! > max) max = src[i]!;
  let ref: number;
  if (refSpec === 'max') ref = max;
  else if (typeof refSpec === 'function') ref = refSpec(src);
  else ref = Math.abs(refSpec);
  const offset = DB_PER_NEPER * Math.log(Math.max(amin, ref));
  // log10 is monotonic, so the peak in dB is the dB of the peak power.
  const peak = Math.fround(DB_PER_NEPER * Math.log(Math.max(amin, max)) - offset);
  const floor = topDb !== null && src.length > 0 ? Math.fround(peak - topDb) : -Infinity;
  return { offset, floor, amin };
}

/** librosa.power_to_db: 10 log10(max(amin, S) / max(amin, ref)), clipped at top_db below the peak. */
export function powerToDb(S: FeatureMatrix, opts: PowerToDbOptions = {}): FeatureMatrix {
  const src = S.data;
  const { offset, floor, amin } = dbParams(src, opts);
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = Math.fround(DB_PER_NEPER * Math.log(Math.max(amin, src[i]!)) - offset);
    out[i] = v < floor ? floor : v;
  }
  return { data: out, shape: [S.shape[0], S.shape[1]] };
}
