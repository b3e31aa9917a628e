/** gzip at level 9 (node:zlib; same deflate and 18-byte framing as Python's gzip.compress(data, 9)). */
import { gzipSync } from 'node:zlib';
import type { Compressor } from '../compressor.js';

export const gzip: Compressor = {
  name: 'gzip',
  kind: 'classical',
  description: 'gzip level 9 (zlib)',
  compress: (data) => gzipSync(data, { level: 9 }),
};
