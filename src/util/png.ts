/**
 * A small PNG encoder (8-bit grayscale, RGB or RGBA) over node:zlib, for spectrogram images and as the PNG baseline
 * of the compression evaluation (which wants grayscale, no row filters, zlib level 9, like PIL's defaults there).
 */
import { deflateSync } from 'node:zlib';
import { ConfigError } from './errors.js';

export type PngFilter = 'none' | 'sub' | 'up' | 'average' | 'paeth' | 'adaptive';

export interface PngImage {
  width: number;
  height: number;
  /** 1 grayscale, 3 RGB, 4 RGBA; 8 bits per sample. */
  channels: 1 | 3 | 4;
  /** Row-major, top row first, width * height * channels bytes. */
  data: Uint8Array;
  /** Row filter (default 'none'); 'adaptive' picks per row the filter with the least sum of absolute values. */
  filter?: PngFilter;
  /** zlib level 0..9 (default 9). */
  level?: number;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (ISO 3309, as PNG chunks use). */
export function crc32(data: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
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

const FILTER_CODE: Record<Exclude<PngFilter, 'adaptive'>, number> = { none: 0, sub: 1, up: 2, average: 3, paeth: 4 };

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Writes row y filtered with `code` into out[o + 1 ..], out[o] = code. */
function filterRow(code: number, data: Uint8Array, y: number, stride: number, bpp: number, out: Uint8Array, o: number): void {
  out[o] = code;
  const r = y * stride;
  const pr = (y - 1) * stride;
  for (let i = 0; i < stride; i++) {
    const x = data[r + i]!;
    const a = i >= bpp ? data[r + i - bpp]! : 0;
    const b = y > 0 ? data[pr + i]! : 0;
    const c = y > 0 && i >= bpp ? data[pr + i - bpp]! : 0;
    let v: number;
    switch (code) {
      case 0:
        v = x;
        break;
      case 1:
        v = x - a;
        break;
      case 2:
        v = x - b;
        break;
      case 3:
        v = x - ((a + b) >> 1);
        break;
      default:
        v = x - paeth(a, b, c);
    }
    out[o + 1 + i] = v & 0xff;
  }
}

/** Encodes an image as PNG bytes. */
export function encodePng(img: PngImage): Uint8Array {
  const { width, height, channels, data } = img;
  if (
    !Number.isSafeInteger(width) ||
    !Number.isSafeInteger(height) ||
    width < 1 ||
    height < 1 ||
    width > 0x7fffffff ||
    height > 0x7fffffff
  ) {
    throw new ConfigError(`png: width and height must be positive integers, got ${width}x${height}`);
  }
  if (channels !== 1 && channels !== 3 && channels !== 4) throw new ConfigError(`png: channels must be 1, 3 or 4, got ${String(channels)}`);
  const stride = width * channels;
  if (data.length !== stride * height)
    throw new ConfigError(`png: ${width}x${height}x${channels} needs ${stride * height} bytes, got ${data.length}`);
  const filter = img.filter ?? 'none';
  const level = img.level ?? 9;
  if (!Number.isInteger(level) || level < 0 || level > 9) throw new ConfigError(`png: level must be 0..9, got ${level}`);
  const raw = new Uint8Array((stride + 1) * height);
  const trial = filter === 'adaptive' ? new Uint8Array(stride + 1) : undefined;
  for (let y = 0; y < height; y++) {
    const o = y * (stride + 1);
    if (filter !== 'adaptive') {
      const code = FILTER_CODE[filter];
      if (code === undefined)
        throw new ConfigError(`png: filter must be none, sub, up, average, paeth or adaptive, got '${String(filter)}'`);
      filterRow(code, data, y, stride, channels, raw, o);
      continue;
    }
    // The usual heuristic (libpng's): minimise the sum of the filtered bytes read as signed values.
    let best = Infinity;
    for (const code of [0, 1, 2, 3, 4]) {
      filterRow(code, data, y, stride, channels, trial!, 0);
      let s = 0;
      for (let i = 1; i <= stride; i++) {
        const v = trial![i]!;
        s += v < 128 ? v : 256 - v;
      }
      if (s < best) {
        best = s;
        raw.set(trial!, o);
      }
    }
  }
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr[8] = 8;
  ihdr[9] = channels === 1 ? 0 : channels === 3 ? 2 : 6;
  ihdr[10] = 0;
  ihdr[11] = 0;
  ihdr[12] = 0;
  const idat = deflateSync(raw, { level });
  const sig = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
  const parts = [
    sig,
    chunk('IHDR', ihdr),
    chunk('IDAT', new Uint8Array(idat.buffer, idat.byteOffset, idat.byteLength)),
    chunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let p = 0;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

/** 256-entry RGB lookup tables for spectrogram images, interpolated from matplotlib's colormaps at 9 anchors. */
const ANCHORS: Record<'viridis' | 'magma' | 'gray', number[][]> = {
  viridis: [
    [68, 1, 84],
    [71, 44, 122],
    [59, 81, 139],
    [44, 113, 142],
    [33, 144, 141],
    [39, 173, 129],
    [92, 200, 99],
    [170, 220, 50],
    [253, 231, 37],
  ],
  magma: [
    [0, 0, 4],
    [28, 16, 68],
    [79, 18, 123],
    [129, 37, 129],
    [181, 54, 122],
    [229, 80, 100],
    [251, 135, 97],
    [254, 194, 135],
    [252, 253, 191],
  ],
  gray: [
    [0, 0, 0],
    [255, 255, 255],
  ],
};

export type Colormap = keyof typeof ANCHORS;

/** RGB triples for 256 levels of a colormap. */
export function colormapTable(name: Colormap): Uint8Array {
  const a = ANCHORS[name];
  if (!a) throw new ConfigError(`colormap must be viridis, magma or gray, got '${String(name)}'`, { subject: 'colormap' });
  const t = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const x = (i / 255) * (a.length - 1);
    const j = Math.min(a.length - 2, Math.floor(x));
    const f = x - j;
    for (let c = 0; c < 3; c++) t[i * 3 + c] = Math.round(a[j]![c]! * (1 - f) + a[j + 1]![c]! * f);
  }
  return t;
}
