/**
 * NIST SPHERE (TIMIT, Switchboard, WSJ and other LDC corpora): a text header of `name -type value`
 * fields, then raw samples. Reads PCM of 1 to 4 bytes in either byte order, mu-law and A-law;
 * shorten-compressed files are refused with an error that names a tool to expand them.
 * Header grammar: http://www.speech.cs.cmu.edu/inner/nist-sphere.html ("NIST SPHERE Header Structure").
 * Like SoX's reader (src/sphere.c in SoX 14.4), 8-bit PCM is signed and a missing sample_n_bytes
 * means 1 byte for the G.711 codings and 2 for PCM.
 */
import { FormatError, UnsupportedError } from '../util/errors.js';
import { ALAW_TABLE, ULAW_TABLE } from './g711.js';
import type { ByteSource } from './source.js';
import type { AudioData, AudioInfo, Samples } from './types.js';
import type { ReadOptions } from './wav.js';

export type SphereCoding = 'pcm' | 'ulaw' | 'alaw';

export interface SphereLayout {
  coding: SphereCoding;
  channels: number;
  sampleRate: number;
  /** Bytes per sample as stored (1 for the G.711 codings). */
  bytesPerSample: number;
  littleEndian: boolean;
  bitsPerSample: number;
  blockAlign: number;
  /** Frames present in the file (at most `declaredFrames`). */
  frames: number;
  /** Frames the header's sample_count declares (the data's length when the field is absent). */
  declaredFrames: number;
  dataOffset: number;
  truncated: boolean;
}

/** A header field's value: a number for -i and -r fields, text for -sN fields. */
export type SphereField = number | string;

const MAGIC = 'NIST_1A';
/** The fixed part: the magic line and the header-size line, 8 bytes each. */
const FIXED_BYTES = 16;
/** Far above any real header (LDC's are 1024 bytes), low enough that a garbled size cannot make us read a whole file as text. */
const MAX_HEADER_BYTES = 1 << 20;
/** First bytes of shorten's output, which SPHERE files compressed with NIST's w_encode embed after the header. */
const SHORTEN_MAGIC = 'ajkg';
const SHORTEN_HELP = "expand it to plain PCM first, e.g. with LDC's sph2pipe (sph2pipe -f sph in.sph out.sph) or sox";

export function isSphere(head: Uint8Array): boolean {
  if (head.length < 8) return false;
  for (let i = 0; i < MAGIC.length; i++) if (head[i] !== MAGIC.charCodeAt(i)) return false;
  return head[7] === 0x0a || head[7] === 0x20 || head[7] === 0x0d;
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/** Size of the whole header from its second line, checked against the file. */
function headerSize(src: ByteSource): number {
  const name = src.name;
  if (src.size < FIXED_BYTES) throw new FormatError(`${name}: SPHERE file too short for its header (${src.size} bytes)`, { subject: name });
  const head = src.read(0, FIXED_BYTES);
  if (!isSphere(head)) throw new FormatError(`${name}: not a NIST SPHERE file (no NIST_1A line)`, { subject: name });
  const text = latin1(head.subarray(8, 16)).trim();
  if (!/^\d+$/.test(text)) throw new FormatError(`${name}: SPHERE header size '${text}' is not a number`, { subject: name });
  const size = Number(text);
  if (size <= FIXED_BYTES || size > MAX_HEADER_BYTES)
    throw new FormatError(`${name}: SPHERE header size ${size} is out of range (${FIXED_BYTES + 1}..${MAX_HEADER_BYTES} bytes)`, {
      subject: name,
    });
  if (size > src.size)
    throw new FormatError(`${name}: SPHERE header declares ${size} bytes but the file has only ${src.size}`, { subject: name });
  return size;
}

const FIELD = /^(\S+)\s+-(i|r|s(\d+))\s(.*)$/;

/**
 * The fields of a header's variable part, up to end_head. Integers and reals must parse completely;
 * a -sN string is its first N characters (values like "pcm,embedded-shorten-v2.00" hold no spaces,
 * but comments may follow a value).
 */
export function parseSphereFields(text: string, name: string): Map<string, SphereField> {
  const fields = new Map<string, SphereField>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const trimmed = line.trim();
    if (trimmed === 'end_head') return fields;
    if (trimmed === '' || trimmed.startsWith(';')) continue;
    const m = FIELD.exec(line);
    if (!m)
      throw new FormatError(`${name}: malformed SPHERE header line '${trimmed.slice(0, 60)}' (expected 'name -type value')`, {
        subject: name,
      });
    const [, field, type, len, rest] = m as unknown as [string, string, string, string | undefined, string];
    if (type === 'i' || type === 'r') {
      const token = rest.trim().split(/\s|;/)[0] ?? '';
      const ok = type === 'i' ? /^[+-]?\d+$/.test(token) : /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(token);
      if (!ok)
        throw new FormatError(`${name}: SPHERE field ${field} has the value '${token}', not a${type === 'i' ? 'n integer' : ' number'}`, {
          subject: name,
        });
      fields.set(field, Number(token));
    } else {
      const n = Number(len);
      fields.set(field, rest.length >= n ? rest.slice(0, n) : rest.trim());
    }
  }
  throw new FormatError(`${name}: SPHERE header has no end_head line within its declared size`, { subject: name });
}

function intField(
  fields: Map<string, SphereField>,
  key: string,
  name: string,
  fallback: number | undefined,
  min: number,
  max: number,
): number | undefined {
  const v = fields.get(key);
  if (v === undefined) return fallback;
  const n = typeof v === 'number' ? v : /^\s*[+-]?\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max)
    throw new FormatError(`${name}: SPHERE field ${key} = '${v}' is out of range (${min}..${max})`, { subject: name });
  return n;
}

/** The coding named by sample_coding, refusing compressed variants. */
function codingOf(value: SphereField | undefined, name: string): SphereCoding {
  if (value === undefined) return 'pcm';
  const parts = String(value)
    .toLowerCase()
    .split(',')
    .map((p) => p.trim());
  if (parts.some((p) => p.includes('shorten') || p.includes('wavpack') || p.includes('shortpack')))
    throw new UnsupportedError(`${name}: compressed SPHERE (sample_coding '${value}') is not supported; ${SHORTEN_HELP}`, {
      subject: name,
    });
  switch (parts[0]) {
    case 'pcm':
    case 'linear':
      return 'pcm';
    case 'ulaw':
    case 'mu-law':
    case 'mulaw':
      return 'ulaw';
    case 'alaw':
    case 'a-law':
      return 'alaw';
    default:
      throw new UnsupportedError(`${name}: SPHERE sample_coding '${value}' is not supported; wavelm reads pcm, ulaw (mu-law) and alaw`, {
        subject: name,
      });
  }
}

/**
 * Byte order from sample_byte_format: digits naming each byte's significance in storage order, so
 * "01" (least significant first) is little-endian and "10" big-endian; "1" is a single byte.
 */
function littleEndianOf(value: SphereField | undefined, bytes: number, name: string): boolean {
  if (bytes === 1) return true;
  if (value === undefined)
    throw new FormatError(`${name}: ${bytes}-byte SPHERE samples without a sample_byte_format field (byte order unknown)`, {
      subject: name,
    });
  const v = String(value).trim();
  if (v.toLowerCase().startsWith('shortpack'))
    throw new UnsupportedError(`${name}: shortpack-compressed SPHERE (sample_byte_format '${v}') is not supported; ${SHORTEN_HELP}`, {
      subject: name,
    });
  const ascending = Array.from({ length: bytes }, (_, i) => String(i)).join('');
  if (v === ascending) return true;
  if (v === [...ascending].reverse().join('')) return false;
  throw new UnsupportedError(
    `${name}: SPHERE sample_byte_format '${v}' does not fit ${bytes}-byte samples (expected ${ascending} or ` +
      `${[...ascending].reverse().join('')})`,
    { subject: name },
  );
}

export function parseSphereLayout(src: ByteSource): SphereLayout {
  const name = src.name;
  const size = headerSize(src);
  const fields = parseSphereFields(latin1(src.read(FIXED_BYTES, size - FIXED_BYTES)), name);
  const coding = codingOf(fields.get('sample_coding'), name);
  const interleaved = fields.get('channels_interleaved');
  if (interleaved !== undefined && String(interleaved).toLowerCase() === 'false')
    throw new UnsupportedError(`${name}: SPHERE channels stored one after another (channels_interleaved FALSE) are not supported`, {
      subject: name,
    });
  const channels = intField(fields, 'channel_count', name, 1, 1, 65535)!;
  const bytesPerSample = intField(fields, 'sample_n_bytes', name, coding === 'pcm' ? 2 : 1, 1, 4)!;
  if (coding !== 'pcm' && bytesPerSample !== 1)
    throw new FormatError(`${name}: SPHERE ${coding} samples must be 1 byte, the header says sample_n_bytes ${bytesPerSample}`, {
      subject: name,
    });
  const rate = fields.get('sample_rate');
  if (rate === undefined) throw new FormatError(`${name}: SPHERE header has no sample_rate field`, { subject: name });
  const sampleRate = typeof rate === 'number' ? rate : Number(rate);
  if (!(sampleRate > 0) || !Number.isFinite(sampleRate))
    throw new FormatError(`${name}: SPHERE sample_rate '${rate}' is not a positive number`, { subject: name });
  const littleEndian = littleEndianOf(fields.get('sample_byte_format'), bytesPerSample, name);
  const blockAlign = channels * bytesPerSample;
  const available = src.size - size;
  const present = Math.floor(available / blockAlign);
  const declaredFrames = intField(fields, 'sample_count', name, present, 0, Number.MAX_SAFE_INTEGER)!;
  if (available >= 4 && latin1(src.read(size, 4)) === SHORTEN_MAGIC)
    throw new UnsupportedError(
      `${name}: the SPHERE data is shorten-compressed (it starts with '${SHORTEN_MAGIC}') and is not supported; ${SHORTEN_HELP}`,
      { subject: name },
    );
  const frames = Math.min(declaredFrames, present);
  return {
    coding,
    channels,
    sampleRate,
    bytesPerSample,
    littleEndian,
    bitsPerSample: coding === 'pcm' ? bytesPerSample * 8 : 16,
    blockAlign,
    frames,
    declaredFrames,
    dataOffset: size,
    truncated: frames < declaredFrames,
  };
}

/** Decodes `n` stored samples: G.711 to int16, 8-bit PCM (signed in SPHERE) to offset binary, wider PCM left-justified. */
function decodeSamples(raw: Uint8Array, n: number, l: SphereLayout): { samples: Samples; sampleType: AudioData['sampleType'] } {
  if (l.coding !== 'pcm') {
    const table = l.coding === 'ulaw' ? ULAW_TABLE : ALAW_TABLE;
    return { samples: Int16Array.from(raw.subarray(0, n), (v) => table[v]!), sampleType: 'int16' };
  }
  const cb = l.bytesPerSample;
  if (cb === 1) return { samples: Uint8Array.from(raw.subarray(0, n), (v) => v ^ 0x80), sampleType: 'uint8' };
  // Byte k (0 = most significant) of sample i.
  const at = l.littleEndian ? (i: number, k: number) => raw[i * cb + (cb - 1 - k)]! : (i: number, k: number) => raw[i * cb + k]!;
  if (cb === 2) return { samples: Int16Array.from({ length: n }, (_, i) => (at(i, 0) << 8) | at(i, 1)), sampleType: 'int16' };
  return {
    samples: Int32Array.from({ length: n }, (_, i) => (at(i, 0) << 24) | (at(i, 1) << 16) | (at(i, 2) << 8) | (cb > 3 ? at(i, 3) : 0)),
    sampleType: 'int32',
  };
}

export function readSphereFrames(src: ByteSource, l: SphereLayout, opts: ReadOptions = {}): AudioData {
  const name = src.name;
  if (l.truncated && !opts.allowTruncated)
    throw new FormatError(
      `${name}: truncated SPHERE data: sample_count declares ${l.declaredFrames} frames but only ${l.frames} are in the file (pass ` +
        'allowTruncated to keep them)',
      { subject: name, options: ['allowTruncated'] },
    );
  const start = Math.min(Math.max(0, opts.startFrame ?? 0), l.frames);
  const end = Math.max(start, Math.min(opts.endFrame ?? l.frames, l.frames));
  const raw = src.read(l.dataOffset + start * l.blockAlign, (end - start) * l.blockAlign);
  const { samples, sampleType } = decodeSamples(raw, (end - start) * l.channels, l);
  return { sampleRate: l.sampleRate, channels: l.channels, frames: end - start, sampleType, bitsPerSample: l.bitsPerSample, samples };
}

export function sphereInfo(l: SphereLayout, path: string): AudioInfo {
  return {
    path,
    container: 'sphere',
    codec: l.coding === 'pcm' ? 'pcm' : l.coding === 'ulaw' ? 'mulaw' : 'alaw',
    sampleRate: l.sampleRate,
    channels: l.channels,
    bitsPerSample: l.bitsPerSample,
    frames: l.frames,
    durationSeconds: l.frames / l.sampleRate,
    ...(l.truncated ? { declaredFrames: l.declaredFrames } : {}),
  };
}
