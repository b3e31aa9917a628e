/**
 * LZMA in the .xz container, preset 6, CRC-64 check: what Python's lzma.compress(data) writes.
 * @napi-rs/lzma (lzma-rust2, prebuilt per platform) writes standard .xz; on FSDD's LMIC chunks its sizes
 * are within 0.1 point of liblzma's (see docs/compression.md).
 */
import { createRequire } from 'node:module';
import { UnsupportedError } from '../../util/errors.js';
import type { Compressor } from '../compressor.js';

interface XzModule {
  compressSync(input: Uint8Array): Uint8Array;
}
let xz: XzModule | undefined;

export const lzma: Compressor = {
  name: 'lzma',
  kind: 'classical',
  description: 'xz (LZMA2) preset 6, CRC-64, as Python lzma.compress',
  init() {
    if (!xz) {
      try {
        xz = createRequire(import.meta.url)('@napi-rs/lzma/xz') as XzModule;
      } catch (e) {
        throw new UnsupportedError(`lzma: the native xz binding did not load on ${process.platform}-${process.arch} (${(e as Error).message.split('\n')[0]}); reinstall @napi-rs/lzma`, { cause: e });
      }
    }
    return Promise.resolve();
  },
  compress(data) {
    if (!xz) throw new UnsupportedError('lzma: call init() first');
    return xz.compressSync(data);
  },
};
