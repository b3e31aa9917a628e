/**
 * Writing WAV: the header fields for an encoding (RIFF, or RF64 with its ds64 chunk for sizes past 4 GiB),
 * sample bytes at 8, 16, 24 or 32 bits or IEEE float, and whole files in memory. The streaming writer is
 * wav-writer.ts; reading is wav.ts.
 */
import { ConfigError } from '../util/errors.js';
import { hostLittleEndian } from './endian.js';
import type { AudioData, SampleType, Samples } from './types.js';

export interface EncodeWavOptions {
  /**
   * Output encoding; default: the natural one for the sample type (uint8 -> 8, int16 -> 16, int32 -> 24 when
   * bitsPerSample <= 24 else 32, float -> float32).
   */
  bits?: 8 | 16 | 24 | 32;
  float?: boolean;
  /** Write WAVE_FORMAT_EXTENSIBLE (default: only when > 2 channels or > 16 bits). */
  extensible?: boolean;
}

/** A WAV sample format by name: PCM bits or 32-bit float. */
export type WavBitsName = '8' | '16' | '24' | '32' | 'float';

/** The encodeWav (and WavWriter) options that write `name`. */
export function wavBitsOptions(name: WavBitsName): Pick<EncodeWavOptions, 'bits' | 'float'> {
  return name === 'float' ? { float: true } : { bits: Number(name) as 8 | 16 | 24 | 32 };
}

/** How a written WAV stores its samples: everything its header states except the lengths. */
export interface WavEncoding {
  sampleRate: number;
  channels: number;
  bits: 8 | 16 | 24 | 32;
  float: boolean;
  extensible: boolean;
}

/**
 * The sizes a header can state: plain RIFF (32-bit sizes); RIFF with a 36-byte JUNK chunk kept free
 * for a ds64 chunk, so a growing file can become RF64 in place; or RF64 with its ds64 chunk
 * (EBU Tech 3306; https://tech.ebu.ch/docs/tech/tech3306v1_1.pdf).
 */
export type WavHeaderKind = 'riff' | 'riff-reserve-ds64' | 'rf64';

/** The encoding encodeWav picks for `audio` under `opts`. */
export function wavEncodingOf(
  audio: Pick<AudioData, 'sampleRate' | 'channels' | 'sampleType' | 'bitsPerSample'>,
  opts: EncodeWavOptions = {},
): WavEncoding {
  const st = audio.sampleType;
  const float = opts.float ?? (opts.bits === undefined && (st === 'float32' || st === 'float64'));
  const bits = float
    ? 32
    : (opts.bits ?? (st === 'uint8' ? 8 : st === 'int16' ? 16 : st === 'int32' ? (audio.bitsPerSample <= 24 ? 24 : 32) : 16));
  const extensible = opts.extensible ?? (audio.channels > 2 || (!float && bits > 16));
  return { sampleRate: audio.sampleRate, channels: audio.channels, bits, float, extensible };
}

/** Bytes of one frame in the data chunk. */
export function wavFrameBytes(enc: Pick<WavEncoding, 'channels' | 'bits'>): number {
  return (enc.channels * enc.bits) / 8;
}

const DS64_CHUNK_BYTES = 8 + 28;
const U32_MAX = 0xffffffff;

/** Header length for the encoding: it does not depend on the number of frames, so a header can be rewritten in place. */
export function wavHeaderBytes(enc: WavEncoding, kind: WavHeaderKind = 'riff'): number {
  const fmtSize = enc.extensible ? 40 : enc.float ? 18 : 16;
  return 12 + (kind === 'riff' ? 0 : DS64_CHUNK_BYTES) + 8 + fmtSize + (enc.float && !enc.extensible ? 12 : 0) + 8;
}

/**
 * The fmt chunk's fields are 16 and 32 bits wide and DataView would store a larger value modulo 2^16 or
 * 2^32: a header that every reader misreads. Refuse such values instead.
 */
function checkFmtFields(enc: WavEncoding): void {
  const frameBytes = wavFrameBytes(enc);
  const fields: [string, number, number][] = [
    ['channels', enc.channels, 0xffff],
    ['sample rate', enc.sampleRate, U32_MAX],
    ['bytes per frame (channels x bytes per sample)', frameBytes, 0xffff],
    ['byte rate (sample rate x channels x bytes per sample)', enc.sampleRate * frameBytes, U32_MAX],
  ];
  for (const [name, value, max] of fields) {
    if (!Number.isInteger(value) || value < 1 || value > max)
      throw new ConfigError(`a WAV header cannot hold a ${name} of ${value} (1 to ${max}); use fewer channels or a lower rate`, {
        subject: name,
      });
  }
}

/**
 * The header of a little-endian WAV holding `frames` frames, up to and including the data chunk's
 * size field. Sizes that do not fit 32 bits need kind 'rf64' (else a ConfigError).
 */
export function encodeWavHeader(enc: WavEncoding, frames: number, kind: WavHeaderKind = 'riff'): Uint8Array {
  checkFmtFields(enc);
  const { channels: ch, bits, float, extensible } = enc;
  const bps = bits / 8;
  const fmtSize = extensible ? 40 : float ? 18 : 16;
  const dataBytes = frames * wavFrameBytes(enc);
  const out = new Uint8Array(wavHeaderBytes(enc, kind));
  const riffSize = out.length - 8 + dataBytes + (dataBytes & 1);
  if (kind !== 'rf64' && riffSize > U32_MAX)
    throw new ConfigError(`a RIFF WAV holds at most 4 GiB; ${frames} frames of ${wavFrameBytes(enc)} bytes need RF64 (header kind 'rf64')`);
  const dv = new DataView(out.buffer);
  const ascii = (o: number, s: string): void => {
    for (let i = 0; i < 4; i++) out[o + i] = s.charCodeAt(i);
  };
  ascii(0, kind === 'rf64' ? 'RF64' : 'RIFF');
  dv.setUint32(4, kind === 'rf64' ? U32_MAX : riffSize, true);
  ascii(8, 'WAVE');
  let o = 12;
  if (kind !== 'riff') {
    ascii(o, kind === 'rf64' ? 'ds64' : 'JUNK');
    dv.setUint32(o + 4, DS64_CHUNK_BYTES - 8, true);
    if (kind === 'rf64') {
      dv.setBigUint64(o + 8, BigInt(riffSize), true);
      dv.setBigUint64(o + 16, BigInt(dataBytes), true);
      dv.setBigUint64(o + 24, BigInt(frames), true);
    }
    o += DS64_CHUNK_BYTES;
  }
  ascii(o, 'fmt ');
  dv.setUint32(o + 4, fmtSize, true);
  const tag = float ? 3 : 1;
  dv.setUint16(o + 8, extensible ? 0xfffe : tag, true);
  dv.setUint16(o + 10, ch, true);
  dv.setUint32(o + 12, enc.sampleRate, true);
  dv.setUint32(o + 16, enc.sampleRate * ch * bps, true);
  dv.setUint16(o + 20, ch * bps, true);
  dv.setUint16(o + 22, bits, true);
  if (fmtSize >= 18) dv.setUint16(o + 24, extensible ? 22 : 0, true);
  if (extensible) {
    dv.setUint16(o + 26, bits, true);
    dv.setUint32(o + 28, ch === 1 ? 0x4 : ch === 2 ? 0x3 : 0, true);
    // KSDATAFORMAT_SUBTYPE_PCM / IEEE_FLOAT: {0000000X-0000-0010-8000-00aa00389b71}
    const guid = [tag, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71];
    out.set(guid, o + 32);
  }
  o += 8 + fmtSize;
  if (float && !extensible) {
    ascii(o, 'fact');
    dv.setUint32(o + 4, 4, true);
    dv.setUint32(o + 8, Math.min(frames, U32_MAX), true);
    o += 12;
  }
  ascii(o, 'data');
  dv.setUint32(o + 4, kind === 'rf64' ? U32_MAX : dataBytes, true);
  return out;
}

/**
 * Writes a canonical little-endian WAV (PCM 8/16/24/32-bit or float32). Integer samples are
 * written without a float round trip when the target is at least as wide as the source.
 */
export function encodeWav(audio: AudioData, opts: EncodeWavOptions = {}): Uint8Array {
  const enc = wavEncodingOf(audio, opts);
  const header = encodeWavHeader(enc, audio.frames);
  const dataBytes = audio.frames * wavFrameBytes(enc);
  const out = new Uint8Array(header.length + dataBytes + (dataBytes & 1));
  out.set(header);
  writeSamples(
    audio.samples,
    audio.frames * audio.channels,
    audio.sampleType,
    out.subarray(header.length, header.length + dataBytes),
    enc.bits,
    enc.float,
  );
  return out;
}

/**
 * The data-chunk bytes of `count` interleaved samples of type `sampleType` in the encoding's bits.
 * When the bytes already are the samples (same width, little-endian host) the result views `samples`.
 */
export function encodeWavSamples(
  samples: Samples,
  sampleType: SampleType,
  enc: Pick<WavEncoding, 'bits' | 'float'>,
  count = samples.length,
): Uint8Array {
  if (sameBytes(sampleType, enc)) return new Uint8Array(samples.buffer, samples.byteOffset, count * (enc.bits / 8));
  const out = new Uint8Array(count * (enc.bits / 8));
  writeSamples(samples, count, sampleType, out, enc.bits, enc.float);
  return out;
}

function sameBytes(st: SampleType, enc: Pick<WavEncoding, 'bits' | 'float'>): boolean {
  if (!hostLittleEndian) return false;
  if (enc.float) return st === 'float32';
  return (st === 'int16' && enc.bits === 16) || (st === 'int32' && enc.bits === 32) || (st === 'uint8' && enc.bits === 8);
}

function writeSamples(s: Samples, n: number, st: SampleType, dst: Uint8Array, bits: WavEncoding['bits'], float: boolean): void {
  if (float) {
    const f = new Float32Array(n);
    if (st === 'float32' || st === 'float64') for (let i = 0; i < n; i++) f[i] = s[i]!;
    else {
      const scale = st === 'uint8' ? 1 / 128 : st === 'int16' ? 1 / 32768 : 1 / 2147483648;
      const off = st === 'uint8' ? 128 : 0;
      for (let i = 0; i < n; i++) f[i] = (s[i]! - off) * scale;
    }
    dst.set(new Uint8Array(f.buffer));
    return;
  }
  // Same width as stored: the bytes are the samples (little-endian host).
  if (sameBytes(st, { bits, float })) {
    dst.set(new Uint8Array(s.buffer, s.byteOffset, n * (bits / 8)));
    return;
  }
  if (st === 'int32' && bits === 24) {
    for (let i = 0, o = 0; i < n; i++, o += 3) {
      // Round to 24 bits (ties up), clamped.
      const v = Math.min(8388607, Math.floor((s[i]! + 128) / 256));
      dst[o] = v & 0xff;
      dst[o + 1] = (v >> 8) & 0xff;
      dst[o + 2] = (v >> 16) & 0xff;
    }
    return;
  }
  if (st === 'int16' && bits === 24) {
    for (let i = 0, o = 0; i < n; i++, o += 3) {
      const v = s[i]!;
      dst[o] = 0;
      dst[o + 1] = v & 0xff;
      dst[o + 2] = (v >> 8) & 0xff;
    }
    return;
  }
  // Work in a left-justified 32-bit integer domain, then emit the top `bits` bits (rounded when narrowing).
  const toI32 = (i: number): number => {
    const v = s[i]!;
    switch (st) {
      case 'uint8':
        return (v - 128) * 16777216;
      case 'int16':
        return v * 65536;
      case 'int32':
        return v;
      default: {
        const x = Math.round(Math.max(-1, Math.min(1, v)) * 2147483648);
        return Math.min(2147483647, x);
      }
    }
  };
  const shift = 32 - bits;
  const half = shift > 0 ? 2 ** (shift - 1) : 0;
  const maxOut = 2 ** (bits - 1) - 1;
  const dv = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
  for (let i = 0, o = 0; i < n; i++, o += bits / 8) {
    let v = toI32(i);
    if (shift > 0) v = Math.min(maxOut, Math.floor((v + half) / 2 ** shift));
    switch (bits) {
      case 8:
        dst[o] = v + 128;
        break;
      case 16:
        dv.setInt16(o, v, true);
        break;
      case 24:
        dst[o] = v & 0xff;
        dst[o + 1] = (v >> 8) & 0xff;
        dst[o + 2] = (v >> 16) & 0xff;
        break;
      default:
        dv.setInt32(o, v, true);
    }
  }
}
