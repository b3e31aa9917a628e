/**
 * librosa.griffinlim (0.11): phase recovery from a magnitude spectrogram by the "fast Griffin-Lim" iteration of
 * Perraudin, Balazs & Søndergaard, "A fast Griffin-Lim algorithm", WASPAA 2013 (momentum 0.99), around
 * Griffin & Lim, "Signal estimation from modified short-time Fourier transform", IEEE TASSP 32(2), 1984.
 *
 * The phases are held as complex64 and every update is rounded to float32 as numpy does for librosa's complex64
 * arrays; the transforms are this package's stft (SIMD pair FFT) and istft.
 */
import { ConfigError } from '../util/errors.js';
import { istft, istftPlan, FLOAT32_TINY } from './istft.js';
import { RandomState } from './mt19937.js';
import { LIBROSA_DEFAULTS, type FeatureMatrix, type PadMode, type WindowName } from './defaults.js';
import { stft } from './stft.js';

export interface GriffinLimOptions {
  /** Iterations (librosa: 32). */
  nIter?: number;
  /** Momentum of the fast Griffin-Lim update (librosa: 0.99; 0 is plain Griffin-Lim). */
  momentum?: number;
  /** 'random' phases (librosa's default) or null for zero phase (librosa's init=None). */
  init?: 'random' | null;
  /**
   * Seed of numpy's RandomState for the random phases (librosa's random_state=seed gives the same phases). librosa
   * draws unseeded phases when it is None; here the default is 0 so that runs repeat.
   */
  randomState?: number;
  /** FFT length; must be 2 * (rows - 1). */
  nFft?: number;
  hopLength?: number;
  winLength?: number;
  window?: WindowName | Float64Array | Float32Array;
  center?: boolean;
  /** Padding of the forward STFT when center is true (librosa 0.11: 'constant'). */
  padMode?: PadMode;
  /** Output length in samples (librosa's `length`). */
  length?: number;
}

/** The initial complex64 phasors S * exp(i phi) as (re, im). */
function initialAngles(S: FeatureMatrix, opts: GriffinLimOptions): { re: Float32Array; im: Float32Array } {
  const n = S.data.length;
  const re = new Float32Array(n);
  const im = new Float32Array(n);
  const init = opts.init === undefined ? 'random' : opts.init;
  if (init === 'random') {
    // librosa: angles[:] = util.phasor(2 * pi * rng.random(size=S.shape)), in S's row-major order.
    const rng = new RandomState(opts.randomState ?? 0);
    for (let i = 0; i < n; i++) {
      const phi = 2 * Math.PI * rng.random();
      re[i] = Math.fround(Math.fround(Math.cos(phi)) * S.data[i]!);
      im[i] = Math.fround(Math.fround(Math.sin(phi)) * S.data[i]!);
    }
  } else if (init === null) {
    re.set(S.data);
  } else {
    throw new ConfigError(`griffinlim: init must be 'random' or null, got '${String(init)}'`, { subject: 'init' });
  }
  return { re, im };
}

/** Audio (float32) whose STFT magnitude approximates S ([1 + n_fft/2, frames]), as librosa.griffinlim. */
export function griffinLim(S: FeatureMatrix, opts: GriffinLimOptions = {}): Float32Array {
  const [rows, T] = S.shape;
  const nIter = opts.nIter ?? 32;
  if (!Number.isSafeInteger(nIter) || nIter < 0)
    throw new ConfigError(`n_iter must be a non-negative integer, got ${nIter}`, { subject: 'n_iter' });
  const momentum = opts.momentum ?? 0.99;
  if (!(momentum >= 0)) throw new ConfigError(`griffinlim() momentum must be non-negative, got ${momentum}`, { subject: 'momentum' });
  for (let i = 0; i < S.data.length; i++) {
    if (!(S.data[i]! >= 0))
      throw new ConfigError(`griffinlim: magnitudes must be finite and non-negative; entry ${i} is ${S.data[i]}`, { subject: 'S' });
  }
  const iopts = {
    nFft: opts.nFft,
    hopLength: opts.hopLength,
    winLength: opts.winLength,
    window: opts.window,
    center: opts.center,
    length: opts.length,
  };
  const plan = istftPlan(rows, iopts);
  const sopts = {
    nFft: plan.nFft,
    hopLength: plan.hop,
    winLength: opts.winLength,
    window: opts.window,
    center: plan.center,
    padMode: opts.padMode ?? LIBROSA_DEFAULTS.padMode,
  };
  const angles = initialAngles(S, opts);
  const A = {
    re: { data: angles.re, shape: [rows, T] as [number, number] },
    im: { data: angles.im, shape: [rows, T] as [number, number] },
  };
  // numpy multiplies complex64 by the Python scalar in float32.
  const c = Math.fround(momentum / (1 + momentum));
  const fr = Math.fround;
  let tprev: { re: FeatureMatrix; im: FeatureMatrix } | undefined;
  for (let it = 0; it < nIter; it++) {
    const inverse = istft(A.re, A.im, iopts, plan);
    const rebuilt = stft(inverse, sopts);
    if (rebuilt.re.shape[1] !== T) {
      throw new ConfigError(
        `griffinlim: the signal of ${inverse.length} samples gives ${rebuilt.re.shape[1]} frames, not ${T}; leave length unset or ` +
          'match it to the spectrogram',
        { subject: 'length' },
      );
    }
    const rr = rebuilt.re.data;
    const ri = rebuilt.im.data;
    const pr = tprev?.re.data;
    const pi = tprev?.im.data;
    for (let i = 0; i < rr.length; i++) {
      let a = rr[i]!;
      let b = ri[i]!;
      if (pr) {
        a = fr(a - fr(c * pr[i]!));
        b = fr(b - fr(c * pi![i]!));
      }
      const mag = fr(fr(Math.sqrt(a * a + b * b)) + FLOAT32_TINY);
      const s = S.data[i]!;
      angles.re[i] = fr(fr(a / mag) * s);
      angles.im[i] = fr(fr(b / mag) * s);
    }
    tprev = rebuilt;
  }
  return istft(A.re, A.im, iopts, plan);
}
