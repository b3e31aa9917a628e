/**
 * FLAC on the data as audio at its own bit depth and channel layout, libFLAC's maximum compression
 * (level 8). 8-bit data are unsigned samples (LMIC's chunks), coded with the block size ffmpeg's encoder
 * would pick for the rate (105 ms: 576 samples at 8 kHz), as LMIC's ffmpeg did. 16-bit data are
 * little-endian int16, coded with libFLAC's own 4096-sample blocks but never longer than the buffer:
 * the libFLAC inside libflacjs codes a final frame shorter than its block size worse than flac 1.4
 * does (a 1024-sample chunk of test_48k.wav: 940 bytes with 4608-sample blocks, 893 with 1024;
 * flac 1.4.2 -8: 881 either way), and a chunk is all final frame. Blocked
 * multi-channel data ([L block, R block, ...]) are given back their channels when the buffer holds whole
 * groups of blocks, so FLAC sees the stereo it would see in the file; otherwise (a chunk holding one
 * channel's block, or a partial group) the samples are one channel in stream order.
 * LMIC used ffmpeg's own FLAC encoder at -compression_level 12 on 8-bit mono. libFLAC's default
 * 4096-sample blocks make every 2048-byte chunk one short frame whose LPC set-up dominates (39.3% chunked
 * on FSDD against ffmpeg's 36.0%); with ffmpeg's block size both rates land within a point of ffmpeg's
 * (docs/compression.md). The stream header (fLaC, STREAMINFO, vendor comment) is the fixed part
 * compress.py counts once.
 */
import { encodeFlac, ffmpegFlacBlockSize, flacEncoderReady } from '../../audio/encoders/flac.js';
import type { CompressContext, Compressor } from '../compressor.js';

/** The buffer as 16-bit samples (a trailing odd byte, as in compress.py's one-byte header probe, becomes a sample's low byte). */
function int16Samples(data: Uint8Array): Int16Array {
  const out = new Int16Array(Math.ceil(data.length / 2));
  for (let i = 0; i < out.length; i++) out[i] = data[2 * i]! | ((data[2 * i + 1] ?? 0) << 8);
  return out;
}

/** [C0 block, C1 block, ...] repeated, back to interleaved frames. */
function unblock<T extends Uint8Array | Int16Array>(blocked: T, channels: number, block: number): T {
  const out = new (blocked.constructor as new (n: number) => T)(blocked.length);
  const group = channels * block;
  for (let g = 0; g < blocked.length; g += group) {
    for (let c = 0; c < channels; c++) {
      for (let i = 0; i < block; i++) out[g + i * channels + c] = blocked[g + c * block + i]!;
    }
  }
  return out;
}

/** Samples and channel count FLAC is given for `data` under `ctx`. */
export function flacInput(data: Uint8Array, ctx: CompressContext): { samples: Uint8Array | Int16Array; channels: number } {
  const samples = ctx.bitDepth === 16 ? int16Samples(data) : data;
  const channels = ctx.channels ?? 1;
  const block = ctx.blockingSize ?? 0;
  if (channels > 1 && channels <= 8 && block > 0 && samples.length > 0 && samples.length % (channels * block) === 0) {
    return { samples: unblock(samples, channels, block), channels };
  }
  return { samples, channels: 1 };
}

/** libFLAC's block size at levels 3..8. */
const LIBFLAC_BLOCK_SIZE = 4096;

function blockSize(ctx: CompressContext, frames: number): number {
  if (ctx.bitDepth !== 16) return ffmpegFlacBlockSize(ctx.sampleRate);
  return Math.max(16, Math.min(LIBFLAC_BLOCK_SIZE, frames));
}

export const flac: Compressor = {
  name: 'flac',
  kind: 'classical',
  description: 'FLAC at the data bit depth and channels, libFLAC level 8 (8-bit: ffmpeg block size)',
  init: () => flacEncoderReady(),
  compress: (data, ctx) => {
    const { samples, channels } = flacInput(data, ctx);
    const bitsPerSample = ctx.bitDepth === 16 ? 16 : 8;
    return encodeFlac(samples, {
      sampleRate: ctx.sampleRate,
      channels,
      bitsPerSample,
      compressionLevel: 8,
      blockSize: blockSize(ctx, samples.length / channels),
    });
  },
};
