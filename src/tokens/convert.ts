/**
 * Bit-depth conversion of decoded samples to 8-bit (uint8, offset binary) or 16-bit (int16) tokens,
 * bit-exact against ../shared/fixtures/pcm-conversions. Where numpy computes in float32 (the
 * 'seed-float' conversion, docs/background.md) every intermediate is rounded with Math.fround, as numpy 1.x does.
 */
import type { AudioData, Samples } from '../audio/types.js';
import type { BitDepth, Conversion } from './options.js';

const f32 = Math.fround;
const F32_32767 = f32(32767);
const F32_2147483647 = f32(2147483647); // = 2^31 in float32, as numpy casts the Python scalar

/** LMIC 8-bit of one int16 sample: audioop.bias(audioop.lin2lin(x, 2, 1), 1, 128). */
export function lmicU8(x: number): number {
  return ((x >> 8) + 128) & 0xff;
}

/** The 'seed-float' conversion's float value of one sample: int16 / 32767.0, int32 / 2147483647.0, uint8 (x - 128) / 128, in float32. */
export function seedFloat(x: number, type: AudioData['sampleType']): number {
  switch (type) {
    case 'int16':
      return f32(f32(x) / F32_32767);
    case 'int32':
      return f32(f32(x) / F32_2147483647);
    case 'uint8':
      return f32(f32(x - 128) / 128);
    default:
      return f32(x);
  }
}

/** uint8((x + 1) * 127.5) with float32 arithmetic and a truncating cast (clamped to 0..255 where numpy would wrap). */
export function seedFloatToU8(f: number): number {
  const v = Math.trunc(f32(f32(f + 1) * 127.5));
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** int16(x * 32767) with a float32 product and a truncating cast (clamped where numpy would wrap). */
export function seedFloatToI16(f: number): number {
  const v = Math.trunc(f32(f * 32767));
  return v < -32768 ? -32768 : v > 32767 ? 32767 : v;
}

let seedU8Table: Uint8Array | undefined;
let seedI16Table: Int16Array | undefined;

/** For int16 input the 'seed-float' path is a pure function of 65536 values: tabulate it once (index x + 32768). */
export function seedTables(): { u8: Uint8Array; i16: Int16Array } {
  if (!seedU8Table || !seedI16Table) {
    seedU8Table = new Uint8Array(65536);
    seedI16Table = new Int16Array(65536);
    for (let i = 0; i < 65536; i++) {
      const f = seedFloat(i - 32768, 'int16');
      seedU8Table[i] = seedFloatToU8(f);
      seedI16Table[i] = seedFloatToI16(f);
    }
  }
  return { u8: seedU8Table, i16: seedI16Table };
}

/** Float sample to int16 for the integer paths: round(x * 32768), clamped. */
function floatToI16(x: number): number {
  const v = Math.round(x * 32768);
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}

/**
 * Converts interleaved samples (any sample type) to 8-bit (Uint8Array) or 16-bit (Int16Array)
 * values, sample by sample, keeping the interleaving. `out` may be supplied to avoid allocation.
 */
export function convertToTargetBitDepth(
  audio: Pick<AudioData, 'samples' | 'sampleType'>,
  bitDepth: 8,
  conversion?: Conversion,
  count?: number,
  out?: Uint8Array,
): Uint8Array;
export function convertToTargetBitDepth(
  audio: Pick<AudioData, 'samples' | 'sampleType'>,
  bitDepth: 16,
  conversion?: Conversion,
  count?: number,
  out?: Int16Array,
): Int16Array;
export function convertToTargetBitDepth(
  audio: Pick<AudioData, 'samples' | 'sampleType'>,
  bitDepth: BitDepth,
  conversion?: Conversion,
  count?: number,
  out?: Uint8Array | Int16Array,
): Uint8Array | Int16Array;
export function convertToTargetBitDepth(
  audio: Pick<AudioData, 'samples' | 'sampleType'>,
  bitDepth: BitDepth,
  conversion: Conversion = 'exact',
  count?: number,
  out?: Uint8Array | Int16Array,
): Uint8Array | Int16Array {
  const s: Samples = audio.samples;
  const n = count ?? s.length;
  const type = audio.sampleType;
  if (bitDepth === 8) {
    const o = (out as Uint8Array | undefined) ?? new Uint8Array(n);
    if (conversion === 'seed-float') {
      if (type === 'int16') {
        const t = seedTables().u8;
        for (let i = 0; i < n; i++) o[i] = t[s[i]! + 32768]!;
      } else for (let i = 0; i < n; i++) o[i] = seedFloatToU8(seedFloat(s[i]!, type));
      return o;
    }
    switch (type) {
      case 'uint8':
        o.set((s as Uint8Array).subarray(0, n));
        break;
      case 'int16': {
        // (x >> 8) + 128 mod 256 is the high byte with its top bit flipped: read it straight from the bytes.
        const b = new Uint8Array(s.buffer, s.byteOffset, n * 2);
        for (let i = 0, j = 1; i < n; i++, j += 2) o[i] = b[j]! ^ 0x80;
        break;
      }
      case 'int32': {
        const b = new Uint8Array(s.buffer, s.byteOffset, n * 4);
        for (let i = 0, j = 3; i < n; i++, j += 4) o[i] = b[j]! ^ 0x80;
        break;
      }
      default:
        for (let i = 0; i < n; i++) o[i] = lmicU8(floatToI16(s[i]!));
    }
    return o;
  }
  const o = (out as Int16Array | undefined) ?? new Int16Array(n);
  if (conversion === 'seed-float') {
    if (type === 'int16') {
      const t = seedTables().i16;
      for (let i = 0; i < n; i++) o[i] = t[s[i]! + 32768]!;
    } else for (let i = 0; i < n; i++) o[i] = seedFloatToI16(seedFloat(s[i]!, type));
    return o;
  }
  switch (type) {
    case 'int16':
      o.set((s as Int16Array).subarray(0, n));
      break;
    case 'uint8':
      for (let i = 0; i < n; i++) o[i] = (s[i]! - 128) << 8;
      break;
    case 'int32':
      for (let i = 0; i < n; i++) {
        const v = Math.floor((s[i]! + 32768) / 65536);
        o[i] = v > 32767 ? 32767 : v;
      }
      break;
    default:
      for (let i = 0; i < n; i++) o[i] = floatToI16(s[i]!);
  }
  return o;
}

/** 16-bit samples as tokens of a 65536-symbol vocabulary: offset binary x + 32768 (0 = most negative, 32768 = silence). */
export function int16ToTokens(samples: Int16Array): Uint16Array {
  const out = new Uint16Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = samples[i]! + 32768;
  return out;
}

export function tokensToInt16(tokens: Uint16Array): Int16Array {
  const out = new Int16Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) out[i] = tokens[i]! - 32768;
  return out;
}

/** A 16-bit chunk (little-endian int16 bytes) as 65536-symbol tokens. */
export function chunkToTokens16(chunk: Uint8Array): Uint16Array {
  const n = chunk.length >> 1;
  const out = new Uint16Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 2) out[i] = (chunk[j]! | (chunk[j + 1]! << 8)) ^ 0x8000;
  return out;
}
