/**
 * `waveform`: raw PCM, int16 or float32, interleaved by frame. Decoding is a copy, and a time window
 * is one contiguous byte range, so crops read only the bytes they return.
 * Write-time options: target sample rate (resampled with a named quality), mono down-mix, peak
 * normalisation.
 */
import { interleave, toFloat32Channels, toInt16 } from '../../audio/index.js';
import type { AudioData } from '../../audio/types.js';
import { resample, type ResampleQuality } from '../../features/index.js';
import { ConfigError } from '../../util/errors.js';
import type { MetaColumn } from '../format.js';
import {
  argBool,
  argNumber,
  argString,
  DTYPE_BYTES,
  viewAs,
  type ArrayBatch,
  type DecodedValue,
  type Encoded,
  type Field,
  type SampleInput,
  type Window,
} from './field.js';

export type WaveDType = 'int16' | 'float32';

/** Audio after the write-time options shared by waveform, compressed and mel fields. */
export interface PreparedAudio {
  channels: Float32Array[];
  sampleRate: number;
}

export interface AudioPrep {
  sampleRate?: number;
  mono: boolean;
  normalize: boolean;
  peak: number;
  quality: ResampleQuality;
}

export function audioPrepArgs(args: Record<string, unknown>, name: string, defaults: Partial<AudioPrep> = {}): AudioPrep {
  const sampleRate = argNumber(args, 'sample_rate', defaults.sampleRate, name);
  if (sampleRate !== undefined && !(Number.isInteger(sampleRate) && sampleRate > 0))
    throw new ConfigError(`field '${name}': sample_rate must be a positive integer, got ${sampleRate}`);
  const peak = argNumber(args, 'peak', 0.99, name)!;
  if (!(peak > 0 && peak <= 1)) throw new ConfigError(`field '${name}': peak must be in (0, 1], got ${peak}`);
  return {
    sampleRate,
    mono: argBool(args, 'mono', defaults.mono ?? false, name),
    normalize: argBool(args, 'normalize', false, name),
    peak,
    quality: argString<ResampleQuality>(args, 'quality', 'default', ['fast', 'default', 'best'], name),
  };
}

export function needAudio(input: SampleInput, field: string): AudioData {
  if (!input.audio) throw new ConfigError(`field '${field}' needs audio, and sample ${input.key} has none`, { subject: input.key });
  return input.audio;
}

/** Applies down-mix, resampling and normalisation; returns planar float channels. */
export function prepareAudio(audio: AudioData, p: AudioPrep): PreparedAudio {
  let ch = toFloat32Channels(audio);
  if (p.mono && ch.length > 1) {
    const m = new Float32Array(audio.frames);
    for (const c of ch) for (let i = 0; i < m.length; i++) m[i]! += c[i]!;
    const inv = 1 / ch.length;
    for (let i = 0; i < m.length; i++) m[i]! *= inv;
    ch = [m];
  }
  let rate = audio.sampleRate;
  if (p.sampleRate !== undefined && p.sampleRate !== rate) {
    ch = ch.map((c) => resample(c, rate, p.sampleRate!, { quality: p.quality }));
    rate = p.sampleRate;
  }
  if (p.normalize) {
    let peak = 0;
    for (const c of ch) for (let i = 0; i < c.length; i++) peak = Math.max(peak, Math.abs(c[i]!));
    if (peak > 0) {
      const g = p.peak / peak;
      for (const c of ch) for (let i = 0; i < c.length; i++) c[i]! *= g;
    }
  }
  return { channels: ch, sampleRate: rate };
}

export function floatToInt16(x: Float32Array): Int16Array {
  const out = new Int16Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = Math.round(x[i]! * 32768);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

const bytesOf = (a: Int16Array | Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Deinterleaves `frames` frames of `C` channels from `src` into batch slot j ([B, C', T']). */
export function deinterleaveInto(out: ArrayBatch, j: number, src: Int16Array | Float32Array, C: number, frames: number): void {
  const T = out.shape[out.shape.length - 1]!;
  const Cout = out.shape[1]!;
  const base = j * Cout * T;
  const dst = out.data as Int16Array | Float32Array;
  if (C === 1) {
    (dst as Float32Array).set(src.subarray(0, frames) as Float32Array, base);
    return;
  }
  for (let c = 0; c < C; c++) {
    const o = base + c * T;
    for (let i = 0, k = c; i < frames; i++, k += C) dst[o + i] = src[k]!;
  }
}

/** The per-sample metadata every audio field stores: what a reader needs to size and label the decoded audio. */
export function audioMetaColumns(): MetaColumn[] {
  return [
    { name: 'frames', type: 'u32' },
    { name: 'channels', type: 'u16' },
    { name: 'sample_rate', type: 'u32' },
  ];
}

export class WaveformField implements Field {
  readonly type = 'waveform';
  readonly kind = 'array';
  readonly heavy = false;
  readonly croppable = true;
  readonly meta: MetaColumn[] = audioMetaColumns();
  readonly args: Record<string, unknown>;
  readonly dtype: WaveDType;
  private readonly prep: AudioPrep;

  constructor(
    readonly name: string,
    args: Record<string, unknown>,
  ) {
    this.dtype = argString<WaveDType>(args, 'dtype', 'int16', ['int16', 'float32'], name);
    this.prep = audioPrepArgs(args, name);
    this.args = {
      dtype: this.dtype,
      sample_rate: this.prep.sampleRate ?? null,
      mono: this.prep.mono,
      normalize: this.prep.normalize,
      peak: this.prep.peak,
      quality: this.prep.quality,
    };
  }

  encode(input: SampleInput): Encoded {
    const audio = needAudio(input, this.name);
    const p = this.prep;
    // int16 in, int16 out, nothing to change: store the samples exactly as read.
    if (
      this.dtype === 'int16' &&
      audio.sampleType === 'int16' &&
      !p.normalize &&
      (p.sampleRate === undefined || p.sampleRate === audio.sampleRate) &&
      (!p.mono || audio.channels === 1)
    ) {
      const s = toInt16(audio);
      return { meta: [audio.frames, audio.channels, audio.sampleRate], bytes: bytesOf(s) };
    }
    const prepared = prepareAudio(audio, p);
    const inter = interleave(prepared.channels);
    const frames = prepared.channels[0]?.length ?? 0;
    const data = this.dtype === 'int16' ? floatToInt16(inter) : inter;
    return { meta: [frames, prepared.channels.length, prepared.sampleRate], bytes: bytesOf(data) };
  }

  check(meta: readonly number[], length: number): string | undefined {
    const [frames, channels, rate] = meta as [number, number, number];
    if (channels < 1) return `${channels} channels`;
    if (rate < 1) return `sample rate ${rate}`;
    const want = frames * channels * DTYPE_BYTES[this.dtype];
    return want === length ? undefined : `${frames} frames x ${channels} channels of ${this.dtype} need ${want} bytes, blob has ${length}`;
  }

  timeLength(meta: readonly number[]): number {
    return meta[0]!;
  }

  duration(meta: readonly number[]): number {
    return meta[0]! / meta[2]!;
  }

  layout(meta: readonly number[]): { dtype: WaveDType; inner: number[] } {
    return { dtype: this.dtype, inner: [meta[1]!] };
  }

  byteRange(meta: readonly number[], w: Window): [number, number] {
    const fb = meta[1]! * DTYPE_BYTES[this.dtype];
    const start = Math.min(w.start, meta[0]!);
    const end = Math.min(w.start + w.length, meta[0]!);
    return [start * fb, end * fb];
  }

  decodeInto(out: ArrayBatch, j: number, bytes: Uint8Array, meta: readonly number[], w?: Window): number {
    const C = meta[1]!;
    const fb = C * DTYPE_BYTES[this.dtype];
    // `bytes` is already the window's range when a window is given (see byteRange).
    const frames = Math.floor(bytes.length / fb);
    const T = out.shape[out.shape.length - 1]!;
    const n = Math.min(frames, T, w ? w.length : frames);
    if (C === 1) {
      const Cout = out.shape[1]!;
      const dst = new Uint8Array(out.data.buffer, out.data.byteOffset + j * Cout * T * DTYPE_BYTES[this.dtype], n * fb);
      dst.set(bytes.subarray(0, n * fb));
      return n;
    }
    deinterleaveInto(out, j, viewAs(this.dtype, bytes.subarray(0, n * fb)) as Int16Array | Float32Array, C, n);
    return n;
  }

  decode(bytes: Uint8Array, meta: readonly number[]): DecodedValue {
    const [frames, C, rate] = meta as [number, number, number];
    const inter = viewAs(this.dtype, bytes) as Int16Array | Float32Array;
    const data = this.dtype === 'int16' ? new Int16Array(C * frames) : new Float32Array(C * frames);
    for (let c = 0; c < C; c++) for (let i = 0, k = c; i < frames; i++, k += C) data[c * frames + i] = inter[k]!;
    return { kind: 'array', dtype: this.dtype, shape: [C, frames], data, sampleRate: rate };
  }
}
