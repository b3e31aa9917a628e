/**
 * An audio file as the lossless codec sees it: integer samples, and the bytes around them. WAV and AIFF
 * keep every byte outside the samples (header, other chunks, trailing bytes) so they restore byte for
 * byte; FLAC keeps only its PCM, checked by the MD5 that FLAC itself records, and restores as WAV.
 */
import { createHash } from 'node:crypto';
import { decodeFlac } from '../../audio/decoders.js';
import { isAiff, parseAiffLayout } from '../../audio/aiff.js';
import { MemorySource } from '../../audio/source.js';
import { id3Length } from '../../audio/sniff.js';
import { isWav } from '../../audio/wav.js';
import { ChecksumError, FormatError, UnsupportedError } from '../../util/errors.js';
import { anyPcmLayout } from '../wav-layout.js';

export type ContainerKind = 'wav' | 'aiff' | 'flac';

export interface PcmImage {
  kind: ContainerKind;
  sampleRate: number;
  channels: number;
  /** Container width: 8, 16, 24 or 32 bits; samples are signed integers of that width. */
  bitsPerSample: number;
  /** Sample bytes are big-endian (AIFF); 8-bit WAV is unsigned (offset 128). */
  bigEndian: boolean;
  /** Interleaved samples, frame-major. */
  samples: Int32Array;
  frames: number;
  /** Bytes before the first sample and after the last whole frame (WAV and AIFF). */
  prefix: Uint8Array;
  suffix: Uint8Array;
}

const tag = (b: Uint8Array, o: number): string => String.fromCharCode(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!);

/** Reads a WAV, AIFF or FLAC file's samples; anything else is an UnsupportedError naming the file. */
export async function readPcmImage(bytes: Uint8Array, name: string): Promise<PcmImage> {
  if (isWav(bytes)) return wavImage(bytes, name);
  if (isAiff(bytes)) return aiffImage(bytes, name);
  // Some taggers put an ID3v2 tag before a FLAC stream; the restored WAV holds the samples either way.
  const id3 = id3Length(bytes);
  if (bytes.length >= id3 + 4 && tag(bytes, id3) === 'fLaC') return flacImage(bytes.subarray(id3), name);
  throw new UnsupportedError(
    `${name}: not a WAV, AIFF or FLAC file; the lossless codec reads those (other formats are lossy or unsupported)`,
    { subject: name },
  );
}

function wavImage(bytes: Uint8Array, name: string): PcmImage {
  const l = anyPcmLayout(bytes, name);
  const end = l.dataOffset + l.dataLength;
  return {
    kind: 'wav',
    sampleRate: l.sampleRate,
    channels: l.channels,
    bitsPerSample: l.bitsPerSample,
    bigEndian: l.bigEndian,
    samples: unpackSamples(bytes.subarray(l.dataOffset, end), l.bitsPerSample, l.bigEndian, true),
    frames: l.frames,
    prefix: bytes.slice(0, l.dataOffset),
    suffix: bytes.slice(end),
  };
}

function aiffImage(bytes: Uint8Array, name: string): PcmImage {
  const l = parseAiffLayout(new MemorySource(bytes, name));
  const bigEndian = l.compression === 'NONE' || l.compression === 'twos';
  if (!bigEndian && l.compression !== 'sowt')
    throw new UnsupportedError(`${name}: AIFF-C '${l.compression}' is not integer PCM; the lossless codec codes integer PCM`, {
      subject: name,
    });
  const end = l.dataOffset + l.frames * l.blockAlign;
  return {
    kind: 'aiff',
    sampleRate: l.sampleRate,
    channels: l.channels,
    bitsPerSample: l.containerBytes * 8,
    bigEndian,
    samples: unpackSamples(bytes.subarray(l.dataOffset, end), l.containerBytes * 8, bigEndian, false),
    frames: l.frames,
    prefix: bytes.slice(0, l.dataOffset),
    suffix: bytes.slice(end),
  };
}

async function flacImage(bytes: Uint8Array, name: string): Promise<PcmImage> {
  const { audio, errors } = await decodeFlac(bytes, name);
  if (errors.length > 0)
    throw new FormatError(`${name}: FLAC decoding reported ${errors.length} error(s) (${errors[0]}); the file is damaged`, {
      subject: name,
    });
  const bits = audio.bitsPerSample;
  const container = 8 * Math.ceil(bits / 8);
  const samples = new Int32Array(audio.samples.length);
  // The decoder left-justifies more than 16 bits in 32 (see src/audio/types.ts); shift back to the file's width.
  const down = audio.sampleType === 'int32' ? 32 - container : 0;
  for (let i = 0; i < samples.length; i++) samples[i] = (audio.samples[i] as number) >> down;
  const image: PcmImage = {
    kind: 'flac',
    sampleRate: audio.sampleRate,
    channels: audio.channels,
    bitsPerSample: container,
    bigEndian: false,
    samples,
    frames: audio.frames,
    prefix: new Uint8Array(0),
    suffix: new Uint8Array(0),
  };
  const stored = flacStreamMd5(bytes);
  if (stored && !stored.every((b) => b === 0) && !equalBytes(stored, pcmMd5(image, bits))) {
    throw new ChecksumError(`${name}: the decoded samples do not match the MD5 in the FLAC header; the file is damaged`, { subject: name });
  }
  return image;
}

/** The MD5 of a FLAC file's STREAMINFO block, when present. */
function flacStreamMd5(bytes: Uint8Array): Uint8Array | undefined {
  // fLaC, then a 4-byte metadata block header; STREAMINFO's 34 bytes end with the MD5.
  if (bytes.length < 42 || (bytes[4]! & 0x7f) !== 0) return undefined;
  return bytes.subarray(8 + 18, 8 + 34);
}

/** MD5 of the samples as FLAC computes it: signed little-endian, ceil(bits / 8) bytes each, interleaved. */
export function pcmMd5(image: PcmImage, bits = image.bitsPerSample): Uint8Array {
  const width = Math.ceil(bits / 8);
  const out = new Uint8Array(image.samples.length * width);
  packInto(out, image.samples, width * 8, false, false);
  return new Uint8Array(createHash('md5').update(out).digest());
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Sample bytes to signed integers; `unsigned8` marks WAV's offset-binary 8-bit. */
export function unpackSamples(data: Uint8Array, bits: number, bigEndian: boolean, unsigned8: boolean): Int32Array {
  const width = bits / 8;
  const n = Math.floor(data.length / width);
  const out = new Int32Array(n);
  for (let i = 0, o = 0; i < n; i++, o += width) {
    let v = 0;
    if (bigEndian) for (let k = 0; k < width; k++) v = (v << 8) | data[o + k]!;
    else for (let k = width - 1; k >= 0; k--) v = (v << 8) | data[o + k]!;
    out[i] = width === 1 ? (unsigned8 ? v - 128 : (v << 24) >> 24) : width === 4 ? v | 0 : (v << (32 - bits)) >> (32 - bits);
  }
  return out;
}

/** Signed integers to sample bytes, the inverse of unpackSamples. */
export function packInto(out: Uint8Array, samples: Int32Array, bits: number, bigEndian: boolean, unsigned8: boolean): void {
  const width = bits / 8;
  for (let i = 0, o = 0; i < samples.length; i++, o += width) {
    let v = samples[i]!;
    if (width === 1 && unsigned8) v += 128;
    if (bigEndian) for (let k = width - 1; k >= 0; k--, v >>= 8) out[o + k] = v & 255;
    else for (let k = 0; k < width; k++, v >>= 8) out[o + k] = v & 255;
  }
}

/** The file's bytes again: prefix, samples, suffix (FLAC images become a canonical WAV). */
export function writePcmImage(image: PcmImage): Uint8Array {
  const width = image.bitsPerSample / 8;
  const dataBytes = image.samples.length * width;
  const prefix = image.kind === 'flac' ? canonicalWavHeader(image) : image.prefix;
  // RIFF pads an odd-sized chunk with one byte.
  const suffix = image.kind === 'flac' ? new Uint8Array(dataBytes & 1) : image.suffix;
  const out = new Uint8Array(prefix.length + dataBytes + suffix.length);
  out.set(prefix, 0);
  packInto(out.subarray(prefix.length), image.samples, image.bitsPerSample, image.bigEndian, image.kind !== 'aiff');
  out.set(suffix, prefix.length + dataBytes);
  return out;
}

/** The 44-byte header of a plain PCM WAV file (format tag 1) holding the image's samples. */
export function canonicalWavHeader(image: Pick<PcmImage, 'sampleRate' | 'channels' | 'bitsPerSample' | 'frames'>): Uint8Array {
  const { sampleRate, channels, bitsPerSample, frames } = image;
  const blockAlign = (channels * bitsPerSample) / 8;
  const dataBytes = frames * blockAlign;
  const h = new Uint8Array(44);
  const dv = new DataView(h.buffer);
  const put = (o: number, s: string): void => {
    for (let i = 0; i < 4; i++) h[o + i] = s.charCodeAt(i);
  };
  put(0, 'RIFF');
  dv.setUint32(4, 36 + dataBytes + (dataBytes & 1), true);
  put(8, 'WAVE');
  put(12, 'fmt ');
  dv.setUint32(16, 16, true);
  dv.setUint16(20, 1, true);
  dv.setUint16(22, channels, true);
  dv.setUint32(24, sampleRate, true);
  dv.setUint32(28, sampleRate * blockAlign, true);
  dv.setUint16(32, blockAlign, true);
  dv.setUint16(34, bitsPerSample, true);
  put(36, 'data');
  dv.setUint32(40, dataBytes, true);
  return h;
}
