/**
 * Fused fast paths for the common case, int16 input (little-endian host): bit depth conversion and
 * stereo blocking in one pass, reading two samples per 32-bit word. They produce exactly what the
 * general path (convertToTargetBitDepth, then processStereoBlocking) produces; tests compare them.
 */

/** Mono int16 to LMIC 8-bit: the high byte of each sample with its top bit flipped. */
export function monoI16ToU8(src: Int16Array, n: number, out: Uint8Array): void {
  const pairs = n >> 1;
  if (src.byteOffset % 4 === 0 && out.byteOffset % 2 === 0) {
    const w = new Uint32Array(src.buffer, src.byteOffset, pairs);
    const o = new Uint16Array(out.buffer, out.byteOffset, pairs);
    for (let i = 0; i < pairs; i++) {
      const v = w[i]!;
      o[i] = (((v >>> 8) & 0xff) | ((v >>> 16) & 0xff00)) ^ 0x8080;
    }
    if (n & 1) out[n - 1] = ((src[n - 1]! >> 8) + 128) & 0xff;
    return;
  }
  for (let i = 0; i < n; i++) out[i] = ((src[i]! >> 8) + 128) & 0xff;
}

/**
 * Stereo int16 (interleaved L, R) to blocked LMIC 8-bit: [L_b1, R_b1, L_b2, R_b2, ...], `B` frames
 * per block, the last block partial. `out` holds frames * 2 bytes.
 */
export function stereoI16ToBlockedU8(src: Int16Array, frames: number, B: number, out: Uint8Array): void {
  const w = new Uint32Array(src.buffer, src.byteOffset, frames); // one word per frame: L low, R high
  let o = 0;
  for (let f0 = 0; f0 < frames; f0 += B) {
    const n = Math.min(B, frames - f0);
    const r = o + n;
    for (let i = 0; i < n; i++) {
      const v = w[f0 + i]!;
      out[o + i] = ((v >>> 8) & 0xff) ^ 0x80;
      out[r + i] = (v >>> 24) ^ 0x80;
    }
    o += 2 * n;
  }
}

/** Stereo int16 to blocked int16 (the 16-bit exact path): [L_b1, R_b1, ...]. */
export function stereoI16ToBlockedI16(src: Int16Array, frames: number, B: number, out: Int16Array): void {
  const w = new Uint32Array(src.buffer, src.byteOffset, frames);
  const o16 = new Uint16Array(out.buffer, out.byteOffset, frames * 2);
  let o = 0;
  for (let f0 = 0; f0 < frames; f0 += B) {
    const n = Math.min(B, frames - f0);
    const r = o + n;
    for (let i = 0; i < n; i++) {
      const v = w[f0 + i]!;
      o16[o + i] = v & 0xffff;
      o16[r + i] = v >>> 16;
    }
    o += 2 * n;
  }
}

/** True when the int16 array can be viewed as 32-bit words (frames of L, R). */
export function wordAligned(a: Int16Array): boolean {
  return a.byteOffset % 4 === 0;
}
