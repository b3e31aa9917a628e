/**
 * Audio to fixed-size byte chunks: bit depth, channel handling (stereo blocking, docs/background.md), and
 * LMIC's chunking. `audioToChunks` works on one decoded file; `ChunkStream` does the same on a file
 * fed window by window, with memory bounded by the window, and produces identical chunks.
 */
import type { AudioData, Samples } from '../audio/types.js';
import { ConfigError } from '../util/errors.js';
import { convertToTargetBitDepth, seedTables } from './convert.js';
import {
  mapI16,
  monoI16ToU8,
  pickI16,
  pickI16ToU8,
  stereoI16ToBlockedByTable,
  stereoI16ToBlockedI16,
  stereoI16ToBlockedU8,
  wordAligned,
} from './kernels.js';
import { validateAudioConfig, type PipelineOptions, type ResolvedPipelineOptions } from './options.js';

type Tokens = Uint8Array | Int16Array;

/**
 * Stereo blocking of interleaved multi-channel samples (docs/background.md): [C0_b1, C1_b1, ..., C0_b2, C1_b2, ...],
 * `blockingSize` samples per channel per block, the final partial blocks included. Mono is returned as is.
 */
export function processStereoBlocking<T extends Tokens>(
  interleaved: T,
  channels: number,
  blockingSize: number,
  frames?: number,
  out?: T,
): T {
  const ch = channels;
  const nf = frames ?? Math.floor(interleaved.length / ch);
  if (ch === 1) {
    if (!out) return interleaved.slice(0, nf) as T;
    out.set(interleaved.subarray(0, nf));
    return out;
  }
  const o = out ?? new (interleaved.constructor as new (n: number) => T)(nf * ch);
  const B = blockingSize;
  let w = 0;
  if (ch === 2) {
    for (let f0 = 0; f0 < nf; f0 += B) {
      const f1 = Math.min(nf, f0 + B);
      for (let i = f0 * 2, e = f1 * 2; i < e; i += 2) o[w++] = interleaved[i]!;
      for (let i = f0 * 2 + 1, e = f1 * 2; i < e; i += 2) o[w++] = interleaved[i]!;
    }
    return o;
  }
  for (let f0 = 0; f0 < nf; f0 += B) {
    const f1 = Math.min(nf, f0 + B);
    for (let c = 0; c < ch; c++) for (let i = f0 * ch + c, e = f1 * ch; i < e; i += ch) o[w++] = interleaved[i]!;
  }
  return o;
}

/**
 * LMIC's _extract_audio_patches: consecutive `chunkSizeBytes` pieces of a byte stream; the
 * incomplete tail is dropped, or zero-padded with tail 'pad'. Chunks are views into `bytes`
 * (the padded tail is a copy).
 */
export function extractAudioChunks(bytes: Uint8Array, chunkSizeBytes: number, tail: 'drop' | 'pad' = 'drop'): Uint8Array[] {
  if (!Number.isInteger(chunkSizeBytes) || chunkSizeBytes <= 0)
    throw new ConfigError(`chunk size must be a positive integer, got ${chunkSizeBytes}`);
  const out: Uint8Array[] = [];
  const full = Math.floor(bytes.length / chunkSizeBytes);
  for (let i = 0; i < full; i++) out.push(new Uint8Array(bytes.buffer, bytes.byteOffset + i * chunkSizeBytes, chunkSizeBytes));
  const rest = bytes.length - full * chunkSizeBytes;
  if (rest > 0 && tail === 'pad') {
    const last = new Uint8Array(chunkSizeBytes);
    last.set(bytes.subarray(full * chunkSizeBytes));
    out.push(last);
  }
  return out;
}

/** Selects, mixes or duplicates channels as the channel mode asks; returns samples and channel count. */
function applyChannelMode(audio: AudioData, o: ResolvedPipelineOptions, count: number): { samples: Samples; channels: number } {
  const ch = audio.channels;
  const s = audio.samples;
  const frames = Math.floor(count / ch);
  switch (o.channelMode) {
    case 'pick': {
      if (o.channel >= ch)
        throw new ConfigError(`channel ${o.channel} does not exist: the audio has ${ch} channel${ch === 1 ? '' : 's'}`, {
          subject: 'channel',
        });
      if (ch === 1) return { samples: s, channels: 1 };
      const out = new (s.constructor as new (n: number) => Samples)(frames);
      for (let i = 0, j = o.channel; i < frames; i++, j += ch) out[i] = s[j]!;
      return { samples: out, channels: 1 };
    }
    case 'mix': {
      if (ch === 1) return { samples: s, channels: 1 };
      const out = new (s.constructor as new (n: number) => Samples)(frames);
      const isFloat = audio.sampleType === 'float32' || audio.sampleType === 'float64';
      for (let i = 0, j = 0; i < frames; i++) {
        let sum = 0;
        for (let c = 0; c < ch; c++, j++) sum += s[j]!;
        out[i] = isFloat ? sum / ch : Math.trunc(sum / ch);
      }
      return { samples: out, channels: 1 };
    }
    case 'upmix': {
      if (ch !== 1) return { samples: s, channels: ch };
      const out = new (s.constructor as new (n: number) => Samples)(frames * 2);
      for (let i = 0; i < frames; i++) out[2 * i] = out[2 * i + 1] = s[i]!;
      return { samples: out, channels: 2 };
    }
    default:
      return { samples: s, channels: ch };
  }
}

/** Output memory for a window: fresh by default, or a reused scratch buffer for transient streams. */
type Alloc = (bytes: number) => Uint8Array;
const fresh: Alloc = (bytes) => new Uint8Array(bytes);

/** Bytes of one window of audio after bit depth and channel handling (little-endian for 16-bit). */
function windowBytes(audio: AudioData, o: ResolvedPipelineOptions, alloc: Alloc = fresh): Uint8Array {
  const count = audio.frames * audio.channels;
  const fast = fastWindowBytes(audio, o, alloc);
  if (fast) return fast;
  const { samples, channels } = applyChannelMode(audio, o, count);
  const n = Math.floor(count / audio.channels) * channels;
  const width = o.bitDepth / 8;
  if (channels === 1) {
    const bytes = alloc(n * width);
    const out = width === 1 ? bytes : new Int16Array(bytes.buffer, bytes.byteOffset, n);
    convertToTargetBitDepth({ samples, sampleType: audio.sampleType }, o.bitDepth, o.conversion, n, out);
    return bytes;
  }
  const converted = convertToTargetBitDepth({ samples, sampleType: audio.sampleType }, o.bitDepth, o.conversion, n);
  const bytes = alloc(n * width);
  const out = width === 1 ? bytes : new Int16Array(bytes.buffer, bytes.byteOffset, n);
  processStereoBlocking(converted, channels, o.blockingSize, Math.floor(n / channels), out);
  return bytes;
}

/** The fused int16 paths (see kernels.ts), or undefined when the general path applies. */
function fastWindowBytes(audio: AudioData, o: ResolvedPipelineOptions, alloc: Alloc): Uint8Array | undefined {
  if (audio.sampleType !== 'int16') return undefined;
  const s = audio.samples as Int16Array;
  const ch = audio.channels;
  const mono = ch === 1 && o.channelMode !== 'upmix';
  const picked = ch > 1 && o.channelMode === 'pick' && o.channel < ch;
  if (mono || picked) return oneChannelBytes(s, ch, mono ? 0 : o.channel, audio.frames, o, alloc);
  if (ch === 2 && (o.channelMode === 'block' || o.channelMode === 'upmix')) return blockedStereoBytes(s, audio.frames, o, alloc);
  return undefined;
}

const int16View = (bytes: Uint8Array, n: number): Int16Array => new Int16Array(bytes.buffer, bytes.byteOffset, n);

/** One channel of int16 samples (mono input, or channel mode 'pick') at the target bit depth. */
function oneChannelBytes(
  s: Int16Array,
  channels: number,
  channel: number,
  frames: number,
  o: ResolvedPipelineOptions,
  alloc: Alloc,
): Uint8Array {
  const bytes = alloc((frames * o.bitDepth) / 8);
  if (o.conversion === 'seed-float') {
    if (o.bitDepth === 8) mapI16(s, frames, channel, channels, seedTables().u8, bytes);
    else mapI16(s, frames, channel, channels, seedTables().i16, int16View(bytes, frames));
  } else if (o.bitDepth === 16) pickI16(s, channels, channel, frames, int16View(bytes, frames));
  else if (channels === 1) monoI16ToU8(s, frames, bytes);
  else pickI16ToU8(s, channels, channel, frames, bytes);
  return bytes;
}

/** Stereo int16 samples in blocks of blockingSize frames per channel at the target bit depth. */
function blockedStereoBytes(s: Int16Array, frames: number, o: ResolvedPipelineOptions, alloc: Alloc): Uint8Array | undefined {
  const n = 2 * frames;
  const B = o.blockingSize;
  if (o.conversion === 'seed-float') {
    const bytes = alloc((n * o.bitDepth) / 8);
    if (o.bitDepth === 8) stereoI16ToBlockedByTable(s, frames, B, seedTables().u8, bytes);
    else stereoI16ToBlockedByTable(s, frames, B, seedTables().i16, int16View(bytes, n));
    return bytes;
  }
  if (!wordAligned(s)) return undefined;
  const bytes = alloc((n * o.bitDepth) / 8);
  if (o.bitDepth === 8) stereoI16ToBlockedU8(s, frames, B, bytes);
  else stereoI16ToBlockedI16(s, frames, B, int16View(bytes, n));
  return bytes;
}

/**
 * Chunks of one decoded file (pure and synchronous). Chunks are views into one buffer per call.
 */
export function audioToChunks(audio: AudioData, opts: PipelineOptions = {}): Uint8Array[] {
  const { options } = validateAudioConfig(opts);
  return extractAudioChunks(windowBytes(audio, options), options.chunkSizeBytes, options.tail);
}

/** The token byte stream of one decoded file before chunking. */
export function audioToBytes(audio: AudioData, opts: PipelineOptions = {}): Uint8Array {
  return windowBytes(audio, validateAudioConfig(opts).options);
}

/**
 * Streaming chunker for one file at a time: push windows of a file in order (each window's frame
 * count a multiple of blockingSize, except the file's last), then `endFile()`. Produces exactly the
 * chunks `audioToChunks` gives on the whole file. Chunks are fresh memory, safe to keep.
 */
export class ChunkStream {
  readonly options: ResolvedPipelineOptions;
  readonly warnings: string[];
  /** See the constructor. */
  readonly transient: boolean;
  private carry: Uint8Array;
  private carryLen = 0;
  private scratch = new Uint8Array(0);
  private readonly alloc: Alloc;

  /**
   * With `transient`, the chunks returned by push() view a reused buffer and are valid only until
   * the next push(): for consumers that write or hash each batch at once (the CLI, the benchmark).
   * This skips allocating (and page-faulting) fresh memory for every window, which otherwise costs
   * about as much as the conversion itself.
   */
  constructor(opts: PipelineOptions = {}, transient = false) {
    const v = validateAudioConfig(opts);
    this.options = v.options;
    this.warnings = v.warnings;
    this.transient = transient;
    this.carry = new Uint8Array(this.options.chunkSizeBytes);
    this.alloc = transient
      ? (bytes) => {
          if (this.scratch.length < bytes) this.scratch = new Uint8Array(bytes);
          return this.scratch.subarray(0, bytes);
        }
      : fresh;
  }

  /** Window frame count that keeps blocks whole: a multiple of blockingSize near `target` frames. */
  windowFrames(target = 1 << 18): number {
    const B = this.options.blockingSize;
    return Math.max(1, Math.round(target / B)) * B;
  }

  /** Adds a window of the current file; returns the complete chunks it finished. */
  push(audio: AudioData): Uint8Array[] {
    const bytes = windowBytes(audio, this.options, this.alloc);
    const C = this.options.chunkSizeBytes;
    const out: Uint8Array[] = [];
    let pos = 0;
    if (this.carryLen > 0) {
      const take = Math.min(C - this.carryLen, bytes.length);
      this.carry.set(bytes.subarray(0, take), this.carryLen);
      this.carryLen += take;
      pos = take;
      if (this.carryLen === C) {
        out.push(this.carry);
        this.carry = new Uint8Array(C);
        this.carryLen = 0;
      }
    }
    const full = Math.floor((bytes.length - pos) / C);
    // windowBytes returns fresh (or, when transient, our own scratch) memory, so chunks can be views of
    // it without aliasing the caller's buffers.
    // (The constructor is much cheaper than subarray, which looks up Symbol.species for every view.)
    const buf = bytes.buffer;
    for (let i = 0, at = bytes.byteOffset + pos; i < full; i++, at += C) out.push(new Uint8Array(buf, at, C));
    pos += full * C;
    if (pos < bytes.length) {
      this.carry.set(bytes.subarray(pos), this.carryLen);
      this.carryLen += bytes.length - pos;
    }
    return out;
  }

  /** Ends the current file: its incomplete tail is dropped or zero-padded. */
  endFile(): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (this.carryLen > 0 && this.options.tail === 'pad') {
      this.carry.fill(0, this.carryLen);
      out.push(this.carry);
      this.carry = new Uint8Array(this.options.chunkSizeBytes);
    }
    this.carryLen = 0;
    return out;
  }
}
