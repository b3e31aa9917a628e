/**
 * `mel`: a mel spectrogram computed at write time (src/features, librosa-compatible), stored as
 * [n_mels, frames] in float16 or float32, optionally log-compressed. Audio is down-mixed to mono and
 * resampled to `sample_rate` first, so every sample shares one filterbank.
 */
import { melSpectrogram } from '../../features/mel.js';
import { ConfigError } from '../../util/errors.js';
import type { MetaColumn } from '../format.js';
import {
  argNumber,
  argString,
  type ArrayBatch,
  type DecodedValue,
  type Encoded,
  type Field,
  type SampleInput,
  type Window,
} from './field.js';
import { floatsToHalf, halfToFloats } from './half.js';
import { needAudio, prepareAudio, type AudioPrep } from './waveform.js';

type MelDType = 'float16' | 'float32';
type LogMode = 'none' | 'ln' | 'db';

export class MelField implements Field {
  readonly type = 'mel';
  readonly kind = 'array';
  readonly heavy = false;
  readonly croppable = true;
  readonly meta: MetaColumn[] = [{ name: 'frames', type: 'u32' }];
  readonly args: Record<string, unknown>;
  readonly nMels: number;
  readonly sampleRate: number;
  readonly hop: number;
  private readonly nFft: number;
  private readonly fmin: number;
  private readonly fmax: number;
  private readonly power: number;
  private readonly log: LogMode;
  private readonly floor: number;
  readonly dtype: MelDType;

  constructor(
    readonly name: string,
    args: Record<string, unknown>,
  ) {
    this.sampleRate = argNumber(args, 'sample_rate', 16000, name)!;
    this.nFft = argNumber(args, 'n_fft', 400, name)!;
    this.hop = argNumber(args, 'hop_length', 160, name)!;
    this.nMels = argNumber(args, 'n_mels', 80, name)!;
    this.fmin = argNumber(args, 'f_min', 0, name)!;
    this.fmax = argNumber(args, 'f_max', this.sampleRate / 2, name)!;
    this.power = argNumber(args, 'power', 2, name)!;
    this.log = argString<LogMode>(args, 'log', 'ln', ['none', 'ln', 'db'], name);
    this.floor = argNumber(args, 'floor', 1e-10, name)!;
    this.dtype = argString<MelDType>(args, 'dtype', 'float16', ['float16', 'float32'], name);
    for (const [k, v] of [
      ['sample_rate', this.sampleRate],
      ['n_fft', this.nFft],
      ['hop_length', this.hop],
      ['n_mels', this.nMels],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ConfigError(`field '${name}': ${k} must be a positive integer, got ${v}`);
    }
    if (!(this.fmin >= 0 && this.fmax > this.fmin && this.fmax <= this.sampleRate / 2))
      throw new ConfigError(`field '${name}': need 0 <= f_min < f_max <= sample_rate / 2`);
    if (!(this.floor > 0)) throw new ConfigError(`field '${name}': floor must be positive`);
    this.args = {
      sample_rate: this.sampleRate,
      n_fft: this.nFft,
      hop_length: this.hop,
      n_mels: this.nMels,
      f_min: this.fmin,
      f_max: this.fmax,
      power: this.power,
      log: this.log,
      floor: this.floor,
      dtype: this.dtype,
    };
  }

  encode(input: SampleInput): Encoded {
    const audio = needAudio(input, this.name);
    const prep: AudioPrep = { sampleRate: this.sampleRate, mono: true, normalize: false, peak: 1, quality: 'default' };
    const y = prepareAudio(audio, prep).channels[0]!;
    const m = melSpectrogram(y, {
      sr: this.sampleRate,
      nFft: this.nFft,
      hopLength: this.hop,
      nMels: this.nMels,
      fmin: this.fmin,
      fmax: this.fmax,
      power: this.power,
    });
    const d = m.data;
    if (this.log !== 'none') {
      const k = this.log === 'db' ? 10 / Math.LN10 : 1;
      for (let i = 0; i < d.length; i++) d[i] = k * Math.log(Math.max(this.floor, d[i]!));
    }
    const frames = m.shape[1];
    const stored = this.dtype === 'float16' ? floatsToHalf(d) : d;
    return { meta: [frames], bytes: new Uint8Array(stored.buffer, stored.byteOffset, stored.byteLength) };
  }

  private get eb(): number {
    return this.dtype === 'float16' ? 2 : 4;
  }

  check(meta: readonly number[], length: number): string | undefined {
    const want = meta[0]! * this.nMels * this.eb;
    return want === length ? undefined : `${meta[0]} frames x ${this.nMels} mels need ${want} bytes, blob has ${length}`;
  }

  timeLength(meta: readonly number[]): number {
    return meta[0]!;
  }

  duration(meta: readonly number[]): number {
    return (meta[0]! * this.hop) / this.sampleRate;
  }

  layout(): { dtype: 'float32'; inner: number[] } {
    return { dtype: 'float32', inner: [this.nMels] };
  }

  private floats(bytes: Uint8Array): Float32Array {
    const n = bytes.length / this.eb;
    if (this.dtype === 'float32')
      return bytes.byteOffset % 4 === 0 ? new Float32Array(bytes.buffer, bytes.byteOffset, n) : new Float32Array(bytes.slice().buffer);
    const h = bytes.byteOffset % 2 === 0 ? new Uint16Array(bytes.buffer, bytes.byteOffset, n) : new Uint16Array(bytes.slice().buffer);
    return halfToFloats(h);
  }

  decodeInto(out: ArrayBatch, j: number, bytes: Uint8Array, meta: readonly number[], w?: Window): number {
    const frames = meta[0]!;
    const x = this.floats(bytes);
    const T = out.shape[2]!;
    const start = w ? Math.min(w.start, frames) : 0;
    const n = Math.min(T, frames - start, w ? w.length : Infinity);
    const dst = out.data as Float32Array;
    for (let m = 0; m < this.nMels; m++) dst.set(x.subarray(m * frames + start, m * frames + start + n), (j * out.shape[1]! + m) * T);
    return n;
  }

  decode(bytes: Uint8Array, meta: readonly number[]): DecodedValue {
    const x = this.floats(bytes);
    return { kind: 'array', dtype: 'float32', shape: [this.nMels, meta[0]!], data: x.slice() };
  }
}
