/**
 * The content-hash cache of the codec tokens a build encodes. An entry's key is the SHA-256 of the source
 * file's bytes, the sample's frame range and the encoder's identity (its model weights and bandwidth), so
 * a rebuild with the same settings reads the tokens instead of running the codec, and a change to any of
 * them encodes again. Entries are uint16 .npy files [n_codebooks, frames] under DIR/codec-tokens/, written
 * whole and renamed into place, so a reader never sees half an entry.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { NotFoundError } from '../util/errors.js';
import { parseNpy, serializeNpy } from '../util/npy.js';
import type { TokenArray } from './fields/codec-tokens.js';

/** Bumped when what an entry means changes, so older entries are ignored. */
const TOKEN_CACHE_VERSION = 1;

/** A sample's frames [start, end) of its source file; the whole file when both are absent. */
export interface FrameRange {
  start?: number;
  end?: number;
}

/** SHA-256 of a file's bytes, read 1 MiB at a time (sources may be long recordings). */
function fileSha256(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new NotFoundError(`${path}: cannot read the file (${(e as Error).message})`, { subject: path, cause: e });
  }
  try {
    const hash = createHash('sha256');
    const buf = new Uint8Array(1 << 20);
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) hash.update(buf.subarray(0, n));
    return hash.digest('hex');
  } finally {
    closeSync(fd);
  }
}

export class TokenCache {
  /** The last file hashed: the segments of one recording are consecutive in a plan, so it is hashed once. */
  private last: { path: string; sha256: string } | undefined;

  constructor(readonly dir: string) {}

  key(path: string, range: FrameRange, encoderId: string): string {
    if (this.last?.path !== path) this.last = { path, sha256: fileSha256(path) };
    const parts = [TOKEN_CACHE_VERSION, this.last.sha256, range.start ?? null, range.end ?? null, encoderId];
    return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
  }

  private entryPath(key: string): string {
    return join(this.dir, 'codec-tokens', key.slice(0, 2), `${key}.npy`);
  }

  /** The entry's tokens, or undefined when there is none or it is not a uint16 [numCodebooks, frames] array (then it is encoded again). */
  get(key: string, numCodebooks: number): TokenArray | undefined {
    const p = this.entryPath(key);
    if (!existsSync(p)) return undefined;
    try {
      const a = parseNpy(new Uint8Array(readFileSync(p)), p);
      return a.data instanceof Uint16Array && a.shape.length === 2 && a.shape[0] === numCodebooks
        ? { shape: a.shape, data: a.data }
        : undefined;
    } catch {
      return undefined;
    }
  }

  put(key: string, codes: Uint16Array, shape: [number, number]): void {
    const p = this.entryPath(key);
    mkdirSync(dirname(p), { recursive: true });
    const tmp = `${p}.${process.pid}.tmp`;
    writeFileSync(tmp, serializeNpy(codes, shape));
    renameSync(tmp, p);
  }
}
