/** Recognises audio formats by their first bytes, never by file extension. */
import { isSphere } from './sphere.js';
import { isWav } from './wav.js';

export type SniffedFormat = 'wav' | 'flac' | 'ogg-vorbis' | 'ogg-opus' | 'ogg-flac' | 'ogg' | 'mp3' | 'aiff' | 'sphere' | 'unknown';

/** Length of an ID3v2 tag at the start of the bytes (0 when there is none). */
export function id3Length(b: Uint8Array): number {
  if (b.length < 10 || b[0] !== 0x49 || b[1] !== 0x44 || b[2] !== 0x33) return 0;
  const size = ((b[6]! & 0x7f) << 21) | ((b[7]! & 0x7f) << 14) | ((b[8]! & 0x7f) << 7) | (b[9]! & 0x7f);
  return 10 + size + (b[5]! & 0x10 ? 10 : 0);
}

function ascii(b: Uint8Array, o: number, s: string): boolean {
  if (o + s.length > b.length) return false;
  for (let i = 0; i < s.length; i++) if (b[o + i] !== s.charCodeAt(i)) return false;
  return true;
}

export function isMpegFrameHeader(b: Uint8Array, o: number): boolean {
  if (o + 4 > b.length) return false;
  if (b[o] !== 0xff || (b[o + 1]! & 0xe0) !== 0xe0) return false;
  const version = (b[o + 1]! >> 3) & 3;
  const layer = (b[o + 1]! >> 1) & 3;
  const bitrate = b[o + 2]! >> 4;
  const rate = (b[o + 2]! >> 2) & 3;
  return version !== 1 && layer !== 0 && bitrate !== 15 && bitrate !== 0 && rate !== 3;
}

/**
 * Identifies the format from the head of a file (the first 64 KiB is plenty; an ID3v2 tag is
 * skipped when `afterId3` bytes are given).
 */
export function sniffFormat(head: Uint8Array, afterId3?: Uint8Array): SniffedFormat {
  if (isWav(head)) return 'wav';
  if (ascii(head, 0, 'fLaC')) return 'flac';
  if (ascii(head, 0, 'FORM') && (ascii(head, 8, 'AIFF') || ascii(head, 8, 'AIFC'))) return 'aiff';
  if (isSphere(head)) return 'sphere';
  if (ascii(head, 0, 'OggS')) {
    // The first page's first packet names the codec; it starts after the 27-byte header and the segment table.
    if (head.length >= 27) {
      const segs = head[26]!;
      const p = 27 + segs;
      if (ascii(head, p, 'OpusHead')) return 'ogg-opus';
      if (head[p] === 1 && ascii(head, p + 1, 'vorbis')) return 'ogg-vorbis';
      if (head[p] === 0x7f && ascii(head, p + 1, 'FLAC')) return 'ogg-flac';
    }
    return 'ogg';
  }
  const id3 = id3Length(head);
  if (id3 > 0) {
    const rest = afterId3 ?? (id3 < head.length ? head.subarray(id3) : undefined);
    if (rest) {
      if (ascii(rest, 0, 'fLaC')) return 'flac';
      if (isMpegFrameHeader(rest, 0)) return 'mp3';
    }
    return rest ? 'unknown' : 'mp3';
  }
  if (isMpegFrameHeader(head, 0) && isMpegFrameHeader(head, nextFrame(head))) return 'mp3';
  return 'unknown';
}

/** Offset of the MPEG frame after the one at 0 (0 when it cannot be computed, so the check fails). */
function nextFrame(b: Uint8Array): number {
  const version = (b[1]! >> 3) & 3; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
  const layer = (b[1]! >> 1) & 3; // 3: I, 2: II, 1: III
  const bi = b[2]! >> 4;
  const ri = (b[2]! >> 2) & 3;
  const pad = (b[2]! >> 1) & 1;
  const v1 = version === 3;
  const rates = v1 ? [44100, 48000, 32000] : version === 2 ? [22050, 24000, 16000] : [11025, 12000, 8000];
  const tables: Record<string, number[]> = {
    v1l1: [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
    v1l2: [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
    v1l3: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
    v2l1: [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
    v2l23: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  };
  const key = v1 ? (layer === 3 ? 'v1l1' : layer === 2 ? 'v1l2' : 'v1l3') : layer === 3 ? 'v2l1' : 'v2l23';
  const kbps = tables[key]![bi] ?? 0;
  const rate = rates[ri] ?? 0;
  if (!kbps || !rate) return 0;
  if (layer === 3) return (Math.floor((12 * kbps * 1000) / rate) + pad) * 4;
  const factor = layer === 1 && !v1 ? 72 : 144;
  return Math.floor((factor * kbps * 1000) / rate) + pad;
}
