/**
 * The byte layout of a lossless archive (docs/compression.md has it as a table). Little-endian, sizes as
 * LEB128 varints:
 *
 *   magic "WLL\x1a", format version (u8), kind (u8: 0 stored, 1 WAV, 2 AIFF, 3 FLAC's PCM)
 *   stored:  CRC-32C of the original (u32), the original bytes
 *   coded:   level (u8), OLS factor index (u8), codec model id (8 bytes, zeros for none), sample rate, channels,
 *            container bits (u8), flags (u8: 1 big-endian, 2 canonical WAV header), a code per channel (u8: its
 *            wasted-bits shift, or 255 for a copy of the channel before), frames, frames per segment, prefix
 *            length and bytes (absent when canonical), suffix length and bytes,
 *            one payload length per segment, the original's checksum (CRC-32C of the file, u32; for FLAC
 *            the 16-byte MD5 of its samples), the payload's CRC-32C (u32), header CRC-32C (u32), payloads.
 *
 * Reading checks every size against the bytes that are there before allocating for it, and bounds the
 * number of samples by what the payload can hold: each sample costs at least one binary decision, and a
 * decision at the coder's most confident probability (4095/4096) still costs 1/2840 of a bit.
 */
import { crc32c } from '../../util/crc32c.js';
import { ByteReader, ByteWriter } from '../../util/bytes.js';
import { ChecksumError, FormatError, UnsupportedError } from '../../util/errors.js';
import { COPY_OF_PREVIOUS } from './frame-codec.js';
import { LEVEL_NAMES, LEVELS, type LevelName } from './levels.js';
import type { ContainerKind } from './pcm-image.js';

export const LOSSLESS_MAGIC = Uint8Array.from([0x57, 0x4c, 0x4c, 0x1a]); // "WLL\x1a"
export const LOSSLESS_VERSION = 1;
const KINDS = ['stored', 'wav', 'aiff', 'flac'] as const;
const FLAG_BIG_ENDIAN = 1;
const FLAG_CANONICAL_PREFIX = 2;
/** Most samples one payload byte can code (see the file comment); 8 bits * 2841 decisions per bit. */
export const MAX_SAMPLES_PER_BYTE = 8 * 2841;
const MAX_CHANNELS = 255;

export interface StoredArchive {
  kind: 'stored';
  original: Uint8Array;
}

export interface CodedHeader {
  kind: ContainerKind;
  level: LevelName;
  lambdaIndex: number;
  /** First 8 bytes of the codec model's SHA-256 (src/compress/lossless/prior.ts), zeros for none. */
  priorId: Uint8Array;
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  bigEndian: boolean;
  /** Per channel: its wasted-bits shift, or COPY_OF_PREVIOUS. */
  codes: number[];
  frames: number;
  segmentFrames: number;
  /** undefined: the canonical 44-byte WAV header for these samples. */
  prefix: Uint8Array | undefined;
  suffix: Uint8Array;
  /** CRC-32C of the original file (4 bytes), or the MD5 of FLAC's samples (16 bytes). */
  checksum: Uint8Array;
}

export interface CodedArchive extends CodedHeader {
  segments: Uint8Array[];
}

export function isLosslessArchive(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && LOSSLESS_MAGIC.every((b, i) => bytes[i] === b);
}

export function segmentCount(frames: number, segmentFrames: number): number {
  return frames === 0 ? 0 : Math.ceil(frames / segmentFrames);
}

/** Bytes a stored archive adds to its original: magic, version, kind and the original's CRC-32C. */
export const STORED_OVERHEAD = 10;

export function writeStored(original: Uint8Array): Uint8Array {
  return new ByteWriter().bytes(LOSSLESS_MAGIC).u8(LOSSLESS_VERSION).u8(0).u32(crc32c(original)).bytes(original).finish();
}

export function writeCoded(a: CodedArchive): Uint8Array {
  const w = new ByteWriter().bytes(LOSSLESS_MAGIC).u8(LOSSLESS_VERSION).u8(KINDS.indexOf(a.kind));
  w.u8(LEVEL_NAMES.indexOf(a.level)).u8(a.lambdaIndex).bytes(a.priorId).varint(a.sampleRate).varint(a.channels).u8(a.bitsPerSample);
  w.u8((a.bigEndian ? FLAG_BIG_ENDIAN : 0) | (a.prefix === undefined ? FLAG_CANONICAL_PREFIX : 0));
  for (const s of a.codes) w.u8(s);
  w.varint(a.frames).varint(a.segmentFrames);
  if (a.prefix !== undefined) w.varint(a.prefix.length).bytes(a.prefix);
  w.varint(a.suffix.length).bytes(a.suffix);
  for (const s of a.segments) w.varint(s.length);
  w.bytes(a.checksum);
  let payloadCrc = 0;
  for (const s of a.segments) payloadCrc = crc32c(s, payloadCrc);
  w.u32(payloadCrc);
  const head = w.finish();
  const out = new ByteWriter().bytes(head).u32(crc32c(head));
  for (const s of a.segments) out.bytes(s);
  return out.finish();
}

/** Parses and checks an archive's header and payload checksum; the payloads are views into `bytes`. */
export function readLossless(bytes: Uint8Array, name: string): StoredArchive | CodedArchive {
  if (!isLosslessArchive(bytes)) throw new FormatError(`${name}: not a wavelm lossless archive (no WLL magic)`, { subject: name });
  const r = new ByteReader(bytes, name, 4);
  const version = r.u8('the format version');
  if (version !== LOSSLESS_VERSION)
    throw new UnsupportedError(
      `${name}: lossless archive format version ${version}; this wavelm reads version ${LOSSLESS_VERSION} (use the wavelm that wrote it)`,
      { subject: name },
    );
  const kindIndex = r.u8('the kind');
  const kind = KINDS[kindIndex];
  if (kind === undefined) throw new FormatError(`${name}: unknown archive kind ${kindIndex}`, { subject: name });
  if (kind === 'stored') return readStored(bytes, r, name);
  const levelIndex = r.u8('the level');
  const level = LEVEL_NAMES[levelIndex];
  if (level === undefined) throw new FormatError(`${name}: unknown level ${levelIndex}`, { subject: name });
  const lambdaIndex = r.u8('the OLS factor');
  if (lambdaIndex >= LEVELS[level].olsLambdas.length)
    throw new FormatError(`${name}: OLS factor index ${lambdaIndex} is out of range for level ${level}`, { subject: name });
  const priorId = r.bytes(8, 'the codec model id').slice();
  const sampleRate = r.varint('the sample rate', 2 ** 32);
  const channels = r.varint('the channel count', MAX_CHANNELS);
  const bitsPerSample = r.u8('the sample width');
  if (channels < 1) throw new FormatError(`${name}: 0 channels`, { subject: name });
  if (![8, 16, 24, 32].includes(bitsPerSample))
    throw new FormatError(`${name}: sample width ${bitsPerSample} bits; archives hold 8, 16, 24 or 32`, { subject: name });
  const flags = r.u8('the flags');
  const codes: number[] = [];
  for (let c = 0; c < channels; c++) {
    const code = r.u8('a channel code');
    const copy = code === COPY_OF_PREVIOUS && c > 0;
    if (!copy && code >= bitsPerSample)
      throw new FormatError(`${name}: channel ${c} code ${code} does not fit ${bitsPerSample}-bit samples`, { subject: name });
    codes.push(code);
  }
  const frames = r.varint('the frame count');
  const segmentFrames = r.varint('the segment length');
  if (segmentFrames < 1) throw new FormatError(`${name}: segment length 0`, { subject: name });
  const prefix = flags & FLAG_CANONICAL_PREFIX ? undefined : r.bytes(r.length('the header length'), 'the original header');
  if (prefix === undefined && kind !== 'wav')
    throw new FormatError(`${name}: a canonical header is only defined for WAV`, { subject: name });
  const suffix = r.bytes(r.length('the trailer length'), 'the original trailer');
  const count = segmentCount(frames, segmentFrames);
  if (count > r.remaining) throw new FormatError(`${name}: ${count} segments declared, more than the archive holds`, { subject: name });
  const lengths: number[] = [];
  for (let i = 0; i < count; i++) lengths.push(r.length('a segment length'));
  const checksum = r.bytes(kind === 'flac' ? 16 : 4, 'the checksum').slice();
  const payloadCrc = r.u32('the payload checksum');
  const headEnd = r.pos;
  if (r.u32('the header checksum') !== crc32c(bytes.subarray(0, headEnd)))
    throw new ChecksumError(`${name}: header checksum mismatch; the archive is damaged`, { subject: name });
  const payloadBytes = lengths.reduce((a, b) => a + b, 0);
  if (payloadBytes !== r.remaining)
    throw new FormatError(
      `${name}: segments declare ${payloadBytes} bytes but ${r.remaining} follow the header; the archive is truncated or damaged`,
      { subject: name },
    );
  const segments: Uint8Array[] = [];
  let off = r.pos;
  for (let i = 0; i < count; i++) {
    const n = lengths[i]!;
    const segFrames = Math.min(segmentFrames, frames - i * segmentFrames);
    if (segFrames * channels > (n + 4) * MAX_SAMPLES_PER_BYTE) {
      throw new FormatError(
        `${name}: segment ${i} claims ${segFrames} frames in ${n} bytes, more than can be coded there; the archive is damaged or crafted`,
        { subject: name },
      );
    }
    segments.push(bytes.subarray(off, off + n));
    off += n;
  }
  if (crc32c(bytes.subarray(r.pos)) !== payloadCrc)
    throw new ChecksumError(`${name}: payload checksum mismatch; the archive is damaged`, { subject: name });
  return {
    kind,
    level,
    lambdaIndex,
    priorId,
    sampleRate,
    channels,
    bitsPerSample,
    bigEndian: (flags & FLAG_BIG_ENDIAN) !== 0,
    codes,
    frames,
    segmentFrames,
    prefix,
    suffix,
    checksum,
    segments,
  };
}

function readStored(bytes: Uint8Array, r: ByteReader, name: string): StoredArchive {
  const crc = r.u32('the checksum');
  const original = bytes.subarray(r.pos);
  if (crc32c(original) !== crc)
    throw new ChecksumError(`${name}: checksum mismatch in the stored file; the archive is damaged`, { subject: name });
  return { kind: 'stored', original };
}
