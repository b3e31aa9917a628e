/**
 * Minimal POSIX ustar (the subset WebDataset uses): regular files with names up to 255 bytes,
 * deterministic headers (mtime 0, uid/gid 0), and a reader that checks every header checksum and size
 * against the archive before using it.
 */
import { FormatError } from '../util/errors.js';

const BLOCK = 512;

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

function putString(h: Uint8Array, at: number, s: string, width: number): void {
  const b = Buffer.from(s, 'utf8');
  if (b.length > width) throw new FormatError(`tar: '${s}' is longer than ${width} bytes`);
  h.set(b, at);
}

/** A tar header block for a regular file. */
export function tarHeader(name: string, size: number): Uint8Array {
  const h = new Uint8Array(BLOCK);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', 155);
    if (cut <= 0 || Buffer.byteLength(name.slice(cut + 1)) > 100)
      throw new FormatError(`tar: name '${name}' does not fit ustar's 100+155 bytes`);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
  }
  putString(h, 0, base, 100);
  putString(h, 100, octal(0o644, 8), 8);
  putString(h, 108, octal(0, 8), 8);
  putString(h, 116, octal(0, 8), 8);
  putString(h, 124, octal(size, 12), 12);
  putString(h, 136, octal(0, 12), 12);
  h.fill(0x20, 148, 156);
  h[156] = 0x30; // '0': regular file
  putString(h, 257, 'ustar\0', 6);
  putString(h, 263, '00', 2);
  putString(h, 345, prefix, 155);
  let sum = 0;
  for (const b of h) sum += b;
  putString(h, 148, `${sum.toString(8).padStart(6, '0')}\0 `, 8);
  return h;
}

/** Appends entries to a growing list of buffers; `finish` adds the two zero blocks. */
export class TarWriter {
  private parts: Uint8Array[] = [];
  size = 0;
  add(name: string, data: Uint8Array): void {
    this.parts.push(tarHeader(name, data.length), data);
    const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
    if (pad) this.parts.push(new Uint8Array(pad));
    this.size += BLOCK + data.length + pad;
  }
  finish(): Uint8Array {
    this.parts.push(new Uint8Array(2 * BLOCK));
    this.size += 2 * BLOCK;
    return new Uint8Array(Buffer.concat(this.parts));
  }
}

export interface TarEntry {
  name: string;
  data: Uint8Array;
}

function readOctal(h: Uint8Array, at: number, width: number, name: string): number {
  const s = Buffer.from(h.subarray(at, at + width))
    .toString('latin1')
    .replace(/[\0 ]+$/g, '')
    .trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new FormatError(`${name}: tar header has a malformed number '${s}'`, { subject: name });
  return parseInt(s, 8);
}

function readString(h: Uint8Array, at: number, width: number): string {
  const b = h.subarray(at, at + width);
  const end = b.indexOf(0);
  return Buffer.from(end < 0 ? b : b.subarray(0, end)).toString('utf8');
}

/** Regular files of a tar archive, in archive order. PAX path records are honoured; other entry types are skipped. */
export function readTar(buf: Uint8Array, name = 'tar'): TarEntry[] {
  const out: TarEntry[] = [];
  let at = 0;
  let paxPath: string | undefined;
  while (at + BLOCK <= buf.length) {
    const h = buf.subarray(at, at + BLOCK);
    if (h.every((b) => b === 0)) break;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    const stored = readOctal(h, 148, 8, name);
    if (stored !== sum)
      throw new FormatError(`${name}: tar header checksum mismatch at byte ${at}; the archive is damaged`, { subject: name });
    const size = readOctal(h, 124, 12, name);
    const type = String.fromCharCode(h[156]!);
    const dataAt = at + BLOCK;
    if (dataAt + size > buf.length)
      throw new FormatError(
        `${name}: entry at byte ${at} claims ${size} bytes, past the end of the archive (${buf.length}); it is truncated`,
        { subject: name },
      );
    const data = buf.subarray(dataAt, dataAt + size);
    const prefix = readString(h, 345, 155);
    const base = readString(h, 0, 100);
    const full = prefix ? `${prefix}/${base}` : base;
    if (type === 'x') {
      const m = /\d+ path=([^\n]*)\n/.exec(Buffer.from(data).toString('utf8'));
      paxPath = m?.[1];
    } else if (type === '0' || type === '\0') {
      out.push({ name: paxPath ?? full, data });
      paxPath = undefined;
    } else paxPath = undefined;
    at = dataAt + Math.ceil(size / BLOCK) * BLOCK;
  }
  return out;
}
