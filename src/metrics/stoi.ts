/**
 * STOI (Taal et al. 2011) and extended STOI (Jensen & Taal 2016), computed the way pystoi does
 * (mpariente/pystoi, which matches the MATLAB/Octave reference): resampling to 10 kHz with Octave's
 * filter, silent-frame removal on the clean signal (40 dB range, 256-sample frames, hop 128,
 * overlap-added back together), a 512-point STFT, 15 one-third-octave bands from 150 Hz and 30-frame
 * (384 ms) analysis segments. Everything runs in float64, as in the reference.
 */
import FFT from 'fft.js';
import { ConfigError, MismatchError } from '../util/errors.js';
import { resampleOctPair } from './resample-oct.js';

const FS = 10000;
const N_FRAME = 256;
const NFFT = 512;
const NUMBAND = 15;
const MINFREQ = 150;
const N = 30;
const BETA = -15;
const DYN_RANGE = 40;
const EPS = 2.220446049250313e-16;
const NBINS = NFFT / 2 + 1;

/** Matlab's hanning(n): numpy.hanning(n + 2)[1:-1]. */
function matlabHanning(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 1)) / (n + 1));
  return w;
}

/** One-third-octave band matrix [numBands, nfft/2+1] (pystoi.utils.thirdoct), as band start/end bins. */
export function thirdOctaveBands(
  fs = FS,
  nfft = NFFT,
  numBands = NUMBAND,
  minFreq = MINFREQ,
): { lo: number[]; hi: number[]; centers: number[] } {
  const nb = nfft / 2 + 1;
  const f = new Float64Array(nb);
  // np.linspace(0, fs, nfft + 1)[:nfft/2+1]
  const step = fs / nfft;
  for (let i = 0; i < nb; i++) f[i] = i * step;
  const lo: number[] = [];
  const hi: number[] = [];
  const centers: number[] = [];
  const nearest = (target: number): number => {
    let best = 0;
    let bd = Infinity;
    for (let i = 0; i < nb; i++) {
      const d = (f[i]! - target) ** 2;
      if (d < bd) {
        bd = d;
        best = i;
      }
    }
    return best;
  };
  for (let k = 0; k < numBands; k++) {
    centers.push(2 ** (k / 3) * minFreq);
    lo.push(nearest(minFreq * 2 ** ((2 * k - 1) / 6)));
    hi.push(nearest(minFreq * 2 ** ((2 * k + 1) / 6)));
  }
  return { lo, hi, centers };
}

/** The band matrix as a dense [numBands x (nfft/2+1)] array of 0/1, for inspection and tests. */
export function thirdOctaveMatrix(): Float64Array {
  const { lo, hi } = thirdOctaveBands();
  const m = new Float64Array(NUMBAND * NBINS);
  for (let b = 0; b < NUMBAND; b++) for (let i = lo[b]!; i < hi[b]!; i++) m[b * NBINS + i] = 1;
  return m;
}

/** pystoi.utils.remove_silent_frames: drops frames of x (and the same frames of y) more than `dynRange` dB below the loudest. */
export function removeSilentFrames(
  x: Float64Array,
  y: Float64Array,
  dynRange = DYN_RANGE,
  framelen = N_FRAME,
  hop = N_FRAME / 2,
): [Float64Array, Float64Array] {
  const w = matlabHanning(framelen);
  const starts: number[] = [];
  for (let i = 0; i < x.length - framelen; i += hop) starts.push(i);
  const energies = starts.map((s) => {
    let e = 0;
    for (let j = 0; j < framelen; j++) {
      const v = w[j]! * x[s + j]!;
      e += v * v;
    }
    return 20 * Math.log10(Math.sqrt(e) + EPS);
  });
  let max = -Infinity;
  for (const e of energies) if (e > max) max = e;
  const kept = starts.filter((_, i) => max - dynRange - energies[i]! < 0);
  if (kept.length === 0) return [new Float64Array(0), new Float64Array(0)];
  const len = (kept.length - 1) * hop + framelen;
  const xs = new Float64Array(len);
  const ys = new Float64Array(len);
  kept.forEach((s, k) => {
    const o = k * hop;
    for (let j = 0; j < framelen; j++) {
      xs[o + j]! += w[j]! * x[s + j]!;
      ys[o + j]! += w[j]! * y[s + j]!;
    }
  });
  return [xs, ys];
}

const fft = new FFT(NFFT);
const fftIn = new Float64Array(NFFT);
const fftOut = fft.createComplexArray() as number[];
const WIN = matlabHanning(N_FRAME);
const BANDS = thirdOctaveBands();

/** One-third-octave band magnitudes [NUMBAND, frames] (row-major) of x: sqrt(OBM @ |STFT|^2). */
export function thirdOctaveSpectrogram(x: Float64Array): { data: Float64Array; frames: number } {
  const hop = N_FRAME / 2;
  let frames = 0;
  for (let i = 0; i < x.length - N_FRAME; i += hop) frames++;
  const out = new Float64Array(NUMBAND * frames);
  const pow = new Float64Array(NBINS);
  for (let t = 0; t < frames; t++) {
    const s = t * hop;
    fftIn.fill(0);
    for (let j = 0; j < N_FRAME; j++) fftIn[j] = WIN[j]! * x[s + j]!;
    fft.realTransform(fftOut, fftIn);
    for (let k = 0; k < NBINS; k++) {
      const re = fftOut[2 * k]!;
      const im = fftOut[2 * k + 1]!;
      pow[k] = re * re + im * im;
    }
    for (let b = 0; b < NUMBAND; b++) {
      let acc = 0;
      for (let k = BANDS.lo[b]!; k < BANDS.hi[b]!; k++) acc += pow[k]!;
      out[b * frames + t] = Math.sqrt(acc);
    }
  }
  return { data: out, frames };
}

export interface StoiOptions {
  /** Extended STOI (Jensen & Taal 2016) instead of the original. */
  extended?: boolean;
}

function prepare(
  clean: Float64Array | Float32Array,
  degraded: Float64Array | Float32Array,
  sampleRate: number,
): [Float64Array, Float64Array] {
  if (clean.length !== degraded.length) {
    throw new MismatchError(
      `stoi: clean and degraded signals differ in length (${clean.length} vs ${degraded.length} samples); trim or align them first`,
    );
  }
  if (!(sampleRate > 0) || !Number.isInteger(sampleRate))
    throw new ConfigError(`stoi: sample rate must be a positive integer, got ${sampleRate}`);
  let x = clean instanceof Float64Array ? clean : Float64Array.from(clean);
  let y = degraded instanceof Float64Array ? degraded : Float64Array.from(degraded);
  if (sampleRate !== FS) {
    const [xr, yr] = resampleOctPair(x, y, FS, sampleRate);
    x = xr;
    y = yr!;
  }
  return removeSilentFrames(x, y);
}

/**
 * What stoi returns, as pystoi does, when fewer than 30 non-silent frames remain (about 0.4 s of speech at
 * 10 kHz once frames 40 dB below the loudest are dropped): a placeholder, not a measurement.
 */
export const STOI_TOO_SHORT = 1e-5;

/**
 * STOI (or ESTOI with `extended`) of `degraded` against `clean`, both mono at `sampleRate`.
 * Returns STOI_TOO_SHORT when fewer than 30 non-silent frames remain, as pystoi does.
 */
export function stoi(
  clean: Float64Array | Float32Array,
  degraded: Float64Array | Float32Array,
  sampleRate: number,
  opts: StoiOptions = {},
): number {
  const [x, y] = prepare(clean, degraded, sampleRate);
  const X = thirdOctaveSpectrogram(x);
  const Y = thirdOctaveSpectrogram(y);
  const T = X.frames;
  if (T < N) return STOI_TOO_SHORT;
  const J = T - N + 1;
  const xd = X.data;
  const yd = Y.data;
  if (opts.extended) return estoiCore(xd, yd, T, J);
  const clip = 1 + 10 ** (-BETA / 20);
  const yp = new Float64Array(N);
  let total = 0;
  for (let m = 0; m < J; m++) {
    for (let b = 0; b < NUMBAND; b++) {
      const row = b * T + m;
      let nx = 0;
      let ny = 0;
      for (let i = 0; i < N; i++) {
        nx += xd[row + i]! ** 2;
        ny += yd[row + i]! ** 2;
      }
      const alpha = Math.sqrt(nx) / (Math.sqrt(ny) + EPS);
      let my = 0;
      let mx = 0;
      for (let i = 0; i < N; i++) {
        const v = Math.min(yd[row + i]! * alpha, xd[row + i]! * clip);
        yp[i] = v;
        my += v;
        mx += xd[row + i]!;
      }
      my /= N;
      mx /= N;
      let sxx = 0;
      let syy = 0;
      let sxy = 0;
      for (let i = 0; i < N; i++) {
        const a = xd[row + i]! - mx;
        const c = yp[i]! - my;
        sxx += a * a;
        syy += c * c;
        sxy += a * c;
      }
      total += sxy / ((Math.sqrt(sxx) + EPS) * (Math.sqrt(syy) + EPS));
    }
  }
  return total / (J * NUMBAND);
}

/** Row then column mean/variance normalisation of each 15x30 segment, correlated entry by entry. */
function estoiCore(xd: Float64Array, yd: Float64Array, T: number, J: number): number {
  const xs = new Float64Array(NUMBAND * N);
  const ys = new Float64Array(NUMBAND * N);
  const normalize = (src: Float64Array, m: number, dst: Float64Array): void => {
    for (let b = 0; b < NUMBAND; b++) {
      let mean = 0;
      for (let i = 0; i < N; i++) mean += src[b * T + m + i]!;
      mean /= N;
      let ss = 0;
      for (let i = 0; i < N; i++) {
        const v = src[b * T + m + i]! - mean;
        dst[b * N + i] = v;
        ss += v * v;
      }
      // pystoi adds EPS-scale noise before normalising; a zero guard keeps constant rows finite instead.
      const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
      for (let i = 0; i < N; i++) dst[b * N + i]! *= inv;
    }
    for (let i = 0; i < N; i++) {
      let mean = 0;
      for (let b = 0; b < NUMBAND; b++) mean += dst[b * N + i]!;
      mean /= NUMBAND;
      let ss = 0;
      for (let b = 0; b < NUMBAND; b++) {
        const v = dst[b * N + i]! - mean;
        dst[b * N + i] = v;
        ss += v * v;
      }
      const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
      for (let b = 0; b < NUMBAND; b++) dst[b * N + i]! *= inv;
    }
  };
  let total = 0;
  for (let m = 0; m < J; m++) {
    normalize(xd, m, xs);
    normalize(yd, m, ys);
    let s = 0;
    for (let k = 0; k < NUMBAND * N; k++) s += xs[k]! * ys[k]!;
    total += s / N;
  }
  return total / J;
}

/** Extended STOI; same as `stoi(clean, degraded, sampleRate, { extended: true })`. */
export function estoi(clean: Float64Array | Float32Array, degraded: Float64Array | Float32Array, sampleRate: number): number {
  return stoi(clean, degraded, sampleRate, { extended: true });
}
