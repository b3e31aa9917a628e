/**
 * Mel features as files and back to audio: a float32 .npy [n_mels, frames] plus a JSON sidecar (NAME.npy.json)
 * holding the settings that made it, so `wavelm features invert` and AudioProcessor.featuresToAudio can undo it
 * with the same filterbank and STFT.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ConfigError, FormatError, NotFoundError } from '../util/errors.js';
import { readNpy, writeNpy } from '../util/npy.js';
import { melToAudio, type MelToAudioOptions } from './mel-inverse.js';
import { LIBROSA_DEFAULTS, type FeatureMatrix, type PadMode, type WindowName } from './defaults.js';

/** How the stored values relate to mel power: as is, 10 log10(p / ref) (power_to_db), or ln(p) (the dataset's 'ln'). */
export type MelScale = 'power' | 'db' | 'ln';

export interface MelSettings {
  sampleRate: number;
  nFft: number;
  hopLength: number;
  winLength: number;
  window: WindowName;
  center: boolean;
  padMode: PadMode;
  /** Exponent of the magnitude the mel bands summed (2: power). */
  power: number;
  nMels: number;
  fmin: number;
  fmax: number;
  htk: boolean;
  norm: 'slaney' | null;
  scale: MelScale;
  /** The dB reference power (power_to_db's ref, the peak itself for ref=max); 1 unless scale is 'db'. */
  ref: number;
  /** Samples of the audio the features came from, or null when unknown. */
  length: number | null;
}

export interface MelSidecar extends MelSettings {
  format: 'wavelm-mel';
  version: 1;
}

/** Mel features in memory: the matrix and how it was made. */
export interface MelFeatures {
  kind: 'mel';
  mel: FeatureMatrix;
  settings: MelSettings;
}

/** librosa's defaults for a mel spectrogram at `sampleRate` (what a mel .npy without a sidecar is assumed to be). */
export function defaultMelSettings(sampleRate: number = LIBROSA_DEFAULTS.sr, nMels: number = LIBROSA_DEFAULTS.nMels): MelSettings {
  const nFft = LIBROSA_DEFAULTS.nFft;
  return {
    sampleRate,
    nFft,
    hopLength: nFft / 4,
    winLength: nFft,
    window: 'hann',
    center: true,
    padMode: 'constant',
    power: LIBROSA_DEFAULTS.power,
    nMels,
    fmin: 0,
    fmax: sampleRate / 2,
    htk: false,
    norm: 'slaney',
    scale: 'power',
    ref: 1,
    length: null,
  };
}

export function melSidecarPath(npyPath: string): string {
  return `${npyPath}.json`;
}

/** Writes NAME.npy and NAME.npy.json. */
export function writeMelFeatures(path: string, f: MelFeatures): void {
  writeNpy(path, f.mel.data, f.mel.shape);
  const side: MelSidecar = { format: 'wavelm-mel', version: 1, ...f.settings };
  writeFileSync(melSidecarPath(path), `${JSON.stringify(side, null, 2)}\n`);
}

function checkSidecar(s: unknown, file: string): MelSettings {
  const o = s as Partial<MelSidecar>;
  if (typeof o !== 'object' || o === null || o.format !== 'wavelm-mel')
    throw new FormatError(`${file}: not a wavelm mel sidecar (format should be 'wavelm-mel')`, { subject: file });
  if (o.version !== 1)
    throw new FormatError(`${file}: mel sidecar version ${String(o.version)} is not supported (this wavelm reads version 1)`, {
      subject: file,
    });
  const num = (k: keyof MelSettings): number => {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new FormatError(`${file}: '${k}' should be a number, found ${JSON.stringify(v)}`, { subject: file });
    return v;
  };
  for (const k of ['sampleRate', 'nFft', 'hopLength', 'winLength', 'power', 'nMels', 'fmin', 'fmax', 'ref'] as const) num(k);
  const oneOf = (k: keyof MelSettings, allowed: unknown[]): void => {
    if (!allowed.includes(o[k]))
      throw new FormatError(
        `${file}: '${k}' should be one of ${allowed.map((x) => JSON.stringify(x)).join(', ')}, found ${JSON.stringify(o[k])}`,
        { subject: file },
      );
  };
  oneOf('scale', ['power', 'db', 'ln']);
  oneOf('window', ['hann', 'hamming', 'blackman', 'boxcar', 'ones', 'rectangular']);
  oneOf('padMode', ['constant', 'reflect', 'edge', 'symmetric']);
  oneOf('center', [true, false]);
  oneOf('htk', [true, false]);
  oneOf('norm', ['slaney', null]);
  if (o.length !== null && !(Number.isSafeInteger(o.length) && o.length! >= 0))
    throw new FormatError(`${file}: 'length' should be a sample count or null, found ${JSON.stringify(o.length)}`, { subject: file });
  const { format: _f, version: _v, ...settings } = o as MelSidecar;
  return settings;
}

/** Reads a mel .npy ([n_mels, frames], float32 or float64) and its sidecar; `fallback` fills in when there is none. */
export function readMelFeatures(path: string, fallback?: (nMels: number) => MelSettings): MelFeatures {
  if (!existsSync(path))
    throw new NotFoundError(`${path}: no such file (give the .npy that 'wavelm features mel -o' wrote)`, { subject: path });
  const arr = readNpy(path);
  if (arr.shape.length !== 2)
    throw new FormatError(`${path}: a mel spectrogram is a 2-D array [n_mels, frames], this one has shape [${arr.shape.join(', ')}]`, {
      subject: path,
    });
  if (!(arr.data instanceof Float32Array || arr.data instanceof Float64Array))
    throw new FormatError(`${path}: mel values should be float32 or float64, found ${arr.data.constructor.name}`, { subject: path });
  const [nMels, frames] = arr.shape as [number, number];
  const data = arr.data instanceof Float32Array ? arr.data : Float32Array.from(arr.data);
  const side = melSidecarPath(path);
  let settings: MelSettings;
  if (existsSync(side)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(side, 'utf8'));
    } catch (e) {
      throw new FormatError(`${side}: not valid JSON (${(e as Error).message})`, { subject: side, cause: e });
    }
    settings = checkSidecar(parsed, side);
    if (settings.nMels !== nMels)
      throw new FormatError(`${side} says ${settings.nMels} mel bands, ${path} has ${nMels} rows`, { subject: side });
  } else settings = (fallback ?? ((n) => defaultMelSettings(undefined, n)))(nMels);
  return { kind: 'mel', mel: { data, shape: [nMels, frames] }, settings };
}

/** Settings given by hand for mel features, over those of the sidecar (or of librosa's defaults). */
export interface MelSettingsOverrides {
  sampleRate?: number;
  /** Also sets winLength to it and hopLength to nFft // 4, as librosa's defaults follow n_fft. */
  nFft?: number;
  hopLength?: number;
  power?: number;
  /** The values are power_to_db output (with `ref`, else the settings' own reference). */
  db?: boolean;
  /** The dB reference power, with `db`. */
  ref?: number;
}

/** The settings with the overrides applied; fmax is kept at or below the (new) Nyquist rate. */
export function overrideMelSettings(settings: MelSettings, o: MelSettingsOverrides): MelSettings {
  const s = { ...settings };
  if (o.sampleRate !== undefined) s.sampleRate = o.sampleRate;
  if (o.nFft !== undefined) {
    s.nFft = o.nFft;
    s.winLength = o.nFft;
    s.hopLength = Math.floor(o.nFft / 4);
  }
  if (o.hopLength !== undefined) s.hopLength = o.hopLength;
  if (o.power !== undefined) s.power = o.power;
  if (o.db) {
    s.scale = 'db';
    s.ref = o.ref ?? s.ref;
    if (!(s.ref > 0)) throw new ConfigError(`ref must be a positive number, got ${s.ref}`, { subject: 'ref' });
  }
  if (s.fmax > s.sampleRate / 2) s.fmax = s.sampleRate / 2;
  return s;
}

/** Stored values back to linear mel power (librosa.db_to_power for dB; exp for ln). */
export function melPower(f: MelFeatures): FeatureMatrix {
  const { scale, ref } = f.settings;
  const src = f.mel.data;
  if (scale === 'power') return f.mel;
  const out = new Float32Array(src.length);
  if (scale === 'db') for (let i = 0; i < src.length; i++) out[i] = ref * Math.pow(10, 0.1 * src[i]!);
  else for (let i = 0; i < src.length; i++) out[i] = Math.exp(src[i]!);
  return { data: out, shape: f.mel.shape };
}

export interface MelInversionOptions {
  nIter?: number;
  momentum?: number;
  init?: 'random' | null;
  randomState?: number;
  nnlsIter?: number;
  /** Output length in samples; default: the sidecar's length when it has one. */
  length?: number;
}

/** Mel features to mono float32 audio at the settings' rate: librosa.feature.inverse.mel_to_audio. */
export function melFeaturesToAudio(f: MelFeatures, opts: MelInversionOptions = {}): Float32Array {
  const s = f.settings;
  if (f.mel.shape[1] < 1) throw new ConfigError('the mel spectrogram has no frames', { subject: 'mel' });
  const o: MelToAudioOptions = {
    sr: s.sampleRate,
    nFft: s.nFft,
    hopLength: s.hopLength,
    winLength: s.winLength,
    window: s.window,
    center: s.center,
    padMode: s.padMode,
    power: s.power,
    fmin: s.fmin,
    fmax: s.fmax,
    htk: s.htk,
    norm: s.norm,
    nIter: opts.nIter,
    momentum: opts.momentum,
    init: opts.init,
    randomState: opts.randomState,
    nnlsIter: opts.nnlsIter,
    length: opts.length ?? s.length ?? undefined,
  };
  return melToAudio(melPower(f), o);
}
