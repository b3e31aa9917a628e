/**
 * Mel spectrogram back to a linear spectrogram and to audio, after librosa 0.11's feature.inverse.mel_to_stft and
 * mel_to_audio: a non-negative least-squares fit of the mel filterbank to each frame, then Griffin-Lim.
 *
 * librosa solves the NNLS problem with scipy's L-BFGS-B (librosa.util.nnls) started from the pseudo-inverse
 * solution clipped at zero. Here the same objective, min_x>=0 ||A x - m||^2 per frame, is minimised from the same
 * start by accelerated projected gradient (FISTA; Beck & Teboulle, SIAM J. Imaging Sci. 2(1), 2009) for a fixed
 * number of iterations. With more frequency bins than mel bands the minimiser is not unique, so the spectrum
 * reached can differ from L-BFGS-B's in the null space of the filterbank; both fit the mel frames equally well
 * (docs/features.md gives the measured difference).
 */
import { createHash } from 'node:crypto';
import { ConfigError } from '../util/errors.js';
import { griffinLim, type GriffinLimOptions } from './griffinlim.js';
import { LIBROSA_DEFAULTS, type FeatureMatrix } from './defaults.js';
import { melFilterbank, packMel, type MelFilterbank, type MelOptions, type PackedMel } from './mel.js';

export interface MelToStftOptions extends MelOptions {
  /** FFT length of the spectrogram to recover (librosa: 2048). */
  nFft?: number;
  /** Exponent the mel spectrogram was computed with (librosa: 2, power). */
  power?: number;
  /** Projected-gradient iterations per frame after the pseudo-inverse start (default 100). */
  nnlsIter?: number;
}

export interface MelToAudioOptions extends MelToStftOptions, Omit<GriffinLimOptions, 'nFft'> {}

/** Eigen-decomposition of a symmetric n x n matrix (row-major) by cyclic Jacobi rotations: values and column vectors. */
export function symmetricEigen(G: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(G);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let p = 0; p < n; p++) {
      diag += a[p * n + p]! * a[p * n + p]!;
      for (let q = p + 1; q < n; q++) off += a[p * n + q]! * a[p * n + q]!;
    }
    if (off <= 1e-30 * diag || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (apq === 0) continue;
        const app = a[p * n + p]!;
        const aqq = a[q * n + q]!;
        // Rotation angle that zeroes a[p][q] (Golub & Van Loan, Matrix Computations, 4th ed., 8.5.2).
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i]!;
  return { values, vectors: v };
}

/**
 * Moore-Penrose pseudo-inverse of a filterbank A ([nMels, bins]) as [bins, nMels], A^T (A A^T)^+, and the largest
 * eigenvalue of A A^T. Discards
 * singular values below 1e-7 of the largest (numpy.linalg.pinv discards below 1e-15; between the two only
 * numerical noise lies, since A A^T's eigenvalues are resolved to about 1e-16 of the largest).
 */
export function melPseudoInverse(fb: MelFilterbank): { pinv: Float64Array; lambdaMax: number } {
  const [nMels, bins] = fb.shape;
  const A = fb.data;
  const G = new Float64Array(nMels * nMels);
  for (let i = 0; i < nMels; i++) {
    for (let j = i; j < nMels; j++) {
      const s = Math.max(fb.start[i]!, fb.start[j]!);
      const e = Math.min(fb.end[i]!, fb.end[j]!);
      let acc = 0;
      for (let k = s; k < e; k++) acc += A[i * bins + k]! * A[j * bins + k]!;
      G[i * nMels + j] = acc;
      G[j * nMels + i] = acc;
    }
  }
  const { values, vectors } = symmetricEigen(G, nMels);
  let maxVal = 0;
  for (const x of values) maxVal = Math.max(maxVal, x);
  const cutoff = maxVal * 1e-14; // eigenvalues are squared singular values: 1e-7 relative in s
  // Ginv = V diag(1/lambda) V^T over the kept eigenvalues.
  const Ginv = new Float64Array(nMels * nMels);
  for (let e = 0; e < nMels; e++) {
    const l = values[e]!;
    if (!(l > cutoff)) continue;
    for (let i = 0; i < nMels; i++) {
      const vi = vectors[i * nMels + e]! / l;
      if (vi === 0) continue;
      for (let j = 0; j < nMels; j++) Ginv[i * nMels + j] = Ginv[i * nMels + j]! + vi * vectors[j * nMels + e]!;
    }
  }
  const P = new Float64Array(bins * nMels);
  for (let m = 0; m < nMels; m++) {
    for (let k = fb.start[m]!; k < fb.end[m]!; k++) {
      const w = A[m * bins + k]!;
      for (let j = 0; j < nMels; j++) P[k * nMels + j] = P[k * nMels + j]! + w * Ginv[m * nMels + j]!;
    }
  }
  return { pinv: P, lambdaMax: maxVal };
}

/** out = A x. */
function applyA(p: PackedMel, x: Float64Array, out: Float64Array): void {
  const { start, off, w } = p;
  for (let m = 0; m < p.nMels; m++) {
    let acc = 0;
    const e = off[m + 1]!;
    for (let j = off[m]!, k = start[m]!; j < e; j++, k++) acc += w[j]! * x[k]!;
    out[m] = acc;
  }
}

/** out = A^T r. */
function applyAt(p: PackedMel, r: Float64Array, out: Float64Array): void {
  const { start, off, w } = p;
  out.fill(0);
  for (let m = 0; m < p.nMels; m++) {
    const rm = r[m]!;
    const e = off[m + 1]!;
    for (let j = off[m]!, k = start[m]!; j < e; j++, k++) out[k] = out[k]! + w[j]! * rm;
  }
}

/**
 * The pseudo-inverse costs more than inverting a few seconds of audio (an eigen-decomposition of n_mels^2), so the
 * last few filterbanks' are kept, keyed by the filterbank's content.
 */
const solverCache = new Map<string, { pinv: Float64Array; lambdaMax: number; A: PackedMel }>();

function solverFor(fb: MelFilterbank): { pinv: Float64Array; lambdaMax: number; A: PackedMel } {
  const bytes = new Uint8Array(fb.data.buffer, fb.data.byteOffset, fb.data.byteLength);
  const key = `${fb.shape.join('x')}:${createHash('sha1').update(bytes).digest('hex')}`;
  const hit = solverCache.get(key);
  if (hit) return hit;
  const made = { ...melPseudoInverse(fb), A: packMel(fb) };
  solverCache.set(key, made);
  if (solverCache.size > 4) solverCache.delete(solverCache.keys().next().value as string);
  return made;
}

/**
 * Non-negative least squares per column: X >= 0 ([bins, T]) minimising ||A X - M||^2, from max(0, pinv(A) M) by
 * `iters` FISTA steps of size 1 / L. Float64 inside, float32 out.
 */
export function nnlsFilterbank(fb: MelFilterbank, M: FeatureMatrix, iters = 100): FeatureMatrix {
  const [nMels, bins] = fb.shape;
  const [rows, T] = M.shape;
  if (rows !== nMels) throw new ConfigError(`mel spectrogram has ${rows} bands, the filterbank ${nMels}`, { subject: 'n_mels' });
  if (!Number.isSafeInteger(iters) || iters < 0)
    throw new ConfigError(`nnls iterations must be a non-negative integer, got ${iters}`, { subject: 'nnls_iter' });
  // lambdaMax(A A^T) = lambdaMax(A^T A), the gradient's Lipschitz constant, sets the step.
  const { pinv: P, lambdaMax: L, A } = solverFor(fb);
  const out = new Float32Array(bins * T);
  const b = new Float64Array(nMels);
  let x = new Float64Array(bins);
  let xPrev = new Float64Array(bins);
  const z = new Float64Array(bins);
  const r = new Float64Array(nMels);
  const g = new Float64Array(bins);
  for (let t = 0; t < T; t++) {
    for (let m = 0; m < nMels; m++) b[m] = M.data[m * T + t]!;
    for (let k = 0; k < bins; k++) {
      let acc = 0;
      for (let m = 0; m < nMels; m++) acc += P[k * nMels + m]! * b[m]!;
      x[k] = acc > 0 ? acc : 0;
    }
    if (L > 0 && iters > 0) {
      z.set(x);
      let tk = 1;
      for (let it = 0; it < iters; it++) {
        applyA(A, z, r);
        for (let m = 0; m < nMels; m++) r[m] = r[m]! - b[m]!;
        applyAt(A, r, g);
        const swap = xPrev;
        xPrev = x;
        x = swap;
        for (let k = 0; k < bins; k++) {
          const v = z[k]! - g[k]! / L;
          x[k] = v > 0 ? v : 0;
        }
        const tNext = (1 + Math.sqrt(1 + 4 * tk * tk)) / 2;
        const beta = (tk - 1) / tNext;
        for (let k = 0; k < bins; k++) z[k] = x[k]! + beta * (x[k]! - xPrev[k]!);
        tk = tNext;
      }
    }
    for (let k = 0; k < bins; k++) out[k * T + t] = x[k]!;
  }
  return { data: out, shape: [bins, T] };
}

/** librosa.feature.inverse.mel_to_stft: magnitude spectrogram [1 + n_fft/2, frames] from a mel spectrogram. */
export function melToStft(M: FeatureMatrix, opts: MelToStftOptions = {}): FeatureMatrix {
  const power = opts.power ?? LIBROSA_DEFAULTS.power;
  if (!(power > 0)) throw new ConfigError(`power must be positive, got ${power}`, { subject: 'power' });
  for (let i = 0; i < M.data.length; i++) {
    if (!Number.isFinite(M.data[i]!))
      throw new ConfigError(`mel spectrogram entry ${i} is ${M.data[i]}; give linear (not dB) finite values`, { subject: 'mel' });
  }
  const fb = melFilterbank({
    sr: opts.sr,
    nFft: opts.nFft,
    nMels: M.shape[0],
    fmin: opts.fmin,
    fmax: opts.fmax,
    htk: opts.htk,
    norm: opts.norm,
  });
  const S = nnlsFilterbank(fb, M, opts.nnlsIter ?? 100);
  if (power !== 1) {
    const e = 1 / power;
    for (let i = 0; i < S.data.length; i++) S.data[i] = Math.pow(S.data[i]!, e);
  }
  return S;
}

/** librosa.feature.inverse.mel_to_audio: mel_to_stft, then griffinlim with the same STFT settings. */
export function melToAudio(M: FeatureMatrix, opts: MelToAudioOptions = {}): Float32Array {
  const S = melToStft(M, opts);
  const nFft = opts.nFft ?? LIBROSA_DEFAULTS.nFft;
  return griffinLim(S, { ...opts, nFft });
}
