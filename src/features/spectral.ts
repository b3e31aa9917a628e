/**
 * STFT, mel filterbanks, mel spectrograms, power_to_db and MFCC with librosa 0.11's definitions and defaults.
 *
 * Matrices are row-major Float32Array with librosa's shape [n_freq | n_mels | n_mfcc, frames]. Arithmetic is
 * float64 throughout and rounded to float32 once at the end (librosa computes the FFT in float64 and stores
 * complex64), so results sit within float32 rounding of librosa's.
 */
import { ConfigError } from '../util/errors.js';
import { RealFFT } from './fft.js';
import { PairRealFFT, SimdDct } from './fftsimd.js';
import type { FloatArray } from './resample.js';

/** A row-major matrix in librosa's orientation: shape [rows, frames]. */
export interface FeatureMatrix {
  data: Float32Array;
  shape: [number, number];
}

export type WindowName = 'hann' | 'hamming' | 'blackman' | 'boxcar' | 'ones' | 'rectangular';
/** librosa's stft pad modes that make sense for audio (np.pad names). */
export type PadMode = 'constant' | 'reflect' | 'edge' | 'symmetric';

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

export interface MelOptions {
  /** Sample rate of the signal (librosa: 22050). */
  sr?: number;
  nMels?: number;
  fmin?: number;
  /** Upper edge (librosa: sr / 2). */
  fmax?: number;
  /** HTK mel scale instead of Slaney's (librosa: false). */
  htk?: boolean;
  /** 'slaney' area normalisation or null for peak 1 (librosa: 'slaney'). */
  norm?: 'slaney' | null;
}

export interface MelSpectrogramOptions extends StftOptions, MelOptions {
  /** Exponent of the magnitude (librosa: 2.0, power). */
  power?: number;
}

export interface PowerToDbOptions {
  /** Reference power: a number (librosa: 1.0), 'max' (librosa's ref=np.max) or a function of the matrix. */
  ref?: number | 'max' | ((s: Float32Array) => number);
  amin?: number;
  /** Clip to this many dB below the peak; null for no clipping (librosa: 80). */
  topDb?: number | null;
}

export interface MfccOptions extends MelSpectrogramOptions {
  /** Coefficients kept (librosa: 20). */
  nMfcc?: number;
  /** DCT normalisation: 'ortho' (librosa's default) or null. Only type-II DCT is offered. */
  dctNorm?: 'ortho' | null;
  /** Cepstral liftering coefficient (librosa: 0, none). */
  lifter?: number;
}

/** librosa 0.11 defaults, in one place for the CLI and the docs. */
export const LIBROSA_DEFAULTS = {
  sr: 22050,
  nFft: 2048,
  window: 'hann' as WindowName,
  center: true,
  padMode: 'constant' as PadMode,
  power: 2.0,
  nMels: 128,
  fmin: 0,
  htk: false,
  norm: 'slaney' as const,
  ref: 1.0,
  amin: 1e-10,
  topDb: 80.0,
  nMfcc: 20,
  dctNorm: 'ortho' as const,
  lifter: 0,
};

function posInt(name: string, v: number): number {
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

interface StftPlan {
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
function cached<V>(cache: Map<string, V>, key: string | undefined, make: () => V): V {
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

function plan(opts: StftOptions): StftPlan {
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
type FrameVisitor = (t: number, v: Float64Array, reOff: number, imOff: number, pwOff: number, stride: number, lane: 0 | 1) => void;

/** Windowed sample i of the frame that starts at padded position `start` (numpy.pad semantics outside the signal). */
function frameValue(y: FloatArray, p: StftPlan, start: number, i: number): number {
  const k = padIndex(start + i, y.length, p.padMode);
  return k < 0 ? 0 : p.window[i]! * y[k]!;
}

/** The one framing loop behind stft, the spectrograms and MFCC. */
function forEachFrame(y: FloatArray, p: StftPlan, visit: FrameVisitor): number {
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

const F_SP = 200.0 / 3;
const MIN_LOG_HZ = 1000.0;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP;
const LOGSTEP = Math.log(6.4) / 27.0;

/** librosa.hz_to_mel (Slaney by default, HTK with htk = true). */
export function hzToMel(f: number, htk = false): number {
  if (htk) return 2595.0 * Math.log10(1.0 + f / 700.0);
  if (f >= MIN_LOG_HZ) return MIN_LOG_MEL + Math.log(f / MIN_LOG_HZ) / LOGSTEP;
  return f / F_SP;
}

/** librosa.mel_to_hz. */
export function melToHz(m: number, htk = false): number {
  if (htk) return 700.0 * (Math.pow(10.0, m / 2595.0) - 1.0);
  if (m >= MIN_LOG_MEL) return MIN_LOG_HZ * Math.exp(LOGSTEP * (m - MIN_LOG_MEL));
  return F_SP * m;
}

/** librosa.mel_frequencies: n points evenly spaced on the mel scale (numpy.linspace arithmetic). */
export function melFrequencies(n: number, fmin: number, fmax: number, htk = false): Float64Array {
  const lo = hzToMel(fmin, htk);
  const hi = hzToMel(fmax, htk);
  const out = new Float64Array(n);
  const step = n > 1 ? (hi - lo) / (n - 1) : 0;
  for (let i = 0; i < n; i++) out[i] = melToHz(i * step + lo, htk);
  if (n > 1) out[n - 1] = melToHz(hi, htk);
  return out;
}

/** A mel filterbank with each filter's nonzero bin range, so applying it costs only the nonzero weights. */
export interface MelFilterbank extends FeatureMatrix {
  /** First nonzero bin of each filter. */
  start: Int32Array;
  /** One past the last nonzero bin of each filter. */
  end: Int32Array;
}

/** librosa.filters.mel: float32 [n_mels, 1 + n_fft/2] triangular filters. */
export function melFilterbank(opts: MelOptions & { nFft?: number } = {}): MelFilterbank {
  const sr = opts.sr ?? LIBROSA_DEFAULTS.sr;
  if (!(sr > 0)) throw new ConfigError(`sr must be positive, got ${sr}`, { subject: 'sr' });
  const nFft = posInt('n_fft', opts.nFft ?? LIBROSA_DEFAULTS.nFft);
  const nMels = posInt('n_mels', opts.nMels ?? LIBROSA_DEFAULTS.nMels);
  const fmin = opts.fmin ?? LIBROSA_DEFAULTS.fmin;
  const fmax = opts.fmax ?? sr / 2;
  if (!(fmin >= 0 && fmax > fmin)) throw new ConfigError(`need 0 <= fmin < fmax, got fmin=${fmin} fmax=${fmax}`, { subject: 'fmax' });
  const htk = opts.htk ?? LIBROSA_DEFAULTS.htk;
  const norm = opts.norm === undefined ? LIBROSA_DEFAULTS.norm : opts.norm;
  const bins = Math.floor(nFft / 2) + 1;
  const freqs = fftFrequencies(sr, nFft);
  const melF = melFrequencies(nMels + 2, fmin, fmax, htk);
  const data = new Float32Array(nMels * bins);
  const start = new Int32Array(nMels);
  const end = new Int32Array(nMels);
  for (let i = 0; i < nMels; i++) {
    const fd0 = melF[i + 1]! - melF[i]!;
    const fd1 = melF[i + 2]! - melF[i + 1]!;
    const enorm = norm === 'slaney' ? 2.0 / (melF[i + 2]! - melF[i]!) : 1;
    let s = bins;
    let e = 0;
    for (let k = 0; k < bins; k++) {
      const lower = -(melF[i]! - freqs[k]!) / fd0;
      const upper = (melF[i + 2]! - freqs[k]!) / fd1;
      const w = Math.max(0, Math.min(lower, upper));
      if (w > 0) {
        // librosa stores the ramp as float32, then scales in float64 and stores float32 again.
        data[i * bins + k] = norm === 'slaney' ? Math.fround(w) * enorm : w;
        if (k < s) s = k;
        e = k + 1;
      }
    }
    start[i] = s < e ? s : 0;
    end[i] = s < e ? e : 0;
  }
  return { data, shape: [nMels, bins], start, end };
}

/** A filterbank's nonzero weights packed filter by filter (a few KiB instead of n_mels x bins doubles). */
interface PackedMel {
  nMels: number;
  start: Int32Array;
  /** Offsets into `w` per filter; filter m's weights are w[off[m] .. off[m+1]). */
  off: Int32Array;
  w: Float64Array;
}

function packMel(fb: MelFilterbank): PackedMel {
  const [nMels, bins] = fb.shape;
  const off = new Int32Array(nMels + 1);
  for (let m = 0; m < nMels; m++) off[m + 1] = off[m]! + (fb.end[m]! - fb.start[m]!);
  const w = new Float64Array(off[nMels]!);
  for (let m = 0; m < nMels; m++) {
    for (let k = fb.start[m]!; k < fb.end[m]!; k++) w[off[m]! + k - fb.start[m]!] = fb.data[m * bins + k]!;
  }
  return { nMels, start: fb.start, off, w };
}

/** Column t of a [n_mels, T] matrix from one power spectrum at v[po + k*st]. */
function applyMel(pm: PackedMel, v: Float64Array, po: number, st: number, out: Float32Array, t: number, T: number): void {
  const { start, off, w } = pm;
  for (let m = 0; m < pm.nMels; m++) {
    const e = off[m + 1]!;
    let idx = po + start[m]! * st;
    let acc = 0;
    for (let j = off[m]!; j < e; j++, idx += st) acc += w[j]! * v[idx]!;
    out[m * T + t] = acc;
  }
}

const melCache = new Map<string, { fb: MelFilterbank; pm: PackedMel }>();

function melCore(y: FloatArray, opts: MelSpectrogramOptions): { mel: Float32Array; nMels: number; T: number } {
  const p = plan(opts);
  const power = opts.power ?? LIBROSA_DEFAULTS.power;
  if (!(power > 0)) throw new ConfigError(`power must be positive, got ${power}`, { subject: 'power' });
  const melOpts = { sr: opts.sr, nFft: p.nFft, nMels: opts.nMels, fmin: opts.fmin, fmax: opts.fmax, htk: opts.htk, norm: opts.norm };
  const { fb, pm } = cached(melCache, JSON.stringify(melOpts), () => {
    const f = melFilterbank(melOpts);
    return { fb: f, pm: packMel(f) };
  });
  const nMels = fb.shape[0];
  const T = stftFrameCount(y.length, { nFft: p.nFft, hopLength: p.hop, center: p.center });
  const mel = new Float32Array(nMels * T);
  const pw = new Float64Array(p.bins);
  const pair = p.pair;
  if (pair && power === 2) {
    // Both lanes' mel bands in one wasm call, straight from the FFT's power output.
    const melOut = pair.setMel(pm.start, pm.off, pm.w);
    forEachFrame(y, p, (t, v, _ro, _io, _po, _st, lane) => {
      if (lane === 0) pair.applyMel();
      for (let m = 0, o = melOut + lane; m < nMels; m++, o += 2) mel[m * T + t] = v[o]!;
    });
    return { mel, nMels, T };
  }
  forEachFrame(y, p, (t, v, _ro, _io, po, st) => {
    if (power === 2) {
      applyMel(pm, v, po, st, mel, t, T);
      return;
    }
    for (let k = 0; k < p.bins; k++) pw[k] = power === 1 ? Math.sqrt(v[po + k * st]!) : Math.pow(v[po + k * st]!, power / 2);
    applyMel(pm, pw, 0, 1, mel, t, T);
  });
  return { mel, nMels, T };
}

/** librosa.feature.melspectrogram(y=y, sr=sr, ...): float32 [n_mels, frames]. */
export function melSpectrogram(y: FloatArray, opts: MelSpectrogramOptions = {}): FeatureMatrix {
  const { mel, nMels, T } = melCore(y, opts);
  return { data: mel, shape: [nMels, T] };
}

/** 10 log10(x) = (10 / ln 10) ln(x); Math.log is markedly faster than Math.log10 in V8 and agrees to float64 rounding. */
const DB_PER_NEPER = 10 / Math.LN10;

/** power_to_db's offset (10 log10 ref) and clipping floor (peak dB - top_db, or -Infinity) for a matrix. */
function dbParams(src: Float32Array, opts: PowerToDbOptions): { offset: number; floor: number; amin: number } {
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

/** Orthonormal (or unnormalised) DCT-II basis, nOut x n, as scipy.fftpack.dct(type=2) computes it. */
function dctBasis(nOut: number, n: number, norm: 'ortho' | null): Float64Array {
  const b = new Float64Array(nOut * n);
  for (let k = 0; k < nOut; k++) {
    const f = norm === 'ortho' ? (k === 0 ? Math.sqrt(1 / (4 * n)) : Math.sqrt(1 / (2 * n))) : 1;
    for (let i = 0; i < n; i++) b[k * n + i] = 2 * f * Math.cos((Math.PI * k * (2 * i + 1)) / (2 * n));
  }
  return b;
}

const dctCache = new Map<string, { nMfcc: number; basis: Float64Array; simd: SimdDct | undefined }>();

function mfccSettings(
  nMels: number,
  opts: Pick<MfccOptions, 'nMfcc' | 'dctNorm' | 'lifter'>,
): { nMfcc: number; basis: Float64Array; simd: SimdDct | undefined } {
  return cached(dctCache, JSON.stringify([nMels, opts.nMfcc, opts.dctNorm, opts.lifter, process.env.WAVELM_NO_SIMD === '1']), () => {
    const r = makeMfccSettings(nMels, opts);
    return { ...r, simd: SimdDct.create(nMels, r.nMfcc, r.basis) };
  });
}

function makeMfccSettings(nMels: number, opts: Pick<MfccOptions, 'nMfcc' | 'dctNorm' | 'lifter'>): { nMfcc: number; basis: Float64Array } {
  const nMfcc = posInt('n_mfcc', opts.nMfcc ?? LIBROSA_DEFAULTS.nMfcc);
  if (nMfcc > nMels) throw new ConfigError(`n_mfcc (${nMfcc}) must be at most n_mels (${nMels})`, { subject: 'n_mfcc' });
  const norm = opts.dctNorm === undefined ? LIBROSA_DEFAULTS.dctNorm : opts.dctNorm;
  const lifter = opts.lifter ?? LIBROSA_DEFAULTS.lifter;
  if (!(lifter >= 0)) throw new ConfigError(`lifter must be non-negative, got ${lifter}`, { subject: 'lifter' });
  const basis = dctBasis(nMfcc, nMels, norm);
  // Liftering scales whole rows of the DCT, so it folds into the basis.
  if (lifter > 0) {
    for (let k = 0; k < nMfcc; k++) {
      const lift = 1 + (lifter / 2) * Math.sin((Math.PI * (k + 1)) / lifter);
      for (let i = 0; i < nMels; i++) basis[k * nMels + i]! *= lift;
    }
  }
  return { nMfcc, basis };
}

/**
 * DCT of each column of S ([nMels, T], float32) into out ([nMfcc, T]), with `map` applied to each value first.
 * Column by column: a frame's values sit on nMels cache lines that the next frames reuse, so S is read once.
 * With SIMD, blocks of frames go through a WebAssembly kernel that sums in the same order (i ascending).
 */
function dctColumns(
  S: Float32Array,
  nMels: number,
  T: number,
  nMfcc: number,
  basis: Float64Array,
  simdDct: SimdDct | undefined,
  map: ((v: number) => number) | undefined,
): Float32Array {
  if (simdDct && T >= 8) return simdDct.apply(S, T, map);
  const out = new Float32Array(nMfcc * T);
  const col = new Float64Array(nMels);
  for (let t = 0; t < T; t++) {
    if (map) for (let i = 0; i < nMels; i++) col[i] = map(S[i * T + t]!);
    else for (let i = 0; i < nMels; i++) col[i] = S[i * T + t]!;
    for (let k = 0; k < nMfcc; k++) {
      const b = k * nMels;
      let acc = 0;
      for (let i = 0; i < nMels; i++) acc += basis[b + i]! * col[i]!;
      out[k * T + t] = acc;
    }
  }
  return out;
}

/** MFCC from a log-power mel spectrogram S (librosa.feature.mfcc(S=S, ...)): [n_mfcc, frames]. */
export function mfccFromDb(S: FeatureMatrix, opts: Pick<MfccOptions, 'nMfcc' | 'dctNorm' | 'lifter'> = {}): FeatureMatrix {
  const [nMels, T] = S.shape;
  const { nMfcc, basis, simd } = mfccSettings(nMels, opts);
  return { data: dctColumns(S.data, nMels, T, nMfcc, basis, simd, undefined), shape: [nMfcc, T] };
}

/**
 * librosa.feature.mfcc(y=y, sr=sr, ...): DCT-II of power_to_db(melspectrogram(y)), [n_mfcc, frames].
 * The dB conversion is fused into the DCT pass (same float32 rounding as powerToDb), which needs only the peak first.
 */
export function mfcc(y: FloatArray, opts: MfccOptions & PowerToDbOptions = {}): FeatureMatrix {
  const M = melSpectrogram(y, opts);
  const [nMels, T] = M.shape;
  const { nMfcc, basis, simd } = mfccSettings(nMels, opts);
  const { offset, floor, amin } = dbParams(M.data, opts);
  const fr = Math.fround;
  const map = (v: number): number => {
    const d = fr(DB_PER_NEPER * Math.log(Math.max(amin, v)) - offset);
    return d < floor ? floor : d;
  };
  return { data: dctColumns(M.data, nMels, T, nMfcc, basis, simd, map), shape: [nMfcc, T] };
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
