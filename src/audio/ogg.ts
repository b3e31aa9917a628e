/**
 * The length of an Ogg Opus stream from its pages, as RFC 7845 defines it: the last page's granule
 * position (48 kHz samples) minus the pre-skip of the OpusHead packet (sections 4.2 and 4.4, end
 * trimming: https://www.rfc-editor.org/rfc/rfc7845#section-4.4). The decoder returns whole 2.5-20 ms
 * frames, so its output runs past the end unless cut to this length.
 */
import type { ByteSource } from './source.js';

/** Largest Ogg page: 27-byte header, 255 lacing values, 255 segments of 255 bytes. */
const MAX_PAGE = 27 + 255 + 255 * 255;

function isPageAt(b: Uint8Array, o: number): boolean {
  return o + 27 <= b.length && b[o] === 0x4f && b[o + 1] === 0x67 && b[o + 2] === 0x67 && b[o + 3] === 0x53 && b[o + 4] === 0;
}

function pageLength(b: Uint8Array, o: number): number {
  const segs = b[o + 26]!;
  if (o + 27 + segs > b.length) return -1;
  let body = 0;
  for (let i = 0; i < segs; i++) body += b[o + 27 + i]!;
  return 27 + segs + body;
}

/** Pre-skip and serial number from the first page (which holds OpusHead), or undefined. */
function opusHead(head: Uint8Array): { preSkip: number; serial: number } | undefined {
  if (!isPageAt(head, 0)) return undefined;
  const p = 27 + head[26]!;
  if (p + 19 > head.length) return undefined;
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  return { preSkip: dv.getUint16(p + 10, true), serial: dv.getUint32(14, true) };
}

/**
 * Frames of an Ogg Opus stream at 48 kHz (granule position of its last page minus pre-skip), or
 * undefined when that cannot be told: no complete page at the end of the source, a last page from
 * another logical stream (chained files), or a granule position of -1.
 */
export function opusStreamFrames(src: ByteSource): number | undefined {
  const head = opusHead(src.read(0, 4096).slice());
  if (!head) return undefined;
  const from = Math.max(0, src.size - MAX_PAGE);
  const tail = src.read(from, src.size - from).slice();
  for (let o = tail.length - 27; o >= 0; o--) {
    if (!isPageAt(tail, o) || o + pageLength(tail, o) !== tail.length) continue;
    const dv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
    if (dv.getUint32(o + 14, true) !== head.serial) return undefined;
    const granule = dv.getBigInt64(o + 6, true);
    if (granule < 0n) return undefined;
    return Math.max(0, Number(granule) - head.preSkip);
  }
  return undefined;
}
