/** MFCC as librosa 0.11 computes them: a DCT-II of power_to_db of the mel spectrogram, optionally liftered. */
import { ConfigError } from '../util/errors.js';
import { LIBROSA_DEFAULTS, type FeatureMatrix } from './defaults.js';
import { SimdDct } from './fftsimd.js';
import { melSpectrogram, type MelSpectrogramOptions } from './mel.js';
import { DB_PER_NEPER, dbParams, type PowerToDbOptions } from './power-to-db.js';
import type { FloatArray } from './resample.js';
import { cached, posInt } from './stft.js';

export interface MfccOptions extends MelSpectrogramOptions {
  /** Coefficients kept (librosa: 20). */
  nMfcc?: number;
  /** DCT normalisation: 'ortho' (librosa's default) or null. Only type-II DCT is offered. */
  dctNorm?: 'ortho' | null;
  /** Cepstral liftering coefficient (librosa: 0, none). */
  lifter?: number;
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
