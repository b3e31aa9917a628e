/** Brotli at quality 11 with the window at its default (node:zlib). Not in LMIC; a modern reference point. */
import { brotliCompressSync, constants } from 'node:zlib';
import type { Compressor } from '../compressor.js';

export const brotli: Compressor = {
  name: 'brotli',
  kind: 'classical',
  description: 'brotli quality 11 (zlib)',
  compress: (data) =>
    brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length } }),
};
