/**
 * What the spectral features share: librosa 0.11's defaults, in one place for the library, the CLI and the
 * docs, and the matrix type they return.
 */
/** A row-major matrix in librosa's orientation: shape [rows, frames]. */
export interface FeatureMatrix {
  data: Float32Array;
  shape: [number, number];
}

export type WindowName = 'hann' | 'hamming' | 'blackman' | 'boxcar' | 'ones' | 'rectangular';
/** librosa's stft pad modes that make sense for audio (np.pad names). */
export type PadMode = 'constant' | 'reflect' | 'edge' | 'symmetric';

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
