/**
 * One librosa feature of a mono signal, as `wavelm features stft|mel|mfcc` computes it: the matrix, what
 * its values are (for drawing), and for mel the settings a sidecar needs to invert it.
 */
import type { MelSettings } from './mel-file.js';
import type { SpectrogramScale } from './spectrogram-image.js';
import { LIBROSA_DEFAULTS, type FeatureMatrix, type WindowName } from './defaults.js';
import { melSpectrogram, type MelSpectrogramOptions } from './mel.js';
import { mfccFromDb } from './mfcc.js';
import { powerToDb } from './power-to-db.js';
import { spectrogram } from './stft.js';

export type FeatureKind = 'stft' | 'mel' | 'mfcc';

export interface FeatureRequest extends MelSpectrogramOptions {
  kind: FeatureKind;
  /** Sample rate of the signal. */
  sr: number;
  /** Exponent of the magnitude (stft: 1, magnitude; mel and mfcc: librosa's 2, power). */
  power?: number;
  /** stft and mel: convert to dB (stft power 1: amplitude_to_db; power 2 and mel: power_to_db). mfcc is always taken from dB. */
  db?: boolean;
  /** dB clipping below the peak, null for none (librosa: 80). */
  topDb?: number | null;
  /** dB reference: a number (librosa: 1.0) or 'max'. */
  ref?: number | 'max';
  /** mfcc: coefficients kept (librosa: 20). */
  nMfcc?: number;
  /** mfcc: cepstral liftering (librosa: 0). */
  lifter?: number;
}

export interface ExtractedFeature {
  matrix: FeatureMatrix;
  scale: SpectrogramScale;
  /** For mel: everything `features invert` needs to undo it (the sidecar writeMelFeatures writes). */
  melSettings?: MelSettings;
}

function stftFeature(
  y: Float32Array,
  r: FeatureRequest,
  spectral: MelSpectrogramOptions,
  ref: number | 'max',
  topDb: number | null,
): ExtractedFeature {
  const power = r.power ?? 1;
  const m = spectrogram(y, { ...spectral, power });
  const scale: SpectrogramScale = power === 2 ? 'power' : 'magnitude';
  if (!r.db) return { matrix: m, scale };
  // Power 1 is librosa.amplitude_to_db: power_to_db of S^2 with ref^2 and amin^2.
  const S = power === 2 ? m : { data: m.data.map((x) => x * x), shape: m.shape };
  const dbRef = power === 2 || ref === 'max' ? ref : ref * ref;
  return { matrix: powerToDb(S, { ref: dbRef, amin: 1e-10, topDb }), scale: 'db' };
}

function melSettingsOf(y: Float32Array, r: FeatureRequest, m: FeatureMatrix, power: number, dbRef: number | null): MelSettings {
  const nFft = r.nFft ?? LIBROSA_DEFAULTS.nFft;
  const winLength = r.winLength ?? nFft;
  return {
    sampleRate: r.sr,
    nFft,
    hopLength: r.hopLength ?? Math.max(1, Math.floor(winLength / 4)),
    winLength,
    window: (r.window ?? LIBROSA_DEFAULTS.window) as WindowName,
    center: r.center ?? LIBROSA_DEFAULTS.center,
    padMode: r.padMode ?? LIBROSA_DEFAULTS.padMode,
    power,
    nMels: m.shape[0],
    fmin: r.fmin ?? 0,
    fmax: r.fmax ?? r.sr / 2,
    htk: r.htk ?? false,
    norm: r.norm === undefined ? LIBROSA_DEFAULTS.norm : r.norm,
    scale: dbRef === null ? 'power' : 'db',
    ref: dbRef ?? 1,
    length: y.length,
  };
}

export function extractFeature(y: Float32Array, r: FeatureRequest): ExtractedFeature {
  const { kind: _kind, db: _db, topDb: _topDb, ref: _ref, nMfcc: _nMfcc, lifter: _lifter, ...spectral } = r;
  const topDb = r.topDb === undefined ? LIBROSA_DEFAULTS.topDb : r.topDb;
  const ref = r.ref ?? LIBROSA_DEFAULTS.ref;
  if (r.kind === 'stft') return stftFeature(y, r, spectral, ref, topDb);
  const power = r.power ?? LIBROSA_DEFAULTS.power;
  const mel = melSpectrogram(y, { ...spectral, power });
  if (r.kind === 'mfcc') return { matrix: mfccFromDb(powerToDb(mel, { ref, topDb }), { nMfcc: r.nMfcc, lifter: r.lifter }), scale: 'db' };
  if (!r.db) return { matrix: mel, scale: power === 2 ? 'power' : 'magnitude', melSettings: melSettingsOf(y, r, mel, power, null) };
  // The sidecar keeps the reference power itself (the peak, for ref 'max') so db_to_power can undo it.
  const dbRef = ref === 'max' ? mel.data.reduce((a, b) => Math.max(a, b), 0) : ref;
  return { matrix: powerToDb(mel, { ref, topDb }), scale: 'db', melSettings: melSettingsOf(y, r, mel, power, dbRef) };
}
