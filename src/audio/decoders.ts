/**
 * Compressed formats through maintained WebAssembly decoders (@wasm-audio-decoders family):
 * FLAC (sample-exact: decoded floats are scaled back to the stream's integers), Ogg Vorbis,
 * Ogg Opus and MP3 (float32). The decoders are loaded lazily, so WAV-only work never pays for them.
 */
import { FormatError, UnsupportedError } from '../util/errors.js';
import { id3Length, isMpegFrameHeader } from './sniff.js';
import { interleave, sliceFrames } from './convert.js';
import { opusStreamFrames } from './ogg.js';
import { MemorySource, type ByteSource } from './source.js';
import type { AudioData, AudioInfo } from './types.js';

interface Decoded {
  channelData: Float32Array[];
  samplesDecoded: number;
  sampleRate: number;
  bitDepth?: number;
  errors: { message: string }[];
}

function checkDecoded(d: Decoded, name: string, what: string): void {
  if (d.samplesDecoded === 0 && d.errors.length > 0)
    throw new FormatError(`${name}: ${what} decoding failed: ${d.errors[0]!.message}`, { subject: name });
  if (d.channelData.length === 0 || d.sampleRate === 0)
    throw new FormatError(`${name}: ${what} stream holds no decodable audio${d.errors[0] ? ` (${d.errors[0].message})` : ''}`, {
      subject: name,
    });
}

/**
 * The decoder's frame parser (codec-parser) emits a frame only once it has seen the next frame's
 * header, so it silently drops a stream's last frame (a short file then decodes to nothing). Appending
 * a copy of the first frame's header after the stream makes the real last frame complete; the copy
 * itself is never complete, so it is never decoded.
 */
export function flacSentinel(bytes: Uint8Array): Uint8Array {
  const at = flacAudioOffset(bytes);
  // A frame header is at most 16 bytes (sync, fields, UTF-8 coded number up to 7 bytes, CRC-8).
  return at >= 0 && at + 16 <= bytes.length ? bytes.slice(at, at + 16) : new Uint8Array(0);
}

/**
 * Offset of a FLAC stream's first audio frame: after "fLaC" and the metadata blocks, whose lengths are
 * walked, not trusted: -1 when they run past the bytes given.
 */
export function flacAudioOffset(bytes: Uint8Array): number {
  let at = 4;
  for (;;) {
    if (at + 4 > bytes.length) return -1;
    const last = bytes[at]! & 0x80;
    at += 4 + ((bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!);
    if (last) return at <= bytes.length ? at : -1;
  }
}

/** The stream with its first frame header copied after the end (see flacSentinel), so every frame is complete. */
export function withFlacSentinel(bytes: Uint8Array): Uint8Array {
  const tail = flacSentinel(bytes);
  if (tail.length === 0) return bytes;
  const out = new Uint8Array(bytes.length + tail.length);
  out.set(bytes, 0);
  out.set(tail, bytes.length);
  return out;
}

/** What the FLAC decoders give, and the one method of theirs that decodeFlacFile needs. */
export type FlacDecoded = Decoded & { bitDepth: number };
export interface FlacFileDecoder {
  decodeFile(bytes: Uint8Array): Promise<FlacDecoded>;
}

/**
 * Decodes a whole FLAC file with a ready decoder, its last frame included: the one whole-file FLAC
 * decode path (files, dataset fields). Decoder exceptions become FormatError; frame errors are returned.
 */
export async function decodeFlacFile(dec: FlacFileDecoder, bytes: Uint8Array, name: string): Promise<FlacDecoded> {
  try {
    return await dec.decodeFile(withFlacSentinel(bytes));
  } catch (err) {
    throw new FormatError(`${name}: FLAC decoding failed: ${(err as Error).message}`, { subject: name, cause: err });
  }
}

/**
 * Byte lengths of a FLAC stream's frames, in order and adding up to the audio after the metadata, as
 * the decoder's frame parser (codec-parser) splits them when the stream ends in a sentinel: without
 * one, a short last frame is merged into the frame before it. Empty when the metadata runs past the bytes.
 */
export async function flacFrameLengths(bytes: Uint8Array): Promise<number[]> {
  const start = flacAudioOffset(bytes);
  if (start < 0) return [];
  const { default: CodecParser } = await import('codec-parser');
  const parsed = [...new CodecParser('audio/flac', { enableFrameCRC32: false }).parseAll(withFlacSentinel(bytes))] as {
    data: Uint8Array;
  }[];
  const sizes = parsed.map((f) => f.data.length);
  const total = sizes.reduce((x, y) => x + y, 0);
  if (start + total > bytes.length) return [];
  if (start + total < bytes.length) sizes.push(bytes.length - start - total);
  return sizes;
}

/** What to do with a damaged or cut FLAC stream (see checkFlacComplete). */
export interface DamageOptions {
  /** Keep the frames that decode instead of raising an error. */
  allowTruncated?: boolean;
  /** Told what was kept when allowTruncated keeps a damaged stream's readable frames. */
  onWarning?: (message: string) => void;
}

/** Frames a FLAC stream's STREAMINFO declares (0 when it does not say, or no STREAMINFO is in the bytes). */
export function flacDeclaredFrames(head: Uint8Array): number {
  const at = head[0] === 0x66 ? 0 : id3Length(head);
  const p = at + 8;
  if (p + 18 > head.length || head[at] !== 0x66 || head[at + 1] !== 0x4c || head[at + 2] !== 0x61 || head[at + 3] !== 0x43) return 0;
  if ((head[at + 4]! & 0x7f) !== 0) return 0;
  return (head[p + 13]! & 0x0f) * 2 ** 32 + (((head[p + 14]! << 24) | (head[p + 15]! << 16) | (head[p + 16]! << 8) | head[p + 17]!) >>> 0);
}

/**
 * A FLAC decode that reported errors or gave fewer frames than STREAMINFO declares (the wasm decoder
 * stops quietly at a damaged frame) is an error naming how many frames were readable, or with
 * allowTruncated a warning with that count.
 */
export function checkFlacComplete(
  name: string,
  frames: number,
  declared: number,
  firstError: string | undefined,
  opts: DamageOptions,
): void {
  if (firstError === undefined && (declared === 0 || frames >= declared)) return;
  const count = declared > 0 ? `${frames} of the ${declared} frames its header declares` : `the first ${frames} frames`;
  const why = firstError !== undefined ? ` (decoder: ${firstError})` : '';
  if (opts.allowTruncated) {
    opts.onWarning?.(`${name}: damaged or cut FLAC stream${why}: kept ${count}`);
    return;
  }
  throw new FormatError(`${name}: damaged or cut FLAC stream${why}: only ${count} are readable (pass allowTruncated to keep them)`, {
    subject: name,
    options: ['allowTruncated'],
  });
}

/**
 * The sample depths @wasm-audio-decoders/flac turns into floats. It scales the others (4-7, 9-15 and 17-23 bits)
 * by zero, giving NaN and Infinity that would become silent zeros, and returns nothing for 32 bits; so a stream
 * of another depth is refused, by its STREAMINFO, before decoding.
 */
const DECODABLE_FLAC_BITS: readonly number[] = [8, 16, 24];

function checkFlacDepth(bits: number, name: string): void {
  if (DECODABLE_FLAC_BITS.includes(bits)) return;
  throw new UnsupportedError(
    `${name}: ${bits}-bit FLAC; wavelm's FLAC decoder reads 8-, 16- and 24-bit streams (convert this one to WAV first, e.g. flac -d)`,
    { subject: name },
  );
}

/**
 * checkFlacDepth on the depth STREAMINFO declares, when the header is there to read (damage is reported by
 * decoding). `head` starts at "fLaC", after any ID3v2 tag.
 */
function checkFlacHeaderDepth(head: Uint8Array, name: string): void {
  if (head.length < 42 || String.fromCharCode(...head.subarray(0, 4)) !== 'fLaC' || (head[4]! & 0x7f) !== 0) return;
  checkFlacDepth(flacStreamInfo(head, name, name).bitsPerSample, name);
}

export async function decodeFlac(
  bytes: Uint8Array,
  name: string,
  opts: DamageOptions = {},
): Promise<{ audio: AudioData; errors: string[] }> {
  checkFlacHeaderDepth(bytes.subarray(id3Length(bytes)), name);
  const { FLACDecoder } = await import('@wasm-audio-decoders/flac');
  const dec = new FLACDecoder();
  await dec.ready;
  let d: Decoded;
  try {
    d = await decodeFlacFile(dec, bytes, name);
  } finally {
    dec.free();
  }
  checkDecoded(d, name, 'FLAC');
  checkFlacComplete(name, d.samplesDecoded, flacDeclaredFrames(bytes), d.errors[0]?.message, opts);
  const audio = flacToInt(d, d.bitDepth ?? 16, name);
  return { audio, errors: d.errors.map((e) => e.message) };
}

function floatAudio(d: Decoded, bits: number): AudioData {
  const frames = d.samplesDecoded;
  return {
    sampleRate: d.sampleRate,
    channels: d.channelData.length,
    frames,
    sampleType: 'float32',
    bitsPerSample: bits,
    samples: interleave(d.channelData, frames),
  };
}

export async function decodeVorbis(bytes: Uint8Array, name: string): Promise<AudioData> {
  const { OggVorbisDecoder } = await import('@wasm-audio-decoders/ogg-vorbis');
  const dec = new OggVorbisDecoder();
  await dec.ready;
  try {
    const d = await dec.decodeFile(bytes);
    checkDecoded(d, name, 'Ogg Vorbis');
    return floatAudio(d, 32);
  } catch (err) {
    if (err instanceof FormatError) throw err;
    throw new FormatError(`${name}: Ogg Vorbis decoding failed: ${(err as Error).message}`, { subject: name, cause: err });
  } finally {
    dec.free();
  }
}

export async function decodeOpus(bytes: Uint8Array, name: string): Promise<AudioData> {
  const { OggOpusDecoder } = await import('ogg-opus-decoder');
  const dec = new OggOpusDecoder();
  await dec.ready;
  try {
    const d = await dec.decodeFile(bytes);
    checkDecoded(d, name, 'Ogg Opus');
    const audio = floatAudio(d, 32);
    const frames = opusStreamFrames(new MemorySource(bytes, name));
    return frames !== undefined && frames < audio.frames ? sliceFrames(audio, 0, frames) : audio;
  } catch (err) {
    if (err instanceof FormatError) throw err;
    throw new FormatError(`${name}: Ogg Opus decoding failed: ${(err as Error).message}`, { subject: name, cause: err });
  } finally {
    dec.free();
  }
}

/**
 * Channels of an MP3 stream from its first frame header (channel mode 3 is mono), looked for in the
 * 64 KiB from `start` (by default the end of an ID3v2 tag); 2 when none is found there. mpg123-decoder
 * always returns two channels (a mono stream as two copies), so this, not its output, is the stream's
 * channel count.
 */
export function mp3Channels(bytes: Uint8Array, start = id3Length(bytes)): 1 | 2 {
  const end = Math.min(bytes.length, start + (64 << 10));
  for (let o = start; o + 4 <= end; o++) {
    if (isMpegFrameHeader(bytes, o)) return bytes[o + 3]! >> 6 === 3 ? 1 : 2;
  }
  return 2;
}

function mp3SourceChannels(src: ByteSource): 1 | 2 {
  // read() clips to the source and may alias its buffer: copy the header before the next read.
  const id3 = id3Length(src.read(0, 10).slice());
  return mp3Channels(src.read(id3, 64 << 10), 0);
}

/** The decoder's output cut to the stream's channel count (see mp3Channels). */
export function mp3StreamOutput<D extends Decoded>(d: D, channels: 1 | 2): D {
  return channels < d.channelData.length ? { ...d, channelData: d.channelData.slice(0, channels) } : d;
}

export async function decodeMp3(bytes: Uint8Array, name: string): Promise<AudioData> {
  const { MPEGDecoder } = await import('mpg123-decoder');
  const dec = new MPEGDecoder();
  await dec.ready;
  try {
    const d = mp3StreamOutput(dec.decode(bytes), mp3Channels(bytes));
    checkDecoded(d, name, 'MP3');
    return floatAudio(d, 32);
  } catch (err) {
    if (err instanceof FormatError) throw err;
    throw new FormatError(`${name}: MP3 decoding failed: ${(err as Error).message}`, { subject: name, cause: err });
  } finally {
    dec.free();
  }
}

/** FLAC STREAMINFO (the first metadata block) without decoding audio. */
export function flacStreamInfo(bytes: Uint8Array, name: string, path: string): AudioInfo {
  if (bytes.length < 42) throw new FormatError(`${name}: truncated FLAC header (${bytes.length} bytes)`, { subject: name });
  if ((bytes[4]! & 0x7f) !== 0) throw new FormatError(`${name}: FLAC stream does not start with STREAMINFO`, { subject: name });
  const p = 8;
  const sampleRate = (bytes[p + 10]! << 12) | (bytes[p + 11]! << 4) | (bytes[p + 12]! >> 4);
  const channels = ((bytes[p + 12]! >> 1) & 7) + 1;
  const bits = (((bytes[p + 12]! & 1) << 4) | (bytes[p + 13]! >> 4)) + 1;
  const frames =
    (bytes[p + 13]! & 0x0f) * 2 ** 32 + (((bytes[p + 14]! << 24) | (bytes[p + 15]! << 16) | (bytes[p + 16]! << 8) | bytes[p + 17]!) >>> 0);
  if (sampleRate === 0) throw new FormatError(`${name}: FLAC STREAMINFO declares a sample rate of 0`, { subject: name });
  return {
    path,
    container: 'flac',
    codec: 'flac',
    sampleRate,
    channels,
    bitsPerSample: bits,
    frames,
    durationSeconds: frames / sampleRate,
  };
}

export type CompressedFormat = 'flac' | 'ogg-vorbis' | 'ogg-opus' | 'mp3';

interface StreamingDecoder {
  decode(piece: Uint8Array): Promise<Decoded> | Decoded;
  flush?(): Promise<Decoded>;
  free(): void;
}

async function openDecoder(format: CompressedFormat): Promise<{ dec: StreamingDecoder; what: string }> {
  switch (format) {
    case 'flac': {
      const { FLACDecoder } = await import('@wasm-audio-decoders/flac');
      const dec = new FLACDecoder();
      await dec.ready;
      return { dec, what: 'FLAC' };
    }
    case 'ogg-vorbis': {
      const { OggVorbisDecoder } = await import('@wasm-audio-decoders/ogg-vorbis');
      const dec = new OggVorbisDecoder();
      await dec.ready;
      return { dec, what: 'Ogg Vorbis' };
    }
    case 'ogg-opus': {
      const { OggOpusDecoder } = await import('ogg-opus-decoder');
      const dec = new OggOpusDecoder();
      await dec.ready;
      return { dec, what: 'Ogg Opus' };
    }
    case 'mp3': {
      const { MPEGDecoder } = await import('mpg123-decoder');
      const dec = new MPEGDecoder();
      await dec.ready;
      return { dec, what: 'MP3' };
    }
  }
}

/** Decoded output of one piece as AudioData (FLAC back to its integers), or undefined when empty. */
function piece(d: Decoded, format: CompressedFormat, bits: number, name: string): AudioData | undefined {
  if (d.samplesDecoded === 0 || d.channelData.length === 0) return undefined;
  if (format !== 'flac') return floatAudio(d, 32);
  return flacToInt(d, bits, name);
}

/**
 * The decoder divides each integer sample by 2^(bits-1) - 1 in float32. Adjacent integers stay at
 * least one float32 step apart up to 24 bits, so multiplying back and rounding restores them exactly.
 */
function flacToInt(d: Decoded, bits: number, name: string): AudioData {
  checkFlacDepth(bits, name);
  const frames = d.samplesDecoded;
  const ch = d.channelData.length;
  const scale = 2 ** (bits - 1) - 1;
  if (bits <= 8) {
    const out = new Uint8Array(frames * ch);
    for (let c = 0; c < ch; c++) {
      const s = d.channelData[c]!;
      for (let i = 0, j = c; i < frames; i++, j += ch) out[j] = Math.round(s[i]! * scale) + 128;
    }
    return { sampleRate: d.sampleRate, channels: ch, frames, sampleType: 'uint8', bitsPerSample: bits, samples: out };
  }
  const wide = bits > 16;
  const out = wide ? new Int32Array(frames * ch) : new Int16Array(frames * ch);
  const up = 2 ** ((wide ? 32 : 16) - bits);
  for (let c = 0; c < ch; c++) {
    const s = d.channelData[c]!;
    for (let i = 0, j = c; i < frames; i++, j += ch) out[j] = Math.round(s[i]! * scale) * up;
  }
  return { sampleRate: d.sampleRate, channels: ch, frames, sampleType: wide ? 'int32' : 'int16', bitsPerSample: bits, samples: out };
}

/**
 * Decodes a compressed file piece by piece (`pieceBytes` of input at a time), yielding the audio
 * of each piece, so memory stays bounded by a piece rather than the decoded file. The samples equal
 * those of a whole-file decode (the decoders are stream decoders; tests compare the two).
 */
export async function* decodeStream(
  src: ByteSource,
  format: CompressedFormat,
  pieceBytes = 1 << 20,
  damage: DamageOptions = {},
): AsyncGenerator<AudioData> {
  const name = src.name;
  const { dec, what } = await openDecoder(format);
  let any = false;
  let frames = 0;
  let firstError: string | undefined;
  let bits = 0;
  let shape: { rate: number; channels: number } | undefined;
  // See flacSentinel: the copied frame header goes in after the last piece so the last frame is emitted.
  if (format === 'flac') checkFlacHeaderDepth(src.read(id3Length(src.read(0, 10).slice()), 64).slice(), name);
  const sentinel = format === 'flac' ? flacSentinel(src.read(0, Math.min(src.size, 1 << 20)).slice()) : new Uint8Array(0);
  const mp3Ch = format === 'mp3' ? mp3SourceChannels(src) : 2;
  // Opus decodes whole frames past the stream's end; cut at its length (see opusStreamFrames).
  let room = (format === 'ogg-opus' ? opusStreamFrames(src) : undefined) ?? Infinity;
  const emit = (raw: Decoded): AudioData | undefined => {
    const d = format === 'mp3' ? mp3StreamOutput(raw, mp3Ch) : raw;
    if (!firstError && d.errors.length > 0) firstError = d.errors[0]!.message;
    if (format === 'flac' && bits === 0 && d.samplesDecoded > 0) bits = d.bitDepth ?? 16;
    const whole = piece(d, format, bits, name);
    if (!whole || room <= 0) return undefined;
    const a = whole.frames > room ? sliceFrames(whole, 0, room) : whole;
    room -= a.frames;
    frames += a.frames;
    if (!shape) shape = { rate: a.sampleRate, channels: a.channels };
    else if (shape.rate !== a.sampleRate || shape.channels !== a.channels)
      throw new UnsupportedError(
        `${name}: ${what} stream changes from ${shape.channels} ch ${shape.rate} Hz to ${a.channels} ch ${a.sampleRate} Hz mid-file`,
        { subject: name },
      );
    any = true;
    return a;
  };
  try {
    for (let off = 0; off < src.size; off += pieceBytes) {
      let d: Decoded;
      try {
        d = await dec.decode(src.read(off, pieceBytes).slice());
      } catch (err) {
        throw new FormatError(`${name}: ${what} decoding failed: ${(err as Error).message}`, { subject: name, cause: err });
      }
      const a = emit(d);
      if (a) yield a;
    }
    if (sentinel.length > 0) {
      const a = emit(await dec.decode(sentinel));
      if (a) yield a;
    }
    if (dec.flush) {
      let d: Decoded;
      try {
        d = await dec.flush();
      } catch (err) {
        throw new FormatError(`${name}: ${what} decoding failed: ${(err as Error).message}`, { subject: name, cause: err });
      }
      const a = emit(d);
      if (a) yield a;
    }
    if (!any)
      throw new FormatError(`${name}: ${what} stream holds no decodable audio${firstError ? ` (${firstError})` : ''}`, { subject: name });
    if (format === 'flac') checkFlacComplete(name, frames, flacDeclaredFrames(src.read(0, 4096).slice()), firstError, damage);
  } finally {
    dec.free();
  }
}

/**
 * Regroups a stream of audio pieces into windows of exactly `frames` frames (the last one shorter),
 * keeping the sample type. Window memory is fresh for every window.
 */
export async function* rewindow(pieces: AsyncIterable<AudioData>, frames: number): AsyncGenerator<AudioData> {
  let buf: AudioData | undefined;
  let fill = 0;
  for await (const p of pieces) {
    if (!buf) {
      const Ctor = p.samples.constructor as new (n: number) => AudioData['samples'];
      buf = { ...p, frames, samples: new Ctor(frames * p.channels) };
      fill = 0;
    }
    if (p.sampleType !== buf.sampleType || p.channels !== buf.channels)
      throw new FormatError(`audio stream changes sample type or channels mid-file`);
    const ch = p.channels;
    let at = 0;
    while (at < p.frames) {
      const take = Math.min(frames - fill, p.frames - at);
      (buf.samples as Float32Array).set((p.samples as Float32Array).subarray(at * ch, (at + take) * ch), fill * ch);
      fill += take;
      at += take;
      if (fill === frames) {
        yield buf;
        const Ctor = p.samples.constructor as new (n: number) => AudioData['samples'];
        buf = { ...buf, samples: new Ctor(frames * ch) };
        fill = 0;
      }
    }
  }
  if (buf && fill > 0) yield { ...buf, frames: fill, samples: buf.samples.subarray(0, fill * buf.channels) };
}
