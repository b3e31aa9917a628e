/**
 * Opus encoding and packet decoding with libopus 1.4 built for WebAssembly (the `opusscript` package).
 * The dataset's Opus field stores raw packets with its own length framing rather than Ogg pages: a
 * sample is short, random access matters more than streaming, and the framing is a few bytes.
 */
import { createRequire } from 'node:module';
import { ConfigError, FormatError } from '../../util/errors.js';

interface OpusScriptInstance {
  encode(buffer: Buffer, frameSize: number): Buffer;
  decode(buffer: Buffer): Buffer;
  setBitrate(bitrate: number): void;
  encoderCTL(ctl: number, arg: number): void;
  decoderCTL(ctl: number, arg: number): void;
  delete(): void;
}
interface OpusScriptCtor {
  new (rate: number, channels: number, application: number, options?: { wasm?: boolean }): OpusScriptInstance;
  Application: { VOIP: number; AUDIO: number; RESTRICTED_LOWDELAY: number };
}

const require = createRequire(import.meta.url);
let ctor: OpusScriptCtor | undefined;
function opusscript(): OpusScriptCtor {
  ctor ??= require('opusscript') as OpusScriptCtor;
  return ctor;
}

export const OPUS_RATES = [8000, 12000, 16000, 24000, 48000] as const;
export type OpusApplication = 'audio' | 'voip' | 'lowdelay';

/** The Opus rate a signal at `rate` is encoded at: the smallest Opus rate not below it (48 kHz above that). */
export function opusRateFor(rate: number): number {
  return OPUS_RATES.find((r) => r >= rate) ?? 48000;
}

/** libopus's algorithmic delay in samples at `rate`: 2.5 ms look-ahead, plus 4 ms delay compensation unless low-delay. */
export function opusPreSkip(rate: number, application: OpusApplication): number {
  return application === 'lowdelay' ? rate / 400 : rate / 400 + rate / 250;
}

export interface OpusEncodeOptions {
  /** Bits per second for all channels together (default 32 kbit/s per channel). */
  bitrate?: number;
  application?: OpusApplication;
  /** Frame duration in ms: 2.5, 5, 10, 20 (default), 40 or 60. */
  frameMs?: number;
}

export interface OpusPackets {
  /** The Opus rate (one of OPUS_RATES). */
  sampleRate: number;
  channels: number;
  /** Frames of input encoded (before padding). */
  frames: number;
  /** Samples at the start of the decoded stream that are codec delay, not signal. */
  preSkip: number;
  frameSize: number;
  packets: Uint8Array[];
}

function appCode(app: OpusApplication): number {
  const A = opusscript().Application;
  return app === 'voip' ? A.VOIP : app === 'lowdelay' ? A.RESTRICTED_LOWDELAY : A.AUDIO;
}

/**
 * Encodes interleaved int16 PCM at an Opus rate. The input is padded with silence so that after
 * dropping `preSkip` samples the decoder yields every input frame.
 */
export function encodeOpus(pcm: Int16Array, channels: number, sampleRate: number, opts: OpusEncodeOptions = {}): OpusPackets {
  if (!(OPUS_RATES as readonly number[]).includes(sampleRate))
    throw new ConfigError(`opus: ${sampleRate} Hz is not an Opus rate (${OPUS_RATES.join(', ')}); resample first`);
  if (channels < 1 || channels > 2)
    throw new ConfigError(`opus: ${channels} channels; this encoder takes mono or stereo (down-mix or store stems as separate fields)`);
  if (pcm.length % channels !== 0) throw new ConfigError(`opus: ${pcm.length} samples is not a whole number of ${channels}-channel frames`);
  const application = opts.application ?? 'audio';
  const frameMs = opts.frameMs ?? 20;
  if (![2.5, 5, 10, 20, 40, 60].includes(frameMs))
    throw new ConfigError(`opus: frame duration ${frameMs} ms is not one of 2.5, 5, 10, 20, 40, 60`);
  const frameSize = (sampleRate * frameMs) / 1000;
  const bitrate = opts.bitrate ?? 32000 * channels;
  if (!(bitrate >= 500 && bitrate <= 512000)) throw new ConfigError(`opus: bitrate ${bitrate} is outside 500..512000 bit/s`);
  const O = opusscript();
  const enc = new O(sampleRate, channels, appCode(application));
  try {
    enc.setBitrate(bitrate);
    const frames = pcm.length / channels;
    const preSkip = opusPreSkip(sampleRate, application);
    const total = Math.ceil((frames + preSkip) / frameSize) * frameSize;
    const padded = new Int16Array(total * channels);
    padded.set(pcm);
    const packets: Uint8Array[] = [];
    const step = frameSize * channels;
    for (let i = 0; i < padded.length; i += step) {
      const s = padded.subarray(i, i + step);
      // opusscript takes the PCM as bytes (a Buffer), not as an Int16Array.
      packets.push(new Uint8Array(enc.encode(Buffer.from(s.buffer, s.byteOffset, s.byteLength), frameSize)));
    }
    return { sampleRate, channels, frames, preSkip, frameSize, packets };
  } finally {
    enc.delete();
  }
}

const decoders = new Map<string, OpusScriptInstance>();

/** Decodes packets back to exactly `frames` interleaved int16 frames, dropping the codec delay. */
export function decodeOpus(
  packets: Uint8Array[],
  channels: number,
  sampleRate: number,
  preSkip: number,
  frames: number,
  application: OpusApplication = 'audio',
): Int16Array {
  const key = `${sampleRate}/${channels}/${application}`;
  let dec = decoders.get(key);
  if (!dec) {
    const O = opusscript();
    dec = new O(sampleRate, channels, appCode(application));
    decoders.set(key, dec);
  }
  // Every sample is an independent stream: OPUS_RESET_STATE (4028) clears what the last one left.
  dec.decoderCTL(4028, 0);
  const out = new Int16Array(frames * channels);
  let pos = -preSkip * channels; // position in `out` of the next decoded sample
  for (const p of packets) {
    let b: Buffer;
    try {
      b = dec.decode(Buffer.from(p.buffer, p.byteOffset, p.byteLength));
    } catch (e) {
      throw new FormatError(`opus: a packet does not decode (${(e as Error).message})`, { cause: e });
    }
    const pcm = new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    const from = Math.max(0, -pos);
    const to = Math.min(pcm.length, out.length - pos);
    if (to > from) out.set(pcm.subarray(from, to), pos + from);
    pos += pcm.length;
    if (pos >= out.length) break;
  }
  if (pos < out.length) throw new FormatError(`opus: packets decode to ${Math.max(0, pos / channels)} frames, ${frames} expected`);
  return out;
}

/** Packs packets as [u16 length][bytes]... so a sample is one blob. */
export function packOpusPackets(packets: Uint8Array[]): Uint8Array {
  const n = packets.reduce((a, p) => a + 2 + p.length, 0);
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of packets) {
    if (p.length > 0xffff) throw new FormatError(`opus: packet of ${p.length} bytes does not fit the 16-bit length prefix`);
    out[at] = p.length & 0xff;
    out[at + 1] = p.length >>> 8;
    out.set(p, at + 2);
    at += 2 + p.length;
  }
  return out;
}

export function unpackOpusPackets(b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < b.length) {
    if (at + 2 > b.length) throw new FormatError(`opus: packet length prefix runs past the blob (${b.length} bytes)`);
    const n = b[at]! | (b[at + 1]! << 8);
    if (at + 2 + n > b.length) throw new FormatError(`opus: packet of ${n} bytes at ${at} runs past the blob (${b.length} bytes)`);
    out.push(b.subarray(at + 2, at + 2 + n));
    at += 2 + n;
  }
  return out;
}
