/** Planar signals [channels, time] and the time-axis operations the block-by-block paths need. */
import { interleave } from '../audio/index.js';
import type { EncodecConfig } from './config.js';

/** A planar signal [channels, time] flattened channel-major. */
export interface Planar {
  data: Float32Array;
  channels: number;
  length: number;
}

export function emptyPlanar(channels: number): Planar {
  return { data: new Float32Array(0), channels, length: 0 };
}

/** Columns [start, end) of x, copied. */
export function sliceTime(x: Planar, start: number, end: number): Planar {
  const n = Math.max(0, end - start);
  if (start === 0 && n === x.length) return x;
  const data = new Float32Array(x.channels * n);
  for (let ch = 0; ch < x.channels; ch++) data.set(x.data.subarray(ch * x.length + start, ch * x.length + start + n), ch * n);
  return { data, channels: x.channels, length: n };
}

/** a followed by b along time (same channel count). */
export function concatTime(a: Planar, b: Planar): Planar {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const n = a.length + b.length;
  const data = new Float32Array(a.channels * n);
  for (let ch = 0; ch < a.channels; ch++) {
    data.set(a.data.subarray(ch * a.length, (ch + 1) * a.length), ch * n);
    data.set(b.data.subarray(ch * b.length, (ch + 1) * b.length), ch * n + a.length);
  }
  return { data, channels: a.channels, length: n };
}

/** Planar from separate channel arrays of equal length. */
export function planarOf(chs: Float32Array[]): Planar {
  const n = chs[0]?.length ?? 0;
  const data = new Float32Array(chs.length * n);
  chs.forEach((c, k) => {
    data.set(c, k * n);
  });
  return { data, channels: chs.length, length: n };
}

/**
 * encodec's pad1d on x [c, t]: reflect (torch's reflect needs pad < length, so encodec zero-extends short
 * inputs by `extra` first, reflects, then drops the last `extra` samples), replicate, or zeros.
 */
export function pad1d(
  x: Float32Array,
  c: number,
  t: number,
  left: number,
  right: number,
  mode: EncodecConfig['padMode'],
): { data: Float32Array; t: number } {
  const nt = t + left + right;
  const y = new Float32Array(c * nt);
  const extra = mode === 'reflect' && t <= Math.max(left, right) ? Math.max(left, right) - t + 1 : 0;
  const te = t + extra;
  for (let ch = 0; ch < c; ch++) {
    const src = x.subarray(ch * t, ch * t + t);
    const dst = y.subarray(ch * nt, ch * nt + nt);
    dst.set(src, left);
    if (mode === 'reflect') {
      const at = (i: number): number => (i < t ? src[i]! : 0);
      for (let j = 0; j < left; j++) dst[j] = at(left - j);
      for (let j = left + t; j < nt; j++) dst[j] = j < left + te ? 0 : at(te - 2 - (j - left - te));
    } else if (mode === 'replicate') {
      for (let j = 0; j < left; j++) dst[j] = src[0]!;
      for (let j = left + t; j < nt; j++) dst[j] = src[t - 1]!;
    }
  }
  return { data: y, t: nt };
}

/** The channels of x interleaved frame by frame ([L0, R0, L1, R1, ...]), as WAV stores them. */
export function interleavedOf(x: Planar): Float32Array {
  return interleave(
    Array.from({ length: x.channels }, (_, ch) => x.data.subarray(ch * x.length, (ch + 1) * x.length)),
    x.length,
  );
}
