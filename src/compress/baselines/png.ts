/**
 * LMIC's PNG baseline: the bytes as the squarest grayscale 8-bit image (width = the largest divisor of n
 * not above round(sqrt(n))), every row with filter type 0 (none), one IDAT compressed with zlib level 9.
 */
import { deflateSync } from 'node:zlib';
import type { Compressor } from '../compressor.js';

function squarest(n: number): [number, number] {
  let a = Math.max(1, Math.round(Math.sqrt(n)));
  while (n % a !== 0) a--;
  return [a, n / a];
}

// PNG's CRC-32 (zlib.crc32 only exists from Node 20.15).
const CRC = new Int32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});
function crc32(b: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < b.length; i++) c = CRC[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, body.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  dv.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
  return out;
}

export function pngGrayNoFilter(data: Uint8Array): Uint8Array {
  const [w, h] = squarest(data.length);
  const raw = new Uint8Array(h * (w + 1));
  for (let y = 0; y < h; y++) raw.set(data.subarray(y * w, (y + 1) * w), y * (w + 1) + 1);
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, w);
  dv.setUint32(4, h);
  ihdr[8] = 8; // bit depth; colour type 0 (grayscale), compression 0, filter 0, no interlace
  const parts = [Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let p = 0;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

export const png: Compressor = {
  name: 'png',
  kind: 'classical',
  description: 'PNG grayscale, squarest image, no row filters, zlib 9',
  compress: (data) => pngGrayNoFilter(data),
};
