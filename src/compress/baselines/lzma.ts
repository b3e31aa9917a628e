/**
 * LZMA in the .xz container, preset 6, CRC-64 check: what Python's lzma.compress(data) writes.
 * node-liblzma binds liblzma itself (the library Python uses) and ships prebuilt binaries inside the
 * npm package, so the output is byte-identical to Python's with no build step. Where no prebuilt
 * binary matches the platform, the system's `xz` (also liblzma) is run instead, single-threaded so
 * the stream has Python's layout; its running time then includes a process start per call.
 * (@napi-rs/lzma was tried first: 1.4.x stores data uncompressed, and 1.5.x needs Node 22 and breaks
 * `npm ci` on npm 11.)
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { UnsupportedError } from '../../util/errors.js';
import type { Compressor } from '../compressor.js';

interface LiblzmaModule {
  xzSync(input: Uint8Array, opts: { preset: number; check: number }): Uint8Array;
  check: { CRC64: number };
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
      const lib = createRequire(import.meta.url)('node-liblzma') as LiblzmaModule;
      const check = lib.check.CRC64;
      // It accepts Buffers only; a Buffer view over the same bytes costs no copy.
      compressFn = (d) => new Uint8Array(lib.xzSync(Buffer.from(d.buffer, d.byteOffset, d.byteLength), { preset: 6, check }));
      backend = 'liblzma';
    } catch (e) {
      const probe = spawnSync('xz', ['--version']);
      if (probe.error || probe.status !== 0) {
        throw new UnsupportedError(
          `lzma: node-liblzma has no binary for ${process.platform}-${process.arch} (${(e as Error).message.split('\n')[0]}) and ` +
            'no xz program is on PATH; install xz-utils',
          { cause: e },
        );
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

/** Which implementation init() picked ('liblzma', 'xz' or 'none'). */
export function lzmaBackend(): string {
  return backend;
}
