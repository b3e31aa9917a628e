/**
 * Inverse STFT with librosa 0.11's definition (librosa.istft): each column through numpy.fft.irfft, windowed,
 * overlap-added in float32, divided by the window's sum of squares (librosa.filters.window_sumsquare) where that
 * exceeds float32's smallest normal, centre padding trimmed, optionally cut or zero-padded to `length`.
 */
import { ConfigError } from '../util/errors.js';
import { RealFFT } from './fft.js';
import { PairRealFFT } from './fftsimd.js';
import { LIBROSA_DEFAULTS, type FeatureMatrix, type WindowName } from './defaults.js';
import { paddedWindow } from './stft.js';

/** numpy.finfo(float32).tiny, librosa.util.tiny for float32 arrays. */
export const FLOAT32_TINY = 1.1754943508222875e-38;

/**
 * numpy.fft.irfft of length n from bins 0..n/2, using only forward real FFTs (the SIMD pair FFT where it applies).
 * With X = A + iB (A the real parts, even in k; B the imaginary parts, odd in k), x[t] = (Re DFT(A)[t] + Im DFT(B)[t]) / n,
 * and A and B are real sequences, so both DFTs are one call of the two-frame real FFT.
 */
export class InverseRealFFT {
  readonly n: number;
  readonly bins: number;
  private readonly pair: PairRealFFT | undefined;
  private readonly scalar: RealFFT | undefined;
  private readonly a: Float64Array;
  private readonly b: Float64Array;
  private readonly fa: Float64Array;
  private readonly fb: Float64Array;
  private readonly fi: Float64Array;

  constructor(n: number) {
    if (!Number.isSafeInteger(n) || n < 2 || n % 2 !== 0)
      throw new ConfigError(`inverse FFT: n_fft must be an even integer >= 2, got ${n}`, { subject: 'n_fft' });
    this.n = n;
    this.bins = n / 2 + 1;
    this.pair = PairRealFFT.create(n);
    if (this.pair) this.pair.setWindow(new Float64Array(n).fill(1));
    else this.scalar = new RealFFT(n);
    this.a = new Float64Array(n);
    this.b = new Float64Array(n);
    this.fa = new Float64Array(this.bins);
    this.fb = new Float64Array(this.bins);
    this.fi = new Float64Array(this.bins);
  }

  /**
   * x[0..n) from the spectrum re[off + k*stride], im[off + k*stride] (k = 0..n/2). As irfft does, the imaginary parts
   * of bins 0 and n/2 are ignored.
   */
  transform(re: ArrayLike<number>, im: ArrayLike<number>, off: number, stride: number, x: Float64Array): void {
    const { n, a, b } = this;
    const h = n / 2;
    a[0] = re[off]!;
    b[0] = 0;
    a[h] = re[off + h * stride]!;
    b[h] = 0;
    for (let k = 1; k < h; k++) {
      const r = re[off + k * stride]!;
      const i = im[off + k * stride]!;
      a[k] = r;
      a[n - k] = r;
      b[k] = i;
      b[n - k] = -i;
    }
    const { fa, fb } = this;
    if (this.pair) {
      const p = this.pair;
      const v = p.view;
      v.set(a, p.frameOffset(0));
      v.set(b, p.frameOffset(1));
      p.run();
      const ra = p.reOffset(0);
      const ib = p.imOffset(1);
      for (let k = 0; k <= h; k++) {
        fa[k] = v[ra + 2 * k]!;
        fb[k] = v[ib + 2 * k]!;
      }
    } else {
      const s = this.scalar!;
      s.transform(a, fa, this.fi);
      s.transform(b, this.fi, fb);
    }
    const inv = 1 / n;
    for (let t = 0; t <= h; t++) x[t] = (fa[t]! + fb[t]!) * inv;
    // DFT(A) is real and even, DFT(B) imaginary and odd: bins above n/2 mirror the lower ones.
    for (let t = h + 1; t < n; t++) x[t] = (fa[n - t]! - fb[n - t]!) * inv;
  }

  /**
   * Two spectra at once (columns offA and offB): z = IDFT(X1 + i X2) = x1 + i x2, and the real sequences
   * P = Re(X1 + i X2) and Q = Im(X1 + i X2) are one call of the two-frame real FFT; with FP = DFT(P), FQ = DFT(Q),
   * x1 = (Re FP + Im FQ) / n and x2 = (Re FQ - Im FP) / n. Falls back to two single transforms without SIMD.
   */
  transformPair(
    re: ArrayLike<number>,
    im: ArrayLike<number>,
    offA: number,
    offB: number,
    stride: number,
    xa: Float64Array,
    xb: Float64Array,
  ): void {
    const p = this.pair;
    if (!p) {
      this.transform(re, im, offA, stride, xa);
      this.transform(re, im, offB, stride, xb);
      return;
    }
    const { n, a: P, b: Q } = this;
    const h = n / 2;
    P[0] = re[offA]!;
    Q[0] = re[offB]!;
    P[h] = re[offA + h * stride]!;
    Q[h] = re[offB + h * stride]!;
    for (let k = 1; k < h; k++) {
      const r1 = re[offA + k * stride]!;
      const i1 = im[offA + k * stride]!;
      const r2 = re[offB + k * stride]!;
      const i2 = im[offB + k * stride]!;
      P[k] = r1 - i2;
      P[n - k] = r1 + i2;
      Q[k] = i1 + r2;
      Q[n - k] = r2 - i1;
    }
    const v = p.view;
    v.set(P, p.frameOffset(0));
    v.set(Q, p.frameOffset(1));
    p.run();
    const pr = p.reOffset(0);
    const pi = p.imOffset(0);
    const qr = p.reOffset(1);
    const qi = p.imOffset(1);
    const inv = 1 / n;
    for (let t = 0; t <= h; t++) {
      xa[t] = (v[pr + 2 * t]! + v[qi + 2 * t]!) * inv;
      xb[t] = (v[qr + 2 * t]! - v[pi + 2 * t]!) * inv;
    }
    // Real inputs: DFT bins above n/2 are the conjugates of those below.
    for (let t = h + 1; t < n; t++) {
      const m = n - t;
      xa[t] = (v[pr + 2 * m]! - v[qi + 2 * m]!) * inv;
      xb[t] = (v[qr + 2 * m]! + v[pi + 2 * m]!) * inv;
    }
  }
}

export interface IstftOptions {
  /** FFT length; must equal 2 * (rows - 1) (librosa infers it from the matrix). */
  nFft?: number;
  /** Samples between frames (librosa: win_length // 4). */
  hopLength?: number;
  winLength?: number;
  window?: WindowName | Float64Array | Float32Array;
  /** Frames are centred on t * hop (librosa: true): the first n_fft // 2 samples are dropped. */
  center?: boolean;
  /** Cut or zero-pad the output to this many samples (librosa's `length`). */
  length?: number;
}

/** Shared set-up of istft for one configuration (Griffin-Lim calls it every iteration). */
export interface IstftPlan {
  nFft: number;
  hop: number;
  center: boolean;
  /** The window centred in n_fft. */
  window: Float64Array;
  /** The window squared, float64 as librosa squares it before summing in float32. */
  windowSq: Float64Array;
  ifft: InverseRealFFT;
}

export function istftPlan(rows: number, opts: IstftOptions = {}): IstftPlan {
  const nFft = 2 * (rows - 1);
  if (opts.nFft !== undefined && opts.nFft !== nFft) {
    throw new ConfigError(`n_fft=${opts.nFft} does not match a spectrogram of ${rows} rows (n_fft = 2 * (rows - 1) = ${nFft})`, {
      subject: 'n_fft',
    });
  }
  if (nFft < 2) throw new ConfigError(`a spectrogram needs at least 2 rows to invert, got ${rows}`, { subject: 'n_fft' });
  const winLength = opts.winLength ?? nFft;
  if (!Number.isSafeInteger(winLength) || winLength < 1 || winLength > nFft)
    throw new ConfigError(`win_length must be an integer in [1, n_fft=${nFft}], got ${winLength}`, { subject: 'win_length' });
  const hop = opts.hopLength ?? Math.max(1, Math.floor(winLength / 4));
  if (!Number.isSafeInteger(hop) || hop < 1)
    throw new ConfigError(`hop_length must be a positive integer, got ${hop}`, { subject: 'hop_length' });
  const window = paddedWindow(opts.window, winLength, nFft);
  const windowSq = window.map((w) => w * w);
  return { nFft, hop, center: opts.center ?? LIBROSA_DEFAULTS.center, window, windowSq, ifft: new InverseRealFFT(nFft) };
}

/** librosa.filters.window_sumsquare(window, n_frames, hop_length, win_length, n_fft, dtype=float32). */
export function windowSumSquare(plan: IstftPlan, frames: number): Float32Array {
  const n = plan.nFft + plan.hop * (frames - 1);
  const x = new Float32Array(n);
  for (let t = 0; t < frames; t++) {
    const s = t * plan.hop;
    const e = Math.min(n, s + plan.nFft);
    for (let i = s; i < e; i++) x[i] = x[i]! + plan.windowSq[i - s]!;
  }
  return x;
}

/** librosa.istft of a complex matrix given as its real and imaginary parts ([1 + n_fft/2, frames] each). */
export function istft(re: FeatureMatrix, im: FeatureMatrix, opts: IstftOptions = {}, prepared?: IstftPlan): Float32Array {
  const [rows, T0] = re.shape;
  if (im.shape[0] !== rows || im.shape[1] !== T0)
    throw new ConfigError(`istft: real part is [${re.shape}], imaginary part [${im.shape}]`, { subject: 'stft' });
  const p = prepared ?? istftPlan(rows, opts);
  const { nFft, hop, center, window } = p;
  const length = opts.length;
  if (length !== undefined && (!Number.isSafeInteger(length) || length < 0))
    throw new ConfigError(`length must be a non-negative integer, got ${length}`, { subject: 'length' });
  let T = T0;
  // librosa trims frames that cannot reach the requested length.
  if (length !== undefined && length > 0) T = Math.min(T0, Math.ceil((center ? length + 2 * Math.floor(nFft / 2) : length) / hop));
  if (T < 1) return new Float32Array(length ?? 0);
  const full = nFft + hop * (T - 1);
  const start = center ? Math.floor(nFft / 2) : 0;
  const outLen = length !== undefined ? length : Math.max(0, full - 2 * start);
  // Overlap-add into float32, frame by frame in order, as librosa's float32 output buffer does.
  const buf = new Float32Array(full);
  const frame = new Float64Array(nFft);
  const next = new Float64Array(nFft);
  for (let t = 0; t < T; t += 2) {
    if (t + 1 < T) p.ifft.transformPair(re.data, im.data, t, t + 1, T0, frame, next);
    else p.ifft.transform(re.data, im.data, t, T0, frame);
    // Frames are added in order, t then t + 1, as librosa's loop adds them.
    for (let u = t; u < Math.min(T, t + 2); u++) {
      const f = u === t ? frame : next;
      const s = u * hop;
      for (let i = 0; i < nFft; i++) buf[s + i] = buf[s + i]! + window[i]! * f[i]!;
    }
  }
  const wss = windowSumSquare(p, T);
  const y = new Float32Array(outLen);
  const m = Math.min(outLen, full - start);
  for (let i = 0; i < m; i++) {
    const w = wss[start + i]!;
    y[i] = w > FLOAT32_TINY ? buf[start + i]! / w : buf[start + i]!;
  }
  return y;
}
