/**
 * FLAC on the 8-bit samples, mono, at the data's sample rate, libFLAC's maximum compression (level 8)
 * with the block size ffmpeg's encoder would pick for that rate (105 ms: 576 samples at 8 kHz).
 * LMIC used ffmpeg's own FLAC encoder at -compression_level 12. libFLAC's default 4096-sample blocks
 * make every 2048-byte chunk one short frame whose LPC set-up dominates (39.3% chunked on FSDD against
 * ffmpeg's 36.0%); with ffmpeg's block size both rates land within a point of ffmpeg's
 * (docs/compression.md). The stream header (fLaC, STREAMINFO, vendor comment) is the fixed part
 * compress.py counts once.
 */
import { encodeFlac, ffmpegFlacBlockSize, flacEncoderReady } from '../../audio/encoders/flac.js';
import type { Compressor } from '../compressor.js';

export const flac: Compressor = {
  name: 'flac',
  kind: 'classical',
  description: 'FLAC 8-bit mono, libFLAC level 8, ffmpeg block size',
  init: () => flacEncoderReady(),
  compress: (data, ctx) => encodeFlac(data, { sampleRate: ctx.sampleRate, channels: 1, bitsPerSample: 8, compressionLevel: 8, blockSize: ffmpegFlacBlockSize(ctx.sampleRate) }),
};
