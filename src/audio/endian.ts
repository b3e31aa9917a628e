/** Byte order: the host's, and swapping words of sample bytes between the two. */

/** True on little-endian hosts, where int16/int32/float32 sample bytes of a little-endian file can be viewed in place. */
export const hostLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reverses the byte order of each `width`-byte word in place. */
export function swapBytes(b: Uint8Array, width: number): void {
  const half = width >> 1;
  for (let i = 0; i + width <= b.length; i += width) {
    for (let k = 0; k < half; k++) {
      const t = b[i + k]!;
      b[i + k] = b[i + width - 1 - k]!;
      b[i + width - 1 - k] = t;
    }
  }
}
