/**
 * WAV in all its dialects: RIFF (little-endian), RIFX (big-endian), RF64/BW64 (64-bit sizes via
 * ds64); PCM, EXTENSIBLE, IEEE float, A-law and mu-law. Headers are parsed from a ByteSource so a
 * frame range of a huge file can be read without loading the rest. Every size read from the file is
 * checked against the file's real size before anything is allocated. Writing WAV is wav-encode.ts.
 */
import { FormatError, UnsupportedError } from '../util/errors.js';
import { hostLittleEndian, swapBytes } from './endian.js';
import { ALAW_TABLE, ULAW_TABLE } from './g711.js';
import { MemorySource, openSource, type ByteSource } from './source.js';
import type { AudioData, AudioInfo, SampleType, Samples } from './types.js';

export type WavCodec = 'pcm' | 'float' | 'alaw' | 'mulaw';

export interface WavChunk {
  /** Four-character chunk id as written (e.g. 'fmt ', 'data', 'LIST'). */
  id: string;
  /** Byte offset of the chunk's 8-byte header. */
  offset: number;
  /** Byte offset of the chunk's payload (offset + 8). */
  payloadOffset: number;
  /** Payload size as declared (after ds64 substitution for RF64); may exceed what the file holds. */
  declaredSize: number;
  /** Payload bytes actually present in the file. */
  size: number;
}

export interface WavFormat {
  /** The fmt chunk's format tag (0xFFFE for EXTENSIBLE). */
  formatTag: number;
  /** For EXTENSIBLE, the sub-format's tag (first two bytes of the GUID); otherwise equal to formatTag. */
  effectiveTag: number;
  codec: WavCodec;
  channels: number;
  sampleRate: number;
  /** Bytes per frame as used for reading (the fmt's block align, or the derived value when that is inconsistent). */
  blockAlign: number;
  /** Bytes per sample in the file. */
  containerBytes: number;
  /** The fmt chunk's bits per sample. */
  bitsPerSample: number;
  /** Significant bits (EXTENSIBLE's wValidBitsPerSample when present, else bitsPerSample). */
  validBits: number;
  channelMask?: number;
}

/** Where everything lives in a WAV file: enough to restore the file byte for byte from its samples. */
export interface WavLayout {
  container: 'wav' | 'rifx' | 'rf64' | 'bw64';
  littleEndian: boolean;
  fileSize: number;
  /** The RIFF size field (for RF64, the ds64 riff size). */
  riffSize: number;
  format: WavFormat;
  /** All chunks in file order, including 'fmt ' and 'data'. */
  chunks: WavChunk[];
  /** Offset of the first sample byte; bytes [0, dataOffset) are the original header, verbatim. */
  dataOffset: number;
  /** The data chunk's declared payload size (0xFFFFFFFF / 0 / ds64 as found). */
  declaredDataSize: number;
  /** Whole frames available in the file. */
  frames: number;
  /** Bytes of whole frames: frames * blockAlign. */
  audioBytes: number;
  /** Offset just past the last whole frame; bytes [trailerOffset, fileSize) are everything after the audio, verbatim. */
  trailerOffset: number;
  /** Frames the header declares (equal to frames unless the file is truncated). */
  declaredFrames: number;
  /** The data chunk is shorter than declared. */
  truncated: boolean;
  /** The data size field said "to the end of the file" (0 or 0xFFFFFFFF). */
  sizeToEnd: boolean;
}

export interface ReadOptions {
  startFrame?: number;
  endFrame?: number;
  /** Keep the readable frames of a truncated file instead of raising an error. */
  allowTruncated?: boolean;
}

const TAG_NAMES: Record<number, string> = {
  2: 'Microsoft ADPCM',
  17: 'IMA ADPCM',
  49: 'GSM 6.10',
  64: 'G.721 ADPCM',
  80: 'MPEG',
  85: 'MPEG Layer 3',
  146: 'Dolby AC3 SPDIF',
  352: 'WMA',
  5648: 'AAC',
  61868: 'FLAC',
};

function fourcc(b: Uint8Array, o: number): string {
  return String.fromCharCode(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!);
}

function isChunkId(b: Uint8Array, o: number): boolean {
  if (o + 4 > b.length) return false;
  for (let i = o; i < o + 4; i++) {
    const c = b[i]!;
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

function u16(b: Uint8Array, o: number, le: boolean): number {
  return le ? b[o]! | (b[o + 1]! << 8) : (b[o]! << 8) | b[o + 1]!;
}

function u32(b: Uint8Array, o: number, le: boolean): number {
  return le
    ? (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0
    : ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function u64(b: Uint8Array, o: number): number {
  // Sizes above 2^53 cannot describe a real file; they are caught by the size checks later.
  return u32(b, o, true) + u32(b, o + 4, true) * 2 ** 32;
}

function hex4(n: number): string {
  return `0x${n.toString(16).padStart(4, '0')}`;
}

/** True when the bytes start like a WAV file (RIFF/RIFX/RF64/BW64 + WAVE). */
export function isWav(head: Uint8Array): boolean {
  if (head.length < 12) return false;
  const id = fourcc(head, 0);
  return (id === 'RIFF' || id === 'RIFX' || id === 'RF64' || id === 'BW64') && fourcc(head, 8) === 'WAVE';
}

function parseFmt(p: Uint8Array, le: boolean, name: string): WavFormat {
  if (p.length < 14)
    throw new FormatError(`${name}: fmt chunk is ${p.length} bytes, shorter than the 16 a WAV format needs`, { subject: name });
  const formatTag = u16(p, 0, le);
  const channels = u16(p, 2, le);
  const sampleRate = u32(p, 4, le);
  const declaredAlign = u16(p, 12, le);
  // WAVEFORMAT (14 bytes, no bits field) only exists for non-PCM formats; treat it as 8 bits.
  const bitsPerSample = p.length >= 16 ? u16(p, 14, le) : 8;
  let effectiveTag = formatTag;
  let validBits = bitsPerSample;
  let channelMask: number | undefined;
  if (formatTag === 0xfffe) {
    if (p.length < 40) throw new FormatError(`${name}: WAVE_FORMAT_EXTENSIBLE fmt chunk is ${p.length} bytes, needs 40`, { subject: name });
    const vb = u16(p, 18, le);
    if (vb > 0 && vb <= bitsPerSample) validBits = vb;
    channelMask = u32(p, 20, le);
    // The GUID's first field is a 32-bit integer in the file's byte order (big-endian in RIFX).
    effectiveTag = u32(p, 24, le) & 0xffff;
  }
  let codec: WavCodec;
  switch (effectiveTag) {
    case 1:
      codec = 'pcm';
      break;
    case 3:
      codec = 'float';
      break;
    case 6:
      codec = 'alaw';
      break;
    case 7:
      codec = 'mulaw';
      break;
    default: {
      const known = TAG_NAMES[effectiveTag];
      const what = formatTag === 0xfffe ? `EXTENSIBLE sub-format ${hex4(effectiveTag)}` : `format tag ${hex4(effectiveTag)}`;
      throw new UnsupportedError(
        `${name}: unsupported WAV ${what}${known ? ` (${known})` : ''}; wavelm reads PCM, IEEE float, A-law and mu-law (convert ` +
          'with e.g. ffmpeg -c:a pcm_s16le)',
        { subject: name },
      );
    }
  }
  if (channels === 0) throw new FormatError(`${name}: fmt chunk declares 0 channels`, { subject: name });
  if (sampleRate === 0) throw new FormatError(`${name}: fmt chunk declares a sample rate of 0`, { subject: name });
  if (bitsPerSample === 0) throw new FormatError(`${name}: fmt chunk declares 0 bits per sample`, { subject: name });
  if (codec === 'float' && bitsPerSample !== 32 && bitsPerSample !== 64)
    throw new UnsupportedError(`${name}: IEEE float WAV with ${bitsPerSample} bits per sample; only 32 and 64 are defined`, {
      subject: name,
    });
  if ((codec === 'alaw' || codec === 'mulaw') && bitsPerSample !== 8)
    throw new UnsupportedError(`${name}: ${codec} WAV with ${bitsPerSample} bits per sample; G.711 is 8-bit`, { subject: name });
  if (bitsPerSample > 64) throw new UnsupportedError(`${name}: ${bitsPerSample}-bit PCM is not supported (at most 64)`, { subject: name });
  let containerBytes = Math.ceil(bitsPerSample / 8);
  let blockAlign = channels * containerBytes;
  // Some writers put 24-bit samples in 4-byte containers and say so only through block align.
  if (declaredAlign > blockAlign && declaredAlign % channels === 0 && declaredAlign / channels <= 8 && codec === 'pcm') {
    containerBytes = declaredAlign / channels;
    blockAlign = declaredAlign;
  }
  return { formatTag, effectiveTag, codec, channels, sampleRate, blockAlign, containerBytes, bitsPerSample, validBits, channelMask };
}

/** Parses the structure of a WAV file (from bytes, or any ByteSource) without decoding samples. */
export function parseWavLayout(input: Uint8Array | ByteSource, name?: string): WavLayout {
  const src: ByteSource = input instanceof Uint8Array ? new MemorySource(input, name) : input;
  const nm = name ?? src.name;
  const size = src.size;
  if (size === 0) throw new FormatError(`${nm}: empty file (0 bytes)`, { subject: nm });
  const head = src.read(0, 12);
  if (head.length < 12) {
    const magic = fourcc(new Uint8Array([...head, 0, 0, 0, 0]), 0);
    if (['RIFF', 'RIFX', 'RF64', 'BW64'].includes(magic))
      throw new FormatError(`${nm}: truncated WAV header (${size} bytes, a WAV header needs at least 44)`, { subject: nm });
    throw new FormatError(`${nm}: not a WAV file (${size} bytes, no RIFF header)`, { subject: nm });
  }
  const magic = fourcc(head, 0);
  if (!isWav(head))
    throw new FormatError(`${nm}: not a WAV file (starts with '${printable(head.subarray(0, 4))}', expected RIFF/RIFX/RF64 ... WAVE)`, {
      subject: nm,
    });
  const container = magic === 'RIFF' ? 'wav' : magic === 'RIFX' ? 'rifx' : magic === 'RF64' ? 'rf64' : 'bw64';
  const le = container !== 'rifx';
  let riffSize = u32(head, 4, le);
  let ds64Data: number | undefined;
  const chunks: WavChunk[] = [];
  let fmt: WavFormat | undefined;
  let fmtError: unknown;
  let data: WavChunk | undefined;
  let sizeToEnd = false;
  let off = 12;
  while (off + 8 <= size) {
    const h = src.read(off, 8);
    if (!isChunkId(h, 0)) {
      // A writer that forgot the pad byte after an odd-sized chunk leaves the next id one byte early.
      const prev = chunks[chunks.length - 1];
      if (prev && prev.declaredSize % 2 === 1 && off > 0) {
        const h2 = src.read(off - 1, 8);
        if (h2.length === 8 && isChunkId(h2, 0)) {
          off -= 1;
          continue;
        }
      }
      break;
    }
    const id = fourcc(h, 0);
    let declared = u32(h, 4, le);
    const payloadOffset = off + 8;
    const remaining = size - payloadOffset;
    if (id === 'ds64' && (container === 'rf64' || container === 'bw64') && chunks.length === 0) {
      const p = src.read(payloadOffset, Math.min(declared, 28));
      if (p.length >= 16) {
        riffSize = u64(p, 0);
        ds64Data = u64(p, 8);
      }
    }
    if (id === 'data') {
      if (declared === 0xffffffff && ds64Data !== undefined) declared = ds64Data;
      if (declared === 0 || declared === 0xffffffff) {
        sizeToEnd = true;
        declared = remaining;
      }
    }
    const chunk: WavChunk = { id, offset: off, payloadOffset, declaredSize: declared, size: Math.min(declared, remaining) };
    chunks.push(chunk);
    if (id === 'fmt ' && !fmt) {
      try {
        fmt = parseFmt(src.read(payloadOffset, Math.min(declared, 64)), le, nm);
      } catch (err) {
        fmtError = err;
      }
    } else if (id === 'data' && !data) data = chunk;
    if (declared > remaining) break;
    let next = payloadOffset + declared;
    if (declared % 2 === 1 && next < size) next += 1;
    off = next;
  }
  if (!fmt) {
    if (fmtError) throw fmtError;
    throw new FormatError(`${nm}: WAV file has no fmt chunk${data ? '' : ' and no data chunk'} (damaged or truncated header)`, {
      subject: nm,
    });
  }
  if (!data) {
    throw new FormatError(`${nm}: WAV file has no data chunk (header ends after ${Math.min(off, size)} of ${size} bytes; truncated?)`, {
      subject: nm,
    });
  }
  const ba = fmt.blockAlign;
  const frames = Math.floor(data.size / ba);
  const declaredFrames = Math.floor(data.declaredSize / ba);
  const audioBytes = frames * ba;
  return {
    container,
    littleEndian: le,
    fileSize: size,
    riffSize,
    format: fmt,
    chunks,
    dataOffset: data.payloadOffset,
    declaredDataSize: data.declaredSize,
    frames,
    audioBytes,
    trailerOffset: data.payloadOffset + audioBytes,
    declaredFrames,
    truncated: data.declaredSize > data.size,
    sizeToEnd,
  };
}

function printable(b: Uint8Array): string {
  return Array.from(b, (c) => (c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`)).join('');
}

/** The sample type a WAV format decodes to. */
export function wavSampleType(f: WavFormat): SampleType {
  if (f.codec === 'float') return f.bitsPerSample === 64 ? 'float64' : 'float32';
  if (f.codec === 'alaw' || f.codec === 'mulaw') return 'int16';
  if (f.containerBytes === 1) return 'uint8';
  if (f.containerBytes === 2) return 'int16';
  if (f.containerBytes <= 4) return 'int32';
  return 'float64'; // 33..64-bit PCM: exact to 53 significant bits, full scale 1.0
}

/**
 * Decodes whole frames of raw WAV sample bytes. `raw` must hold n * containerBytes bytes; when
 * `rawIsScratch`, the decoder may reuse raw's memory.
 */
export function decodeWavSamples(raw: Uint8Array, f: WavFormat, le: boolean): Samples {
  const cb = f.containerBytes;
  const n = Math.floor(raw.length / cb);
  const swap = le !== hostLittleEndian;
  if (f.codec === 'alaw' || f.codec === 'mulaw') {
    const table = f.codec === 'alaw' ? ALAW_TABLE : ULAW_TABLE;
    const out = new Int16Array(n);
    for (let i = 0; i < n; i++) out[i] = table[raw[i]!]!;
    return out;
  }
  if (f.codec === 'float') {
    if (cb === 4) {
      const out = new Float32Array(n);
      copyBytes(raw, out, 4, swap);
      return out;
    }
    const out = new Float64Array(n);
    copyBytes(raw, out, 8, swap);
    return out;
  }
  switch (cb) {
    case 1:
      return raw.slice(0, n);
    case 2: {
      const out = new Int16Array(n);
      copyBytes(raw, out, 2, swap);
      return out;
    }
    case 3: {
      const out = new Int32Array(n);
      if (le) for (let i = 0, j = 0; i < n; i++, j += 3) out[i] = (raw[j]! << 8) | (raw[j + 1]! << 16) | (raw[j + 2]! << 24);
      else for (let i = 0, j = 0; i < n; i++, j += 3) out[i] = (raw[j + 2]! << 8) | (raw[j + 1]! << 16) | (raw[j]! << 24);
      return out;
    }
    case 4: {
      const out = new Int32Array(n);
      copyBytes(raw, out, 4, swap);
      if (f.validBits <= 24) justify24in32(out);
      return out;
    }
    default: {
      // 5..8-byte PCM: take the top 8 bytes left-aligned as a signed 64-bit value, scaled to [-1, 1).
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let hi = 0;
        let lo = 0;
        for (let k = 0; k < 8; k++) {
          // byte k of the 64-bit left-aligned little-endian value
          const srcIdx = k - (8 - cb);
          const byte = srcIdx < 0 ? 0 : le ? raw[i * cb + srcIdx]! : raw[i * cb + (cb - 1 - srcIdx)]!;
          if (k < 4) lo += byte * 2 ** (8 * k);
          else hi += byte * 2 ** (8 * (k - 4));
        }
        const shi = hi >= 2 ** 31 ? hi - 2 ** 32 : hi;
        out[i] = (shi * 2 ** 32 + lo) / 2 ** 63;
      }
      return out;
    }
  }
}

function copyBytes(raw: Uint8Array, out: Int16Array | Int32Array | Float32Array | Float64Array, width: number, swap: boolean): void {
  const dst = new Uint8Array(out.buffer, out.byteOffset, out.length * width);
  dst.set(raw.subarray(0, dst.length));
  if (swap) swapBytes(dst, width);
}

/**
 * 24-bit samples in 4-byte containers come left-justified (the WAVE_FORMAT_EXTENSIBLE rule) or
 * right-justified (arecord -f S24_LE, hound). Left-justified samples have a zero low byte, so any
 * non-zero low byte means right-justified: shift those up to wavelm's left-justified int32.
 */
function justify24in32(a: Int32Array): void {
  let low = 0;
  for (let i = 0; i < a.length; i++) low |= a[i]! & 0xff;
  if (low === 0) return;
  for (let i = 0; i < a.length; i++) a[i] = a[i]! << 8;
}

function frameRange(layout: WavLayout, opts: ReadOptions, name: string): [number, number] {
  const total = layout.frames;
  if (layout.truncated && !opts.allowTruncated) {
    throw new FormatError(
      `${name}: truncated WAV data: the header declares ${layout.declaredFrames} frames but only ${total} are in the file (pass ` +
        'allowTruncated to keep them)',
      { subject: name, options: ['allowTruncated'] },
    );
  }
  const start = opts.startFrame ?? 0;
  const end = Math.min(opts.endFrame ?? total, total);
  if (!Number.isInteger(start) || start < 0)
    throw new FormatError(`${name}: startFrame must be a non-negative integer, got ${start}`, { subject: name });
  if (!Number.isInteger(end)) throw new FormatError(`${name}: endFrame must be an integer, got ${end}`, { subject: name });
  return [Math.min(start, total), Math.max(Math.min(start, total), end)];
}

/** Reads frames [start, end) of a parsed WAV from its source. */
export function readWavFrames(src: ByteSource, layout: WavLayout, opts: ReadOptions = {}): AudioData {
  const name = src.name;
  const [start, end] = frameRange(layout, opts, name);
  const f = layout.format;
  const n = end - start;
  const offset = layout.dataOffset + start * f.blockAlign;
  const nbytes = n * f.blockAlign;
  let samples: Samples;
  const type = wavSampleType(f);
  if (
    f.codec === 'pcm' &&
    (type === 'int16' || type === 'int32') &&
    f.containerBytes === (type === 'int16' ? 2 : 4) &&
    layout.littleEndian === hostLittleEndian
  ) {
    // Fast path: read straight into the sample array's memory.
    const arr = type === 'int16' ? new Int16Array(n * f.channels) : new Int32Array(n * f.channels);
    const got = src.readInto(offset, new Uint8Array(arr.buffer, 0, nbytes));
    if (got < nbytes) throw new FormatError(`${name}: file shrank while reading`, { subject: name });
    samples = arr;
    if (type === 'int32' && f.validBits <= 24) justify24in32(arr as Int32Array);
  } else if (f.codec === 'pcm' && type === 'uint8') {
    const arr = new Uint8Array(nbytes);
    src.readInto(offset, arr);
    samples = arr;
  } else {
    const raw = src.read(offset, nbytes);
    samples = decodeWavSamples(raw, f, layout.littleEndian);
  }
  return { sampleRate: f.sampleRate, channels: f.channels, frames: n, sampleType: type, bitsPerSample: f.validBits, samples };
}

/** Parses a whole WAV file held in memory. */
export function parseWav(bytes: Uint8Array, name = '<memory>', opts: ReadOptions = {}): AudioData {
  const src = new MemorySource(bytes, name);
  return readWavFrames(src, parseWavLayout(src), opts);
}

/** Loads a WAV file (or a frame range of it) from disk. */
export async function loadWavFile(path: string, opts: ReadOptions = {}): Promise<AudioData> {
  return loadWavFileSync(path, opts);
}

export function loadWavFileSync(path: string, opts: ReadOptions = {}): AudioData {
  const src = opts.startFrame !== undefined || opts.endFrame !== undefined ? openSource(path, 256 << 10) : openSource(path);
  try {
    return readWavFrames(src, parseWavLayout(src), opts);
  } finally {
    src.close();
  }
}

export function wavInfo(layout: WavLayout, path: string): AudioInfo {
  const f = layout.format;
  return {
    path,
    container: layout.container,
    codec: f.codec,
    sampleRate: f.sampleRate,
    channels: f.channels,
    bitsPerSample: f.validBits,
    frames: layout.frames,
    durationSeconds: layout.frames / f.sampleRate,
    ...(layout.truncated ? { declaredFrames: layout.declaredFrames } : {}),
  };
}

/**
 * Consecutive windows of at most `windowFrames` frames. For the common layouts (PCM int16/int32/uint8
 * in host byte order) the yielded samples view one reused buffer (or the in-memory source itself):
 * each window is valid only until the next is requested, and must not be modified; this keeps
 * memory flat however large the file.
 */
export function* wavWindows(src: ByteSource, layout: WavLayout, windowFrames: number, opts: ReadOptions = {}): Generator<AudioData> {
  const name = src.name;
  const [start, end] = frameRange(layout, opts, name);
  const f = layout.format;
  const type = wavSampleType(f);
  const w = Math.max(1, Math.floor(windowFrames));
  const reuse =
    f.codec === 'pcm' &&
    layout.littleEndian === hostLittleEndian &&
    ((type === 'int16' && f.containerBytes === 2) || (type === 'int32' && f.containerBytes === 4) || type === 'uint8');
  const width = type === 'int16' ? 2 : type === 'int32' ? 4 : 1;
  const inMemory = reuse && src instanceof MemorySource ? src.bytes : undefined;
  const buf = reuse && !inMemory ? new ArrayBuffer(Math.min(w, Math.max(1, end - start)) * f.blockAlign) : undefined;
  for (let s = start; s < end; s += w) {
    const n = Math.min(w, end - s);
    const nbytes = n * f.blockAlign;
    const offset = layout.dataOffset + s * f.blockAlign;
    let samples: Samples;
    if (inMemory && (inMemory.byteOffset + offset) % width === 0) {
      // Already in memory and aligned: view it, no copy.
      const at = inMemory.byteOffset + offset;
      const count = n * f.channels;
      samples =
        width === 2
          ? new Int16Array(inMemory.buffer, at, count)
          : width === 4
            ? new Int32Array(inMemory.buffer, at, count)
            : inMemory.subarray(offset, offset + nbytes);
      if (type === 'int32' && f.validBits <= 24) {
        samples = (samples as Int32Array).slice();
        justify24in32(samples);
      }
    } else if (buf) {
      const bytes = new Uint8Array(buf, 0, nbytes);
      const got = src.readInto(offset, bytes);
      if (got < nbytes) throw new FormatError(`${name}: file shrank while reading`, { subject: name });
      const count = n * f.channels;
      samples = width === 2 ? new Int16Array(buf, 0, count) : width === 4 ? new Int32Array(buf, 0, count) : bytes;
      if (type === 'int32' && f.validBits <= 24) justify24in32(samples as Int32Array);
    } else {
      samples = decodeWavSamples(src.read(offset, nbytes), f, layout.littleEndian);
    }
    yield { sampleRate: f.sampleRate, channels: f.channels, frames: n, sampleType: type, bitsPerSample: f.validBits, samples };
  }
}
