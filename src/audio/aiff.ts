/**
 * AIFF and AIFF-C: big-endian PCM (8..32-bit, left-justified like WAV), AIFF-C 'sowt' (little-endian),
 * 'fl32'/'fl64' float and G.711 'ulaw'/'alaw'. Parsed from a ByteSource with the same size checks as
 * WAV; frame ranges read only the bytes they need.
 */
import { FormatError, UnsupportedError } from '../util/errors.js';
import { ALAW_TABLE, ULAW_TABLE } from './g711.js';
import type { ByteSource } from './source.js';
import type { AudioData, AudioInfo, Samples } from './types.js';
import type { ReadOptions } from './wav.js';

export interface AiffLayout {
  container: 'aiff' | 'aifc';
  /** AIFF-C compression type ('NONE' for plain AIFF). */
  compression: string;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  containerBytes: number;
  blockAlign: number;
  frames: number;
  declaredFrames: number;
  dataOffset: number;
  truncated: boolean;
}

function fourcc(b: Uint8Array, o: number): string {
  return String.fromCharCode(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!);
}

const be32 = (b: Uint8Array, o: number) => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
const be16 = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;

/** IEEE 754 80-bit extended (the COMM chunk's sample rate). */
function extended80(b: Uint8Array, o: number): number {
  const exp = be16(b, o) & 0x7fff;
  const sign = b[o]! & 0x80 ? -1 : 1;
  const hi = be32(b, o + 2);
  const lo = be32(b, o + 6);
  if (exp === 0 && hi === 0 && lo === 0) return 0;
  return sign * (hi * 2 ** 32 + lo) * 2 ** (exp - 16383 - 63);
}

export function isAiff(head: Uint8Array): boolean {
  return head.length >= 12 && fourcc(head, 0) === 'FORM' && (fourcc(head, 8) === 'AIFF' || fourcc(head, 8) === 'AIFC');
}

export function parseAiffLayout(src: ByteSource): AiffLayout {
  const name = src.name;
  const size = src.size;
  const head = src.read(0, 12);
  if (!isAiff(head)) throw new FormatError(`${name}: not an AIFF file`, { subject: name });
  const container = fourcc(head, 8) === 'AIFC' ? 'aifc' : 'aiff';
  let comm: Uint8Array | undefined;
  let ssnd: { payload: number; size: number; declared: number } | undefined;
  let off = 12;
  while (off + 8 <= size) {
    const h = src.read(off, 8);
    const id = fourcc(h, 0);
    const declared = be32(h, 4);
    const payload = off + 8;
    if (id === 'COMM' && !comm) comm = src.read(payload, Math.min(declared, 64));
    else if (id === 'SSND' && !ssnd) ssnd = { payload, size: Math.min(declared, size - payload), declared };
    if (declared > size - payload) break;
    off = payload + declared + (declared & 1);
  }
  if (!comm || comm.length < 18) throw new FormatError(`${name}: AIFF file has no (complete) COMM chunk`, { subject: name });
  if (!ssnd || ssnd.size < 8) throw new FormatError(`${name}: AIFF file has no sound data (SSND) chunk`, { subject: name });
  const channels = be16(comm, 0);
  const declaredFrames = be32(comm, 2);
  const bits = be16(comm, 6);
  const sampleRate = extended80(comm, 8);
  let compression = 'NONE';
  if (container === 'aifc') {
    if (comm.length < 22) throw new FormatError(`${name}: AIFF-C COMM chunk lacks the compression type`, { subject: name });
    compression = fourcc(comm, 18);
  }
  if (channels === 0) throw new FormatError(`${name}: AIFF COMM declares 0 channels`, { subject: name });
  if (!(sampleRate > 0) || !Number.isFinite(sampleRate))
    throw new FormatError(`${name}: AIFF COMM declares an invalid sample rate`, { subject: name });
  let containerBytes: number;
  switch (compression) {
    case 'NONE':
    case 'twos':
    case 'sowt':
      if (bits < 1 || bits > 32) throw new UnsupportedError(`${name}: ${bits}-bit AIFF PCM is not supported (1..32)`, { subject: name });
      containerBytes = Math.ceil(bits / 8);
      break;
    case 'fl32':
    case 'FL32':
      containerBytes = 4;
      break;
    case 'fl64':
    case 'FL64':
      containerBytes = 8;
      break;
    case 'ulaw':
    case 'ULAW':
    case 'alaw':
    case 'ALAW':
      containerBytes = 1;
      break;
    default:
      throw new UnsupportedError(
        `${name}: unsupported AIFF-C compression type '${compression}'; wavelm reads NONE, sowt, fl32, fl64, ulaw and alaw`,
        { subject: name },
      );
  }
  const blockAlign = channels * containerBytes;
  const dataOffset = ssnd.payload + 8 + be32(src.read(ssnd.payload, 4), 0);
  const available = Math.max(0, ssnd.payload + ssnd.size - dataOffset);
  const frames = Math.min(declaredFrames, Math.floor(available / blockAlign));
  return {
    container,
    compression,
    channels,
    sampleRate,
    bitsPerSample: compression.toLowerCase().startsWith('fl') ? containerBytes * 8 : compression.toLowerCase().endsWith('law') ? 16 : bits,
    containerBytes,
    blockAlign,
    frames,
    declaredFrames,
    dataOffset,
    truncated: frames < declaredFrames,
  };
}

export function readAiffFrames(src: ByteSource, l: AiffLayout, opts: ReadOptions = {}): AudioData {
  const name = src.name;
  if (l.truncated && !opts.allowTruncated)
    throw new FormatError(
      `${name}: truncated AIFF data: the header declares ${l.declaredFrames} frames but only ${l.frames} are in the file (pass ` +
        'allowTruncated to keep them)',
      { subject: name, options: ['allowTruncated'] },
    );
  const start = Math.min(Math.max(0, opts.startFrame ?? 0), l.frames);
  const end = Math.max(start, Math.min(opts.endFrame ?? l.frames, l.frames));
  const raw = src.read(l.dataOffset + start * l.blockAlign, (end - start) * l.blockAlign);
  const n = (end - start) * l.channels;
  const cb = l.containerBytes;
  const c = l.compression;
  let samples: Samples;
  let sampleType: AudioData['sampleType'];
  if (c === 'ulaw' || c === 'ULAW' || c === 'alaw' || c === 'ALAW') {
    const t = c.toLowerCase() === 'ulaw' ? ULAW_TABLE : ALAW_TABLE;
    samples = Int16Array.from(raw.subarray(0, n), (v) => t[v]!);
    sampleType = 'int16';
  } else if (c.toLowerCase() === 'fl32' || c.toLowerCase() === 'fl64') {
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    if (cb === 4) samples = Float32Array.from({ length: n }, (_, i) => dv.getFloat32(4 * i, false));
    else samples = Float64Array.from({ length: n }, (_, i) => dv.getFloat64(8 * i, false));
    sampleType = cb === 4 ? 'float32' : 'float64';
  } else {
    const le = c === 'sowt';
    // Byte k (0 = most significant) of sample i.
    const at = le ? (i: number, k: number) => raw[i * cb + (cb - 1 - k)]! : (i: number, k: number) => raw[i * cb + k]!;
    if (cb === 1) {
      samples = Uint8Array.from({ length: n }, (_, i) => raw[i]! ^ 0x80); // AIFF 8-bit is signed
      sampleType = 'uint8';
    } else if (cb === 2) {
      samples = Int16Array.from({ length: n }, (_, i) => (at(i, 0) << 8) | at(i, 1));
      sampleType = 'int16';
    } else {
      samples = Int32Array.from(
        { length: n },
        (_, i) => (at(i, 0) << 24) | (at(i, 1) << 16) | (cb > 2 ? at(i, 2) << 8 : 0) | (cb > 3 ? at(i, 3) : 0),
      );
      sampleType = 'int32';
    }
  }
  return { sampleRate: l.sampleRate, channels: l.channels, frames: end - start, sampleType, bitsPerSample: l.bitsPerSample, samples };
}

export function aiffInfo(l: AiffLayout, path: string): AudioInfo {
  const codec =
    l.compression === 'NONE' || l.compression === 'twos' || l.compression === 'sowt'
      ? 'pcm'
      : l.compression.toLowerCase().startsWith('fl')
        ? 'float'
        : l.compression.toLowerCase() === 'ulaw'
          ? 'mulaw'
          : 'alaw';
  return {
    path,
    container: l.container,
    codec,
    sampleRate: l.sampleRate,
    channels: l.channels,
    bitsPerSample: l.bitsPerSample,
    frames: l.frames,
    durationSeconds: l.frames / l.sampleRate,
    ...(l.truncated ? { declaredFrames: l.declaredFrames } : {}),
  };
}
