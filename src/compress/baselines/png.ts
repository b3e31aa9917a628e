/**
 * LMIC's PNG baseline: the bytes as the squarest grayscale 8-bit image (width = the largest divisor of n
 * not above round(sqrt(n))), every row with filter type 0 (none), one IDAT compressed with zlib level 9.
 */
import { encodePng } from '../../util/png.js';
import type { Compressor } from '../compressor.js';

function squarest(n: number): [number, number] {
  let a = Math.max(1, Math.round(Math.sqrt(n)));
  while (n % a !== 0) a--;
  return [a, n / a];
}

export function pngGrayNoFilter(data: Uint8Array): Uint8Array {
  const [width, height] = squarest(data.length);
  return encodePng({ width, height, channels: 1, data, filter: 'none', level: 9 });
}

export const png: Compressor = {
  name: 'png',
  kind: 'classical',
  description: 'PNG grayscale, squarest image, no row filters, zlib 9',
  compress: (data) => pngGrayNoFilter(data),
};
