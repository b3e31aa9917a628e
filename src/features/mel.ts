/** Mel scales, filterbanks and mel spectrograms with librosa 0.11's definitions (Slaney or HTK scale). */
import { ConfigError } from '../util/errors.js';
import { LIBROSA_DEFAULTS, type FeatureMatrix } from './defaults.js';
import type { FloatArray } from './resample.js';
import { cached, fftFrequencies, forEachFrame, plan, posInt, stftFrameCount, type StftOptions } from './stft.js';

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
export interface PackedMel {
  nMels: number;
  start: Int32Array;
  /** Offsets into `w` per filter; filter m's weights are w[off[m] .. off[m+1]). */
  off: Int32Array;
  w: Float64Array;
}

export function packMel(fb: MelFilterbank): PackedMel {
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
