/**
 * Sample-domain quality metrics: SNR, segmental SNR, SI-SDR and log-spectral distance. All take the
 * reference first and work in float64. Identical signals give +Infinity for the SNR family and 0 for
 * LSD, so callers can tell "perfect" from "very good".
 */
import FFT from 'fft.js';
import { ConfigError, MismatchError } from '../util/errors.js';

export type Signal = Float32Array | Float64Array;

function checkPair(name: string, ref: Signal, deg: Signal): void {
  if (ref.length !== deg.length) {
    throw new MismatchError(
      `${name}: reference and degraded signals differ in length (${ref.length} vs ${deg.length} samples); trim or align them first`,
    );
  }
  if (ref.length === 0) throw new ConfigError(`${name}: signals are empty`);
}

/** 10 log10(sum ref^2 / sum (ref - deg)^2), in dB. */
export function snr(ref: Signal, deg: Signal): number {
  checkPair('snr', ref, deg);
  let s = 0;
  let e = 0;
  for (let i = 0; i < ref.length; i++) {
    s += ref[i]! * ref[i]!;
    const d = ref[i]! - deg[i]!;
    e += d * d;
  }
  return 10 * Math.log10(s / e);
}

export interface SegmentalSnrOptions {
  /** Frame length in seconds (default 0.03). */
  frameSeconds?: number;
  /** Per-frame SNR bounds in dB (default [-10, 35], Hansen & Pellom). */
  floorDb?: number;
  ceilDb?: number;
}

/**
 * Mean over non-overlapping frames of the per-frame SNR, each clamped to [floorDb, ceilDb]. Frames where the
 * reference is silent (energy zero) are skipped since their SNR says nothing about the degradation.
 */
export function segmentalSnr(ref: Signal, deg: Signal, sampleRate: number, opts: SegmentalSnrOptions = {}): number {
  checkPair('segmental snr', ref, deg);
  const frame = Math.max(1, Math.round((opts.frameSeconds ?? 0.03) * sampleRate));
  const lo = opts.floorDb ?? -10;
  const hi = opts.ceilDb ?? 35;
  let sum = 0;
  let count = 0;
  for (let start = 0; start + frame <= ref.length || (start === 0 && ref.length > 0); start += frame) {
    const end = Math.min(ref.length, start + frame);
    let s = 0;
    let e = 0;
    for (let i = start; i < end; i++) {
      s += ref[i]! * ref[i]!;
      const d = ref[i]! - deg[i]!;
      e += d * d;
    }
    if (s === 0) continue;
    const v = e === 0 ? hi : 10 * Math.log10(s / e);
    sum += Math.min(hi, Math.max(lo, v));
    count++;
    if (end === ref.length) break;
  }
  return count === 0 ? NaN : sum / count;
}

/**
 * Scale-invariant signal-to-distortion ratio (Le Roux et al. 2019), in dB, on zero-mean copies:
 * target = (<deg, ref> / <ref, ref>) ref, SI-SDR = 10 log10(|target|^2 / |deg - target|^2).
 */
export function siSdr(ref: Signal, deg: Signal): number {
  checkPair('si-sdr', ref, deg);
  const n = ref.length;
  let mr = 0;
  let md = 0;
  for (let i = 0; i < n; i++) {
    mr += ref[i]!;
    md += deg[i]!;
  }
  mr /= n;
  md /= n;
  let rr = 0;
  let rd = 0;
  for (let i = 0; i < n; i++) {
    const r = ref[i]! - mr;
    rr += r * r;
    rd += r * (deg[i]! - md);
  }
  if (rr === 0) return NaN;
  const a = rd / rr;
  let t = 0;
  let e = 0;
  for (let i = 0; i < n; i++) {
    const tv = a * (ref[i]! - mr);
    const ev = deg[i]! - md - tv;
    t += tv * tv;
    e += ev * ev;
  }
  return 10 * Math.log10(t / e);
}

export interface LsdOptions {
  /** FFT size (default 2048). */
  fftSize?: number;
  /** Hop (default fftSize / 4). */
  hop?: number;
}

/**
 * Log-spectral distance in dB: mean over STFT frames (periodic Hann window) of the RMS over frequency bins of
 * 10 log10(|R|^2 + eps) - 10 log10(|D|^2 + eps), eps = 1e-10. Signals shorter than one frame are zero-padded.
 */
export function logSpectralDistance(ref: Signal, deg: Signal, opts: LsdOptions = {}): number {
  checkPair('lsd', ref, deg);
  const nfft = opts.fftSize ?? 2048;
  if (nfft < 4 || (nfft & (nfft - 1)) !== 0) throw new ConfigError(`lsd: fftSize must be a power of two >= 4, got ${nfft}`);
  const hop = opts.hop ?? nfft / 4;
  const fft = new FFT(nfft);
  const win = new Float64Array(nfft);
  for (let i = 0; i < nfft; i++) win[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / nfft);
  const bufR = new Float64Array(nfft);
  const bufD = new Float64Array(nfft);
  const outR = fft.createComplexArray() as number[];
  const outD = fft.createComplexArray() as number[];
  const bins = nfft / 2 + 1;
  let total = 0;
  let frames = 0;
  for (let start = 0; start === 0 || start + nfft <= ref.length; start += hop) {
    bufR.fill(0);
    bufD.fill(0);
    const end = Math.min(ref.length, start + nfft);
    for (let i = start; i < end; i++) {
      bufR[i - start] = ref[i]! * win[i - start]!;
      bufD[i - start] = deg[i]! * win[i - start]!;
    }
    fft.realTransform(outR, bufR);
    fft.realTransform(outD, bufD);
    let acc = 0;
    for (let k = 0; k < bins; k++) {
      const pr = outR[2 * k]! ** 2 + outR[2 * k + 1]! ** 2;
      const pd = outD[2 * k]! ** 2 + outD[2 * k + 1]! ** 2;
      const d = 10 * Math.log10(pr + 1e-10) - 10 * Math.log10(pd + 1e-10);
      acc += d * d;
    }
    total += Math.sqrt(acc / bins);
    frames++;
  }
  return total / frames;
}
