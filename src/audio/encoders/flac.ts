/**
 * FLAC encoder: libFLAC (libflacjs, MIT wrapper around Xiph's BSD-licensed libFLAC) compiled to asm.js.
 * The asm.js build is used rather than libflacjs's wasm build because the latter fetches its .wasm with
 * a bare path, which Node's fetch rejects. The module initialises asynchronously once: await
 * `flacEncoderReady()` (or use `encodeFlacAsync`) before the synchronous `encodeFlac`.
 */
import { createRequire } from 'node:module';
import { ConfigError, WavelmError } from '../../util/errors.js';

export interface FlacEncodeOptions {
  sampleRate: number;
  channels: number;
  /**
   * Significant bits of the samples, 4..24 (libFLAC's limit). The stream is written at 8, 16 or 24 bits, the next
   * at or above these (see STREAM_BITS), the extra low bits zero.
   */
  bitsPerSample: number;
  /** libFLAC compression level 0..8 (default 8, the maximum). */
  compressionLevel?: number;
  /** Samples per block (0 or absent: libFLAC's choice for the level, 4096 at levels 3..8). */
  blockSize?: number;
  /** libFLAC's verify mode (decodes while encoding and compares). Default false. */
  verify?: boolean;
}

interface LibFlac {
  isReady(): boolean;
  on(event: 'ready', cb: () => void): void;
  create_libflac_encoder(
    rate: number,
    channels: number,
    bps: number,
    level: number,
    totalSamples?: number,
    verify?: boolean,
    blockSize?: number,
  ): number;
  init_encoder_stream(enc: number, write: (data: Uint8Array, bytes: number) => void): number;
  FLAC__stream_encoder_process_interleaved(enc: number, buf: Int32Array, frames: number): boolean;
  FLAC__stream_encoder_finish(enc: number): boolean;
  FLAC__stream_encoder_delete(enc: number): void;
  FLAC__stream_encoder_get_state(enc: number): number;
}

let flac: LibFlac | undefined;
let ready: Promise<void> | undefined;

/** Loads libFLAC once; resolves when encodeFlac can be called. */
export function flacEncoderReady(): Promise<void> {
  ready ??= new Promise<void>((resolve) => {
    const require = createRequire(import.meta.url);
    const lib = require('libflacjs/dist/libflac.js') as LibFlac;
    if (lib.isReady()) {
      flac = lib;
      resolve();
    } else
      lib.on('ready', () => {
        flac = lib;
        resolve();
      });
  });
  return ready;
}

/**
 * The depths streams are written at. libFLAC refuses depths outside FLAC's streamable subset (8, 12, 16, 20, 24)
 * while the subset is on (init status 11, NOT_STREAMABLE), and libflacjs does not export the call that turns it
 * off; of the subset's depths, the decoder src/audio uses (@wasm-audio-decoders/flac) reads back only 8, 16 and
 * 24 bits. So 5-bit or 12-in-16-bit sources are written at the next of these, the added low bits zero, which FLAC
 * codes as "wasted bits" in a few bits per frame.
 */
const STREAM_BITS = [8, 16, 24] as const;

/** The stream depth for samples of `bits` significant bits. */
export function flacStreamBits(bits: number): number {
  return STREAM_BITS.find((b) => b >= bits) ?? bits;
}

/** Samples as signed integers right-justified to `bits`. */
function toInt32(samples: Int16Array | Int32Array | Uint8Array, bits: number): Int32Array {
  const out = new Int32Array(samples.length);
  if (samples instanceof Uint8Array) {
    // Unsigned 8-bit PCM (128 = silence), as WAV stores it.
    const shift = 8 - bits;
    for (let i = 0; i < samples.length; i++) out[i] = (samples[i]! - 128) >> shift;
  } else if (samples instanceof Int16Array) {
    // Left-justified in 16 bits (as src/audio stores 9..16-bit PCM).
    const shift = 16 - bits;
    for (let i = 0; i < samples.length; i++) out[i] = samples[i]! >> shift;
  } else {
    // Left-justified in 32 bits (as src/audio stores 17..32-bit PCM).
    const shift = 32 - bits;
    for (let i = 0; i < samples.length; i++) out[i] = samples[i]! >> shift;
  }
  return out;
}

/**
 * Encodes interleaved PCM to a FLAC stream. Uint8Array is unsigned 8-bit PCM; Int16Array and
 * Int32Array hold samples left-justified in their container (src/audio's convention) and are shifted
 * down to `bitsPerSample`. Needs `await flacEncoderReady()` first.
 */
export function encodeFlac(samples: Int16Array | Int32Array | Uint8Array, opts: FlacEncodeOptions): Uint8Array {
  if (!flac) throw new ConfigError('encodeFlac: libFLAC is not loaded yet; await flacEncoderReady() first');
  const { sampleRate, channels, bitsPerSample } = opts;
  const level = opts.compressionLevel ?? 8;
  const container = samples instanceof Uint8Array ? 8 : samples instanceof Int16Array ? 16 : 32;
  if (!Number.isInteger(channels) || channels < 1 || channels > 8)
    throw new ConfigError(`encodeFlac: ${channels} channels; FLAC holds 1 to 8`);
  if (!Number.isInteger(bitsPerSample) || bitsPerSample < 4 || bitsPerSample > 24 || bitsPerSample > container) {
    throw new ConfigError(
      `encodeFlac: ${bitsPerSample} bits per sample; libFLAC encodes 4 to 24 bits, at most the ${container}-bit container`,
    );
  }
  if (!Number.isInteger(sampleRate) || sampleRate < 1 || sampleRate > 655350)
    throw new ConfigError(`encodeFlac: sample rate ${sampleRate} is outside FLAC's range`);
  if (!Number.isInteger(level) || level < 0 || level > 8)
    throw new ConfigError(`encodeFlac: compression level ${level}; libFLAC has 0 to 8`);
  if (samples.length % channels !== 0)
    throw new ConfigError(`encodeFlac: ${samples.length} samples is not a whole number of ${channels}-channel frames`);
  const frames = samples.length / channels;
  const blockSize = opts.blockSize ?? 0;
  if (!Number.isInteger(blockSize) || blockSize < 0 || (blockSize > 0 && blockSize < 16) || blockSize > 65535)
    throw new ConfigError(`encodeFlac: block size ${blockSize}; FLAC blocks hold 16 to 65535 samples`);
  const streamBits = flacStreamBits(bitsPerSample);
  const enc = flac.create_libflac_encoder(sampleRate, channels, streamBits, level, frames, opts.verify ?? false, blockSize);
  if (!enc) throw new WavelmError('EUNSUPPORTED', `encodeFlac: libFLAC refused ${channels} channels, ${streamBits} bits, ${sampleRate} Hz`);
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    const status = flac.init_encoder_stream(enc, (data, bytes) => {
      parts.push(data.slice(0, bytes));
      size += bytes;
    });
    if (status !== 0)
      throw new WavelmError(
        'EUNSUPPORTED',
        `encodeFlac: libFLAC refused ${channels} channels of ${streamBits} bits at ${sampleRate} Hz (init status ${status})`,
      );
    const pcm = toInt32(samples, streamBits);
    // Feed in blocks so libFLAC's heap copy stays small for long inputs.
    const step = 1 << 16;
    for (let f = 0; f < frames; f += step) {
      const n = Math.min(step, frames - f);
      if (!flac.FLAC__stream_encoder_process_interleaved(enc, pcm.subarray(f * channels, (f + n) * channels), n)) {
        throw new WavelmError(
          'EFORMAT',
          `encodeFlac: libFLAC failed at frame ${f} (encoder state ${flac.FLAC__stream_encoder_get_state(enc)})`,
        );
      }
    }
    if (!flac.FLAC__stream_encoder_finish(enc))
      throw new WavelmError('EFORMAT', `encodeFlac: libFLAC failed to finish (encoder state ${flac.FLAC__stream_encoder_get_state(enc)})`);
  } finally {
    flac.FLAC__stream_encoder_delete(enc);
  }
  const out = new Uint8Array(size);
  let p = 0;
  for (const b of parts) {
    out.set(b, p);
    p += b.length;
  }
  return out;
}

/** encodeFlac after loading libFLAC. */
export async function encodeFlacAsync(samples: Int16Array | Int32Array | Uint8Array, opts: FlacEncodeOptions): Promise<Uint8Array> {
  await flacEncoderReady();
  return encodeFlac(samples, opts);
}

/**
 * The block size ffmpeg's FLAC encoder picks (libavcodec flacenc.c select_blocksize, 105 ms blocks at
 * compression levels 3..12): the largest standard FLAC block size not above 105 ms of audio.
 */
export function ffmpegFlacBlockSize(sampleRate: number): number {
  const table = [192, 576, 1152, 2304, 4608, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768];
  const target = Math.floor((sampleRate * 105) / 1000);
  let best = 576;
  for (const b of table) if (target >= b && b > best) best = b;
  return best;
}
