/**
 * The short-time Fourier transform with librosa 0.11's definitions: windows, framing with numpy.pad's edge modes,
 * the complex STFT and |STFT|^power. Its framing loop (forEachFrame) is the one mel.ts and mfcc.ts run on.
 *
 * Matrices are row-major Float32Array with librosa's shape [n_freq, frames]. Arithmetic is float64 throughout and
 * rounded to float32 once at the end (librosa computes the FFT in float64 and stores complex64), so results sit
 * within float32 rounding of librosa's.
 */
import { ConfigError } from '../util/errors.js';
import { LIBROSA_DEFAULTS, type FeatureMatrix, type PadMode, type WindowName } from './defaults.js';
import { RealFFT } from './fft.js';
import { PairRealFFT } from './fftsimd.js';
import type { FloatArray } from './resample.js';

export interface StftOptions {
  /** FFT length (librosa: 2048). Any positive length; powers of two use fft.js. */
  nFft?: number;
  /** Samples between frames (librosa: win_length // 4). */
  hopLength?: number;
  /** Window length, zero-padded to n_fft in the middle (librosa: n_fft). */
  winLength?: number;
  /** Window name (periodic, as scipy.signal.get_window(..., fftbins=True)) or explicit coefficients of length win_length. */
  window?: WindowName | Float64Array | Float32Array;
  /** Pad n_fft // 2 on both sides so frame t is centred on sample t * hop (librosa: true). */
  center?: boolean;
  /** Padding when center is true (librosa 0.11: 'constant', zeros). */
  padMode?: PadMode;
}

export function posInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new ConfigError(`${name} must be a positive integer, got ${v}`, { subject: name });
  return v;
}

/** scipy.signal.get_window(name, n, fftbins=True): periodic windows (symmetric of n+1 points, last dropped). */
export function getWindow(name: WindowName, n: number): Float64Array {
  posInt('win_length', n);
  const w = new Float64Array(n);
  const N = n; // periodic: denominators use n, not n - 1
  for (let i = 0; i < n; i++) {
    const a = (2 * Math.PI * i) / N;
    switch (name) {
      case 'hann':
        w[i] = 0.5 - 0.5 * Math.cos(a);
        break;
      case 'hamming':
        w[i] = 0.54 - 0.46 * Math.cos(a);
        break;
      case 'blackman':
        w[i] = 0.42 - 0.5 * Math.cos(a) + 0.08 * Math.cos(2 * a);
        break;
      case 'boxcar':
      case 'ones':
      case 'rectangular':
        w[i] = 1;
        break;
      default:
        throw new ConfigError(`window must be hann, hamming, blackman or boxcar, got '${String(name)}'`, { subject: 'window' });
    }
  }
  if (n === 1) w[0] = 1;
  return w;
}

export interface StftPlan {
  nFft: number;
  hop: number;
  center: boolean;
  padMode: PadMode;
  /** The window, centred and zero-padded to n_fft. */
  window: Float64Array;
  fft: RealFFT;
  /** Two frames per call in WebAssembly SIMD, when n_fft allows it. */
  pair: PairRealFFT | undefined;
  bins: number;
}

/**
 * Small caches of the per-configuration set-up (windows, FFT twiddles and wasm instances, filterbanks, DCT bases):
 * building them costs more than a one-second clip's features, and datasets call these per clip. Calls are
 * synchronous and run to completion, so sharing a plan's scratch memory between calls is safe.
 */
const CACHE_SIZE = 8;
export function cached<V>(cache: Map<string, V>, key: string | undefined, make: () => V): V {
  if (key === undefined) return make();
  const hit = cache.get(key);
  if (hit !== undefined) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const v = make();
  cache.set(key, v);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  return v;
}
const planCache = new Map<string, StftPlan>();

export function plan(opts: StftOptions): StftPlan {
  const key =
    typeof opts.window === 'object'
      ? undefined
      : JSON.stringify([
          opts.nFft,
          opts.hopLength,
          opts.winLength,
          opts.window,
          opts.center,
          opts.padMode,
          process.env.WAVELM_NO_SIMD === '1',
        ]);
  return cached(planCache, key, () => makePlan(opts));
}

function makePlan(opts: StftOptions): StftPlan {
  const nFft = posInt('n_fft', opts.nFft ?? LIBROSA_DEFAULTS.nFft);
  const winLength = posInt('win_length', opts.winLength ?? nFft);
  if (winLength > nFft) throw new ConfigError(`win_length (${winLength}) must be at most n_fft (${nFft})`, { subject: 'win_length' });
  const hop = posInt('hop_length', opts.hopLength ?? Math.max(1, Math.floor(winLength / 4)));
  const padMode = opts.padMode ?? LIBROSA_DEFAULTS.padMode;
  if (!['constant', 'reflect', 'edge', 'symmetric'].includes(padMode)) {
    throw new ConfigError(`pad_mode must be constant, reflect, edge or symmetric, got '${padMode}'`, { subject: 'pad_mode' });
  }
  const window = paddedWindow(opts.window, winLength, nFft);
  const fft = new RealFFT(nFft);
  const pair = PairRealFFT.create(nFft);
  pair?.setWindow(window);
  return { nFft, hop, center: opts.center ?? LIBROSA_DEFAULTS.center, padMode, window, fft, pair, bins: fft.bins };
}

/** Number of STFT frames librosa returns for n samples (throws when the signal is too short, as librosa does). */
export function stftFrameCount(n: number, opts: StftOptions = {}): number {
  const nFft = opts.nFft ?? LIBROSA_DEFAULTS.nFft;
  const winLength = opts.winLength ?? nFft;
  const hop = opts.hopLength ?? Math.max(1, Math.floor(winLength / 4));
  const center = opts.center ?? LIBROSA_DEFAULTS.center;
  const padded = center ? n + 2 * Math.floor(nFft / 2) : n;
  if (padded < nFft) {
    throw new ConfigError(
      `n_fft=${nFft} is too large for a signal of ${n} samples${center ? '' : ' with center=false'}; use a smaller n_fft or center=true`,
      { subject: 'n_fft' },
    );
  }
  return 1 + Math.floor((padded - nFft) / hop);
}

/** Index into y for position j of the padded signal (numpy.pad semantics), or -1 for a zero. */
function padIndex(j: number, n: number, mode: PadMode): number {
  if (j >= 0 && j < n) return j;
  switch (mode) {
    case 'constant':
      return -1;
    case 'edge':
      return j < 0 ? 0 : n - 1;
    case 'reflect': {
      if (n === 1) return 0;
      const period = 2 * (n - 1);
      let k = ((j % period) + period) % period;
      if (k >= n) k = period - k;
      return k;
    }
    case 'symmetric': {
      const period = 2 * n;
      let k = ((j % period) + period) % period;
      if (k >= n) k = period - 1 - k;
      return k;
    }
  }
}

/**
 * Receives frame t's spectrum: bin k's real part at v[reOff + k*stride], imaginary part at v[imOff + k*stride] and
 * power (re^2 + im^2) at v[pwOff + k*stride]. The storage is reused; read it before returning.
 */
export type FrameVisitor = (t: number, v: Float64Array, reOff: number, imOff: number, pwOff: number, stride: number, lane: 0 | 1) => void;

/** Windowed sample i of the frame that starts at padded position `start` (numpy.pad semantics outside the signal). */
function frameValue(y: FloatArray, p: StftPlan, start: number, i: number): number {
  const k = padIndex(start + i, y.length, p.padMode);
  return k < 0 ? 0 : p.window[i]! * y[k]!;
}

/** The one framing loop behind stft, the spectrograms and MFCC. */
export function forEachFrame(y: FloatArray, p: StftPlan, visit: FrameVisitor): number {
  const n = y.length;
  const T = stftFrameCount(n, { nFft: p.nFft, hopLength: p.hop, center: p.center, winLength: p.nFft });
  if (p.center && p.padMode !== 'constant' && n === 0) {
    throw new ConfigError(`pad_mode '${p.padMode}' needs a non-empty signal`, { subject: 'pad_mode' });
  }
  const pad = p.center ? Math.floor(p.nFft / 2) : 0;
  const w = p.window;
  const nFft = p.nFft;
  const pair = p.pair;
  if (pair) {
    const v = pair.view;
    const raw = new Float64Array(nFft);
    for (let t = 0; t < T; t += 2) {
      for (let lane = 0 as 0 | 1; lane < 2; lane = (lane + 1) as 0 | 1) {
        const o = pair.frameOffset(lane);
        const start = (t + lane) * p.hop - pad;
        if (t + lane >= T) v.fill(0, o, o + nFft);
        else if (start >= 0 && start + nFft <= n) v.set(y.subarray(start, start + nFft), o);
        else {
          for (let i = 0; i < nFft; i++) {
            const k = padIndex(start + i, n, p.padMode);
            raw[i] = k < 0 ? 0 : y[k]!;
          }
          v.set(raw, o);
        }
      }
      pair.run();
      visit(t, v, pair.reOffset(0), pair.imOffset(0), pair.powOffset(0), 2, 0);
      if (t + 1 < T) visit(t + 1, v, pair.reOffset(1), pair.imOffset(1), pair.powOffset(1), 2, 1);
    }
    return T;
  }
  const frame = new Float64Array(nFft);
  const bins = p.bins;
  const buf = new Float64Array(3 * bins);
  const re = buf.subarray(0, bins);
  const im = buf.subarray(bins, 2 * bins);
  for (let t = 0; t < T; t++) {
    const start = t * p.hop - pad;
    if (start >= 0 && start + nFft <= n) {
      for (let i = 0; i < nFft; i++) frame[i] = w[i]! * y[start + i]!;
    } else {
      for (let i = 0; i < nFft; i++) frame[i] = frameValue(y, p, start, i);
    }
    p.fft.transform(frame, re, im);
    for (let k = 0; k < bins; k++) buf[2 * bins + k] = re[k]! * re[k]! + im[k]! * im[k]!;
    visit(t, buf, 0, bins, 2 * bins, 1, 0);
  }
  return T;
}

/** Complex STFT as two [1 + n_fft/2, frames] matrices (librosa.stft; numpy would hold them as complex64). */
export function stft(y: FloatArray, opts: StftOptions = {}): { re: FeatureMatrix; im: FeatureMatrix } {
  const p = plan(opts);
  const T = stftFrameCount(y.length, { ...opts, nFft: p.nFft, hopLength: p.hop, center: p.center });
  const re = new Float32Array(p.bins * T);
  const im = new Float32Array(p.bins * T);
  forEachFrame(y, p, (t, v, ro, io, _po, st) => {
    for (let k = 0; k < p.bins; k++) {
      re[k * T + t] = v[ro + k * st]!;
      im[k * T + t] = v[io + k * st]!;
    }
  });
  return { re: { data: re, shape: [p.bins, T] }, im: { data: im, shape: [p.bins, T] } };
}

/** |STFT|^power, shape [1 + n_fft/2, frames] (power 1: magnitude, as np.abs(librosa.stft(y)); 2: power). */
export function spectrogram(y: FloatArray, opts: StftOptions & { power?: number } = {}): FeatureMatrix {
  const p = plan(opts);
  const power = opts.power ?? 1;
  if (!(power > 0)) throw new ConfigError(`power must be positive, got ${power}`, { subject: 'power' });
  const T = stftFrameCount(y.length, { ...opts, nFft: p.nFft, hopLength: p.hop, center: p.center });
  const out = new Float32Array(p.bins * T);
  forEachFrame(y, p, (t, v, _ro, _io, po, st) => {
    for (let k = 0; k < p.bins; k++) {
      const pw = v[po + k * st]!;
      out[k * T + t] = power === 2 ? pw : power === 1 ? Math.sqrt(pw) : Math.pow(pw, power / 2);
    }
  });
  return { data: out, shape: [p.bins, T] };
}

/** Frequencies of the rfft bins (librosa.fft_frequencies / numpy.fft.rfftfreq). */
export function fftFrequencies(sr: number, nFft: number): Float64Array {
  const val = 1.0 / (nFft * (1.0 / sr));
  return Float64Array.from({ length: Math.floor(nFft / 2) + 1 }, (_, k) => k * val);
}

/**
 * The analysis window (a name, or coefficients of length winLength) centred in nFft zeros, as librosa.util.pad_center:
 * lpad = (n_fft - win_length) // 2.
 */
export function paddedWindow(spec: WindowName | Float64Array | Float32Array | undefined, winLength: number, nFft: number): Float64Array {
  const given = spec ?? LIBROSA_DEFAULTS.window;
  let win: Float64Array;
  if (typeof given === 'string') win = getWindow(given, winLength);
  else {
    if (given.length !== winLength)
      throw new ConfigError(`window has ${given.length} coefficients, win_length is ${winLength}`, { subject: 'window' });
    win = Float64Array.from(given);
  }
  const window = new Float64Array(nFft);
  window.set(win, Math.floor((nFft - winLength) / 2));
  return window;
}
