/**
 * `compressed`: audio stored with a codec: FLAC (lossless), Opus (lossy, raw packets with 16-bit
 * length framing), or MP3 (source files kept as they are: wavelm has no MP3 encoder). The metadata
 * holds the exact frame count and rate, and decoding returns exactly that many frames at that rate.
 */
import { interleave, toFloat32Channels, toInt16 } from '../../audio/index.js';
import type { AudioData } from '../../audio/types.js';
import {
  decodeOpus,
  encodeOpus,
  opusPreSkip,
  opusRateFor,
  packOpusPackets,
  unpackOpusPackets,
  type OpusApplication,
} from '../../audio/encoders/opus.js';
import { resample } from '../../features/index.js';
import { encodeFlacAsync } from '../../audio/encoders/flac.js';
import {
  decodeFlacFile,
  flacAudioOffset,
  flacDeclaredFrames,
  flacFrameLengths,
  mp3Channels,
  mp3StreamOutput,
} from '../../audio/decoders.js';
import { ConfigError, FormatError } from '../../util/errors.js';
import type { MetaColumn } from '../format.js';
import { argNumber, argString, type ArrayBatch, type DecodedValue, type Encoded, type Field, type SampleInput } from './field.js';
import { audioMetaColumns, audioPrepArgs, floatToInt16, needAudio, prepareAudio, type AudioPrep } from './waveform.js';

export type Codec = 'flac' | 'opus' | 'mp3';
type OutDType = 'float32' | 'int16';

interface FlacDecoded {
  channelData: Float32Array[];
  samplesDecoded: number;
  sampleRate: number;
  bitDepth: number;
  errors: { message: string }[];
}
/** The frame decoder inside @wasm-audio-decoders/flac 0.2.x (pinned): its public decodeFile runs a JS
 * frame parser and re-instantiates the wasm module per file, ~6 ms of overhead per sample. */
interface FlacInner {
  _common: { wasm: { destroy_decoder(d: number): void; create_decoder(...ptrs: number[]): number } };
  _decoder: number;
  _channels: { ptr: number };
  _sampleRate: { ptr: number };
  _bitsPerSample: { ptr: number };
  _samplesDecoded: { ptr: number };
  _outputBufferPtr: { ptr: number };
  _outputBufferLen: { ptr: number };
  _errorStringPtr: { ptr: number };
  _stateStringPtr: { ptr: number };
  decodeFrames(frames: Uint8Array[]): FlacDecoded;
}
interface FlacDecoderLike {
  ready: Promise<void>;
  reset(): Promise<void>;
  decodeFile(b: Uint8Array): Promise<FlacDecoded>;
  _decoder?: FlacInner;
}
interface MpegDecoderLike {
  ready: Promise<void>;
  reset(): Promise<void>;
  decode(b: Uint8Array): { channelData: Float32Array[]; samplesDecoded: number; sampleRate: number; errors: { message: string }[] };
}

let flacDecoder: Promise<FlacDecoderLike> | undefined;
let mpegDecoder: Promise<MpegDecoderLike> | undefined;

/** One decoder per thread, reused: creating a wasm decoder costs more than decoding a short sample. */
async function getFlacDecoder(): Promise<FlacDecoderLike> {
  flacDecoder ??= (async () => {
    const { FLACDecoder } = (await import('@wasm-audio-decoders/flac')) as unknown as { FLACDecoder: new () => FlacDecoderLike };
    const d = new FLACDecoder();
    await d.ready;
    return d;
  })();
  return flacDecoder;
}

async function getMpegDecoder(): Promise<MpegDecoderLike> {
  mpegDecoder ??= (async () => {
    const { MPEGDecoder } = (await import('mpg123-decoder')) as unknown as { MPEGDecoder: new () => MpegDecoderLike };
    const d = new MPEGDecoder();
    await d.ready;
    return d;
  })();
  return mpegDecoder;
}

/**
 * FLAC blobs carry a frame index in front of the FLAC file: u32 n, then n u32 frame sizes (little-endian),
 * then the file; the frames are the file's last sum(sizes) bytes. The index lets the loader hand frames
 * straight to libFLAC's frame decoder instead of searching for frame sync codes per sample. n = 0 means
 * no index (the frame parser could not split this stream reliably): such blobs decode as whole files.
 */
export function packFlac(file: Uint8Array, sizes: number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * sizes.length + file.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, sizes.length, true);
  sizes.forEach((n, i) => {
    dv.setUint32(4 + 4 * i, n, true);
  });
  out.set(file, 4 + 4 * sizes.length);
  return out;
}

/**
 * Frame sizes of a FLAC stream (see flacFrameLengths). The index is kept only when decoding through it
 * gives exactly `frames` samples without errors; otherwise the blob is stored without one.
 */
export async function flacFrameSizes(file: Uint8Array, frames: number): Promise<number[]> {
  const start = flacAudioOffset(file);
  const sizes = await flacFrameLengths(file);
  if (sizes.length === 0) return [];
  const split: Uint8Array[] = [];
  let at = start;
  for (const n of sizes) {
    split.push(file.subarray(at, at + n));
    at += n;
  }
  const fast = decodeFrames(await getFlacDecoder(), split);
  if (!fast || fast.errors.length > 0 || fast.samplesDecoded !== frames) return [];
  return sizes;
}

/** Decodes frames with a fresh libFLAC frame decoder (cheap), or undefined when the decoder's internals differ. */
function decodeFrames(dec: FlacDecoderLike, frames: Uint8Array[]): FlacDecoded | undefined {
  const inner = dec._decoder;
  if (!inner || typeof inner.decodeFrames !== 'function' || !inner._common?.wasm?.create_decoder) return undefined;
  inner._common.wasm.destroy_decoder(inner._decoder);
  inner._decoder = inner._common.wasm.create_decoder(
    inner._channels.ptr,
    inner._sampleRate.ptr,
    inner._bitsPerSample.ptr,
    inner._samplesDecoded.ptr,
    inner._outputBufferPtr.ptr,
    inner._outputBufferLen.ptr,
    inner._errorStringPtr.ptr,
    inner._stateStringPtr.ptr,
  );
  return inner.decodeFrames(frames);
}

/** The FLAC file and its frames from a packed blob, with every size checked against the blob. */
export function unpackFlac(blob: Uint8Array, field = 'flac'): { file: Uint8Array; frames: Uint8Array[] } {
  const bad = (what: string): never => {
    throw new FormatError(`field '${field}': FLAC blob ${what}; the file is damaged`);
  };
  if (blob.length < 4) bad('is shorter than its frame index');
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const n = dv.getUint32(0, true);
  if (4 + 4 * n > blob.length) bad(`claims ${n} frames, more than it can index`);
  const file = blob.subarray(4 + 4 * n);
  if (!isFlacFile(file)) bad('does not hold a FLAC stream');
  let total = 0;
  for (let i = 0; i < n; i++) total += dv.getUint32(4 + 4 * i, true);
  if (total > file.length - 4) bad(`frames (${total} bytes) exceed the stream (${file.length} bytes)`);
  const frames: Uint8Array[] = [];
  let at = file.length - total;
  for (let i = 0; i < n; i++) {
    const len = dv.getUint32(4 + 4 * i, true);
    frames.push(file.subarray(at, at + len));
    at += len;
  }
  return { file, frames };
}

function isFlacFile(b: Uint8Array | undefined): boolean {
  return !!b && b.length > 4 && b[0] === 0x66 && b[1] === 0x4c && b[2] === 0x61 && b[3] === 0x43;
}
function isMp3File(b: Uint8Array | undefined): boolean {
  if (!b || b.length < 3) return false;
  if (b[0] === 0x49 && b[1] === 0x44 && b[2] === 0x33) return true; // ID3
  return b[0] === 0xff && (b[1]! & 0xe0) === 0xe0;
}

/** Fits decoded planar channels to exactly `frames` frames (codecs may add or drop a few at the edges). */
function fit(ch: Float32Array[], frames: number): Float32Array[] {
  return ch.map((c) => {
    if (c.length === frames) return c;
    const o = new Float32Array(frames);
    o.set(c.subarray(0, Math.min(frames, c.length)));
    return o;
  });
}

export class CompressedField implements Field {
  readonly type = 'compressed';
  readonly kind = 'array';
  readonly heavy = true;
  readonly croppable = true;
  readonly meta: MetaColumn[] = audioMetaColumns();
  readonly args: Record<string, unknown>;
  readonly codec: Codec;
  readonly dtype: OutDType;
  private readonly prep: AudioPrep;
  private readonly bitrate: number | undefined;
  private readonly application: OpusApplication;
  private readonly frameMs: number;
  private readonly level: number;

  constructor(
    readonly name: string,
    args: Record<string, unknown>,
  ) {
    this.codec = argString<Codec>(args, 'codec', 'flac', ['flac', 'opus', 'mp3'], name);
    this.dtype = argString<OutDType>(args, 'dtype', 'float32', ['float32', 'int16'], name);
    this.prep = audioPrepArgs(args, name);
    this.bitrate = argNumber(args, 'bitrate', undefined, name);
    this.application = argString<OpusApplication>(args, 'application', 'audio', ['audio', 'voip', 'lowdelay'], name);
    this.frameMs = argNumber(args, 'frame_ms', 20, name)!;
    this.level = argNumber(args, 'level', 5, name)!;
    const a: Record<string, unknown> = {
      codec: this.codec,
      dtype: this.dtype,
      sample_rate: this.prep.sampleRate ?? null,
      mono: this.prep.mono,
      normalize: this.prep.normalize,
      peak: this.prep.peak,
      quality: this.prep.quality,
    };
    if (this.codec === 'opus') Object.assign(a, { bitrate: this.bitrate ?? null, application: this.application, frame_ms: this.frameMs });
    if (this.codec === 'flac') a.level = this.level;
    this.args = a;
  }

  private untouched(audio: AudioData): boolean {
    const p = this.prep;
    return !p.normalize && (p.sampleRate === undefined || p.sampleRate === audio.sampleRate) && (!p.mono || audio.channels === 1);
  }

  async encode(input: SampleInput): Promise<Encoded> {
    const audio = needAudio(input, this.name);
    if (this.codec === 'mp3') {
      if (!isMp3File(input.fileBytes) || !this.untouched(audio)) {
        throw new ConfigError(
          `field '${this.name}': codec=mp3 keeps MP3 source files as they are (wavelm has no MP3 encoder), and ${input.key} is not ` +
            'an MP3 file used unchanged; use codec=opus or flac',
          { subject: input.key },
        );
      }
      return { meta: [audio.frames, audio.channels, audio.sampleRate], bytes: input.fileBytes! };
    }
    if (this.codec === 'flac') {
      // A FLAC source used unchanged is stored as it is: already lossless and compressed. A damaged one whose
      // readable part was kept (allowTruncated) decodes to fewer frames than it declares: that part is re-encoded.
      if (isFlacFile(input.fileBytes) && this.untouched(audio) && flacDeclaredFrames(input.fileBytes!) === audio.frames)
        return {
          meta: [audio.frames, audio.channels, audio.sampleRate],
          bytes: packFlac(input.fileBytes!, await flacFrameSizes(input.fileBytes!, audio.frames)),
        };
      let a = audio;
      if (!this.untouched(audio) || (audio.sampleType !== 'int16' && audio.sampleType !== 'int32' && audio.sampleType !== 'uint8')) {
        const p = prepareAudio(audio, this.prep);
        const frames = p.channels[0]?.length ?? 0;
        a = {
          sampleRate: p.sampleRate,
          channels: p.channels.length,
          frames,
          sampleType: 'int16',
          bitsPerSample: 16,
          samples: floatToInt16(interleave(p.channels)),
        };
      }
      const samples = a.samples as Int16Array | Int32Array | Uint8Array;
      if (a.bitsPerSample > 24)
        input.onWarning?.(
          `${input.key}: field '${this.name}': ${a.bitsPerSample}-bit samples are stored at their top 24 bits (libFLAC's limit); ` +
            `the low ${a.bitsPerSample - 24} bits are dropped`,
        );
      const bytes = await encodeFlacAsync(samples, {
        sampleRate: a.sampleRate,
        channels: a.channels,
        bitsPerSample: Math.min(24, a.bitsPerSample),
        compressionLevel: this.level,
      });
      return { meta: [a.frames, a.channels, a.sampleRate], bytes: packFlac(bytes, await flacFrameSizes(bytes, a.frames)) };
    }
    // Opus
    const p = prepareAudio(audio, this.prep);
    const frames = p.channels[0]?.length ?? 0;
    const C = p.channels.length;
    if (C > 2)
      throw new ConfigError(`field '${this.name}': Opus stores mono or stereo, ${input.key} has ${C} channels; add mono=true`, {
        subject: input.key,
      });
    const orate = opusRateFor(p.sampleRate);
    const ch =
      orate === p.sampleRate ? p.channels : p.channels.map((c) => resample(c, p.sampleRate, orate, { quality: this.prep.quality }));
    const pkt = encodeOpus(floatToInt16(interleave(ch)), C, orate, {
      bitrate: this.bitrate,
      application: this.application,
      frameMs: this.frameMs,
    });
    return { meta: [frames, C, p.sampleRate], bytes: packOpusPackets(pkt.packets) };
  }

  check(meta: readonly number[], length: number): string | undefined {
    const [frames, channels, rate] = meta as [number, number, number];
    if (channels < 1 || channels > 255) return `${channels} channels`;
    if (rate < 1) return `sample rate ${rate}`;
    if (frames > 0 && length === 0) return `${frames} frames in an empty blob`;
    // No codec here reaches 65536:1 (FLAC's best case, digital silence in 65535-sample blocks, is about
    // 4000:1), so a larger claim is damage or a crafted file, refused before anything that size is allocated.
    if (frames * channels > Math.max(1, length) * 65536) return `${frames} frames x ${channels} channels claimed for a ${length}-byte blob`;
    return undefined;
  }

  timeLength(meta: readonly number[]): number {
    return meta[0]!;
  }

  duration(meta: readonly number[]): number {
    return meta[0]! / meta[2]!;
  }

  layout(meta: readonly number[]): { dtype: OutDType; inner: number[] } {
    return { dtype: this.dtype, inner: [meta[1]!] };
  }

  /** Planar float channels, exactly meta's frames and channels, full scale 1.0. */
  async decodeChannels(bytes: Uint8Array, meta: readonly number[]): Promise<Float32Array[]> {
    const { ch, flacBits } = await this.decodeRaw(bytes, meta);
    if (flacBits !== undefined) {
      // The decoder divides by 2^(bits-1) - 1; restore the integers and scale by 2^(bits-1) like every other
      // wavelm float path, so FLAC and waveform fields give identical floats for the same samples.
      const scale = 2 ** (flacBits - 1) - 1;
      const inv = 1 / 2 ** (flacBits - 1);
      for (const c of ch) {
        for (let i = 0; i < c.length; i++) {
          // x * scale is within 1e-3 of an integer: add half away from zero and truncate (|0), cheaper than Math.round.
          const v = c[i]! * scale;
          c[i] = ((v + (v > 0 ? 0.5 : -0.5)) | 0) * inv;
        }
      }
    }
    return ch;
  }

  /** Decoded channels; for FLAC still as the decoder gives them (integer / (2^(bits-1) - 1)), with the bit depth. */
  private async decodeRaw(bytes: Uint8Array, meta: readonly number[]): Promise<{ ch: Float32Array[]; flacBits?: number }> {
    const [frames, C, rate] = meta as [number, number, number];
    let ch: Float32Array[];
    if (this.codec === 'flac') {
      const { file, frames: flacFrames } = unpackFlac(bytes, this.name);
      const dec = await getFlacDecoder();
      let d: FlacDecoded;
      try {
        d =
          (flacFrames.length > 0 ? decodeFrames(dec, flacFrames) : undefined) ?? (await decodeFlacFile(dec, file, `field '${this.name}'`));
      } catch (e) {
        flacDecoder = undefined;
        throw new FormatError(`field '${this.name}': FLAC blob does not decode (${(e as Error).message})`, { cause: e });
      }
      if (d.errors.length > 0) throw new FormatError(`field '${this.name}': FLAC blob is damaged (${d.errors[0]!.message})`);
      if (d.channelData.length !== C || d.sampleRate !== rate)
        throw new FormatError(
          `field '${this.name}': FLAC blob holds ${d.channelData.length} channels at ${d.sampleRate} Hz, the table says ${C} at ${rate}`,
        );
      if (d.samplesDecoded !== frames)
        throw new FormatError(`field '${this.name}': FLAC blob holds ${d.samplesDecoded} frames, the table says ${frames}`);
      return { ch: d.channelData, flacBits: d.bitDepth };
    } else if (this.codec === 'mp3') {
      const dec = await getMpegDecoder();
      await dec.reset();
      const d = mp3StreamOutput(dec.decode(bytes), mp3Channels(bytes));
      if (d.channelData.length !== C || d.sampleRate !== rate)
        throw new FormatError(
          `field '${this.name}': MP3 blob holds ${d.channelData.length} channels at ${d.sampleRate} Hz, the table says ${C} at ${rate}`,
        );
      ch = fit(d.channelData, frames);
    } else {
      const orate = opusRateFor(rate);
      const oframes = orate === rate ? frames : Math.ceil((frames * orate) / rate);
      const pcm = decodeOpus(unpackOpusPackets(bytes), C, orate, opusPreSkip(orate, this.application), oframes, this.application);
      ch = toFloat32Channels({ sampleRate: orate, channels: C, frames: oframes, sampleType: 'int16', bitsPerSample: 16, samples: pcm });
      if (orate !== rate)
        ch = fit(
          ch.map((c) => resample(c, orate, rate, { quality: this.prep.quality })),
          frames,
        );
    }
    return { ch };
  }

  async decodeInto(
    out: ArrayBatch,
    j: number,
    bytes: Uint8Array,
    meta: readonly number[],
    w?: { start: number; length: number },
  ): Promise<number> {
    const { ch, flacBits } = await this.decodeRaw(bytes, meta);
    const T = out.shape[out.shape.length - 1]!;
    const Cout = out.shape[1]!;
    const start = w ? Math.min(w.start, meta[0]!) : 0;
    const n = Math.min(T, meta[0]! - start, w ? w.length : Infinity);
    // One pass from the decoder's floats to the output type.
    const scale = flacBits !== undefined ? 2 ** (flacBits - 1) - 1 : 0;
    for (let c = 0; c < ch.length; c++) {
      const src = ch[c]!.subarray(start, start + n);
      const o = (j * Cout + c) * T;
      if (this.dtype === 'float32') {
        const dst = out.data as Float32Array;
        if (flacBits === undefined) dst.set(src, o);
        else {
          const inv = 1 / 2 ** (flacBits - 1);
          for (let i = 0; i < n; i++) {
            const v = src[i]! * scale;
            dst[o + i] = ((v + (v > 0 ? 0.5 : -0.5)) | 0) * inv;
          }
        }
      } else {
        const dst = out.data as Int16Array;
        if (flacBits !== undefined && flacBits <= 16) {
          const up = 2 ** (16 - flacBits);
          // The store into Int16Array truncates toward zero, so adding half away from zero rounds.
          for (let i = 0; i < n; i++) {
            const v = src[i]! * scale;
            dst[o + i] = ((v + (v > 0 ? 0.5 : -0.5)) | 0) * up;
          }
        } else {
          const mul = flacBits !== undefined ? scale / 2 ** (flacBits - 16) : 32768;
          for (let i = 0; i < n; i++) {
            const v = Math.round(src[i]! * mul);
            dst[o + i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
          }
        }
      }
    }
    return n;
  }

  async decode(bytes: Uint8Array, meta: readonly number[]): Promise<DecodedValue> {
    const ch = await this.decodeChannels(bytes, meta);
    const frames = meta[0]!;
    const C = ch.length;
    if (this.dtype === 'float32') {
      const data = new Float32Array(C * frames);
      ch.forEach((c, i) => {
        data.set(c, i * frames);
      });
      return { kind: 'array', dtype: 'float32', shape: [C, frames], data, sampleRate: meta[2]! };
    }
    const planar: AudioData = {
      sampleRate: meta[2]!,
      channels: 1,
      frames: C * frames,
      sampleType: 'float32',
      bitsPerSample: 32,
      samples: (() => {
        const d = new Float32Array(C * frames);
        ch.forEach((c, i) => {
          d.set(c, i * frames);
        });
        return d;
      })(),
    };
    return { kind: 'array', dtype: 'int16', shape: [C, frames], data: toInt16(planar), sampleRate: meta[2]! };
  }
}
