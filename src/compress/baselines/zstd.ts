/** zstd at level 19, the highest non-"ultra" level (@bokuweb/zstd-wasm, the reference C library in wasm). Not in LMIC. */
import { UnsupportedError } from '../../util/errors.js';
import type { Compressor } from '../compressor.js';

type ZstdCompress = (data: Uint8Array, level: number) => Uint8Array;
let zstdCompress: ZstdCompress | undefined;

export const zstd: Compressor = {
  name: 'zstd',
  kind: 'classical',
  description: 'zstd level 19 (libzstd in wasm)',
  async init() {
    if (zstdCompress) return;
    const mod = (await import('@bokuweb/zstd-wasm')) as { init(): Promise<void>; compress: ZstdCompress };
    await mod.init();
    zstdCompress = mod.compress;
  },
  compress(data) {
    if (!zstdCompress) throw new UnsupportedError('zstd: call init() first');
    return zstdCompress(data, 19);
  },
};
