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

/** One channel of interleaved int16 to LMIC 8-bit (channel mode 'pick'): the high byte of each of its samples, top bit flipped. */
export function pickI16ToU8(src: Int16Array, channels: number, channel: number, frames: number, out: Uint8Array): void {
  let done = 0;
  if (channels === 2 && src.byteOffset % 4 === 0 && out.byteOffset % 4 === 0) done = pickStereoI16ToU8Words(src, channel, frames, out);
  const bytes = new Uint8Array(src.buffer, src.byteOffset, frames * channels * 2);
  const step = 2 * channels;
  for (let i = done, j = 2 * (channel + i * channels) + 1; i < frames; i++, j += step) out[i] = bytes[j]! ^ 0x80;
}

/**
 * The stereo case of pickI16ToU8 a word at a time: one 32-bit word per frame in, four output bytes per
 * 32-bit store (LMIC's first channel of a stereo file is the common case, and byte stores were its cost).
 * Returns the frames done, a multiple of 4; the caller finishes the rest.
 */
function pickStereoI16ToU8Words(src: Int16Array, channel: number, frames: number, out: Uint8Array): number {
  const w = new Uint32Array(src.buffer, src.byteOffset, frames);
  const quads = frames >> 2;
  const o = new Uint32Array(out.buffer, out.byteOffset, quads);
  const shift = channel === 0 ? 8 : 24;
  for (let q = 0, i = 0; q < quads; q++, i += 4) {
    const b0 = (w[i]! >>> shift) & 0xff;
    const b1 = (w[i + 1]! >>> shift) & 0xff;
    const b2 = (w[i + 2]! >>> shift) & 0xff;
    const b3 = (w[i + 3]! >>> shift) & 0xff;
    o[q] = (b0 | (b1 << 8) | (b2 << 16) | (b3 << 24)) ^ 0x80808080;
  }
  return quads * 4;
}

/** One channel of interleaved int16, kept as int16 (channel mode 'pick', 16-bit exact). */
export function pickI16(src: Int16Array, channels: number, channel: number, frames: number, out: Int16Array): void {
  for (let i = 0, j = channel; i < frames; i++, j += channels) out[i] = src[j]!;
}

/**
 * Interleaved int16 through a 65,536-entry table (the 'seed-float' conversion, a pure function of each
 * sample), optionally one channel only: out[i] = table[src[i * step + first] + 32768].
 */
export function mapI16<T extends Uint8Array | Int16Array>(
  src: Int16Array,
  count: number,
  first: number,
  step: number,
  table: T,
  out: T,
): void {
  for (let i = 0, j = first; i < count; i++, j += step) out[i] = table[src[j]! + 32768]!;
}

/** Stereo int16 through a table (as mapI16) into blocks of `B` frames: [L_b1, R_b1, L_b2, R_b2, ...]. */
export function stereoI16ToBlockedByTable<T extends Uint8Array | Int16Array>(
  src: Int16Array,
  frames: number,
  B: number,
  table: T,
  out: T,
): void {
  let o = 0;
  for (let f0 = 0; f0 < frames; f0 += B) {
    const n = Math.min(B, frames - f0);
    const r = o + n;
    for (let i = 0, j = 2 * f0; i < n; i++, j += 2) {
      out[o + i] = table[src[j]! + 32768]!;
      out[r + i] = table[src[j + 1]! + 32768]!;
    }
    o += 2 * n;
  }
}
