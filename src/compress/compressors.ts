/** The compressors `wavelm eval` knows by name (lm:CHECKPOINT is built separately, see lm-compressor.ts). */
import type { Compressor } from './compressor.js';
import { brotli } from './baselines/brotli.js';
import { flac } from './baselines/flac.js';
import { gzip } from './baselines/gzip.js';
import { lzma } from './baselines/lzma.js';
import { png } from './baselines/png.js';
import { zstd } from './baselines/zstd.js';

export const CLASSICAL_COMPRESSORS: Readonly<Record<string, Compressor>> = { gzip, lzma, flac, png, brotli, zstd };
