/**
 * pystoi's `resample_oct`: scipy's `resample_poly(x, p, q, window=h / sum(h))` with the Kaiser-windowed
 * sinc that Octave's `resample` designs. STOI is defined at 10 kHz, and its score depends on this exact
 * filter (length, rejection, edge handling), so it is reproduced here rather than borrowed from a
 * general-purpose resampler.
 */
import { besselI0 } from '../features/resample.js';

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Octave's anti-aliasing filter for resampling by p/q (already reduced), as pystoi's `_resample_window_oct`. */
export function octaveResampleFilter(p: number, q: number): Float64Array {
  const log10Rejection = -3.0;
  const stopbandCutoff = 1.0 / (2 * Math.max(p, q));
  const rollOffWidth = stopbandCutoff / 10;
  const rejectionDb = -20 * log10Rejection;
  const L = Math.ceil((rejectionDb - 8) / (28.714 * rollOffWidth));
  let beta = 0;
  if (rejectionDb >= 21 && rejectionDb <= 50) beta = 0.5842 * (rejectionDb - 21) ** 0.4 + 0.07886 * (rejectionDb - 21);
  else if (rejectionDb > 50) beta = 0.1102 * (rejectionDb - 8.7);
  const n = 2 * L + 1;
  const h = new Float64Array(n);
  const i0b = besselI0(beta);
  for (let i = 0; i < n; i++) {
    const t = i - L;
    const arg = 2 * stopbandCutoff * t;
    const sinc = arg === 0 ? 1 : Math.sin(Math.PI * arg) / (Math.PI * arg);
    // numpy's kaiser: I0(beta * sqrt(1 - (2i/(M-1) - 1)^2)) / I0(beta)
    const r = (2 * i) / (n - 1) - 1;
    const w = besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / i0b;
    h[i] = w * 2 * p * stopbandCutoff * sinc;
  }
  return h;
}

function outputLength(lenH: number, inLen: number, up: number, down: number): number {
  const inLenCopy = inLen + Math.floor((lenH + (((-lenH % up) + up) % up)) / up) - 1;
  const nt = inLenCopy * up;
  return Math.floor(nt / down) + (nt % down > 0 ? 1 : 0);
}

/** scipy.signal.resample_poly(x, up, down, window=win) with zero ('constant') edges. */
export function resamplePoly(x: Float64Array, up: number, down: number, win: Float64Array): Float64Array {
  return resamplePolyPair(x, undefined, up, down, win)[0];
}

/** resamplePoly of one or two equally long signals in one pass (STOI resamples clean and degraded with the same filter). */
export function resamplePolyPair(
  x: Float64Array,
  x2: Float64Array | undefined,
  up: number,
  down: number,
  win: Float64Array,
): [Float64Array, Float64Array | undefined] {
  const g = gcd(up, down);
  up /= g;
  down /= g;
  if (up === 1 && down === 1) return [x.slice(), x2?.slice()];
  const nIn = x.length;
  const nOut = Math.floor((nIn * up) / down) + ((nIn * up) % down > 0 ? 1 : 0);
  const halfLen = Math.floor((win.length - 1) / 2);
  const nPrePad = down - (halfLen % down);
  let nPostPad = 0;
  const nPreRemove = Math.floor((halfLen + nPrePad) / down);
  while (outputLength(win.length + nPrePad + nPostPad, nIn, up, down) < nOut + nPreRemove) nPostPad++;
  const Lh = win.length + nPrePad + nPostPad;
  const h = new Float64Array(Lh);
  for (let i = 0; i < win.length; i++) h[nPrePad + i] = win[i]! * up;
  // Polyphase: output k uses taps h[p], h[p + up], ... (p = m mod up) against x[m / up], x[m / up - 1], ...
  const phases: Float64Array[] = [];
  for (let p = 0; p < up; p++) {
    const n = Math.ceil((Lh - p) / up);
    const hp = new Float64Array(n);
    for (let i = 0; i < n; i++) hp[i] = h[p + i * up]!;
    phases.push(hp);
  }
  const y = new Float64Array(nOut);
  const y2 = x2 ? new Float64Array(nOut) : undefined;
  const xb = x2 ?? x;
  for (let k = 0; k < nOut; k++) {
    const m = (k + nPreRemove) * down;
    const p = m % up;
    const hp = phases[p]!;
    const top = (m - p) / up; // x index paired with hp[0]
    // i runs over taps with 0 <= top - i < nIn
    const iLo = Math.max(0, top - (nIn - 1));
    const iHi = Math.min(hp.length - 1, top);
    let acc = 0;
    let acc2 = 0;
    for (let i = iLo; i <= iHi; i++) {
      const w = hp[i]!;
      acc += w * x[top - i]!;
      acc2 += w * xb[top - i]!;
    }
    y[k] = acc;
    if (y2) y2[k] = acc2;
  }
  return [y, y2];
}

/** pystoi.utils.resample_oct(x, p, q): resample by p/q with Octave's filter. */
export function resampleOct(x: Float64Array, p: number, q: number): Float64Array {
  return resampleOctPair(x, undefined, p, q)[0];
}

/** resampleOct of one or two equally long signals in one pass. */
export function resampleOctPair(
  x: Float64Array,
  x2: Float64Array | undefined,
  p: number,
  q: number,
): [Float64Array, Float64Array | undefined] {
  const g = gcd(p, q);
  const pp = p / g;
  const qq = q / g;
  const h = octaveResampleFilter(pp, qq);
  let s = 0;
  for (const v of h) s += v;
  const w = h.map((v) => v / s);
  return resamplePolyPair(x, x2, pp, qq, w);
}
