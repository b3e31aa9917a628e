/**
 * LZMA in the .xz container, preset 6, CRC-64 check: what Python's lzma.compress(data) writes.
 * @napi-rs/lzma (lzma-rust2, prebuilt per platform) writes standard .xz; on FSDD's LMIC chunks its sizes
 * are within 0.1 point of liblzma's (see docs/compression.md). Where its platform binary is missing
 * (npm skips optional binaries when it cannot detect the C library), the system's `xz` (liblzma, the
 * library Python uses) is run instead, single-threaded so the stream has Python's layout; its running
 * time then includes a process start per call.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { UnsupportedError } from '../../util/errors.js';
import type { Compressor } from '../compressor.js';

interface XzModule {
  compressSync(input: Uint8Array): Uint8Array;
}
let compressFn: ((data: Uint8Array) => Uint8Array) | undefined;
let backend = 'none';

function xzCli(data: Uint8Array): Uint8Array {
  const r = spawnSync('xz', ['--format=xz', '--check=crc64', '-6', '-T1', '-c'], { input: data, maxBuffer: 16 * data.length + (1 << 20) });
  if (r.error || r.status !== 0) throw new UnsupportedError(`lzma: xz failed (${r.error?.message ?? r.stderr.toString().trim()})`);
  return new Uint8Array(r.stdout);
}

export const lzma: Compressor = {
  name: 'lzma',
  kind: 'classical',
  description: 'xz (LZMA2) preset 6, CRC-64, as Python lzma.compress',
  init() {
    if (compressFn) return Promise.resolve();
    try {
      const xz = createRequire(import.meta.url)('@napi-rs/lzma/xz') as XzModule;
      compressFn = (d) => xz.compressSync(d);
      backend = '@napi-rs/lzma';
    } catch (e) {
      const probe = spawnSync('xz', ['--version']);
      if (probe.error || probe.status !== 0) {
        throw new UnsupportedError(`lzma: neither @napi-rs/lzma's binary for ${process.platform}-${process.arch} (${(e as Error).message.split('\n')[0]}) nor an xz program is available; install @napi-rs/lzma-${process.platform}-${process.arch}-gnu or xz-utils`, { cause: e });
      }
      compressFn = xzCli;
      backend = 'xz';
    }
    return Promise.resolve();
  },
  compress(data) {
    if (!compressFn) throw new UnsupportedError('lzma: call init() first');
    return compressFn(data);
  },
};

/** Which implementation init() picked ('@napi-rs/lzma', 'xz' or 'none'). */
export function lzmaBackend(): string {
  return backend;
}
