/**
 * Loading audio: any supported file, recognised by content, whole or a frame range; its header alone
 * (readAudioInfo); a reader that streams it. index.ts re-exports this file; `wavelm info` imports it directly,
 * which keeps the writers and the embedded-audio lookup out of its start-up (bench startup).
 */
import { readFileSync } from 'node:fs';
import { FormatError, UnsupportedError } from '../util/errors.js';
import {
  decodeFlac,
  decodeMp3,
  decodeOpus,
  decodeStream,
  decodeVorbis,
  flacStreamInfo,
  type CompressedFormat,
  type DamageOptions,
} from './decoders.js';
import { sliceFrames } from './convert.js';
import { aiffInfo, parseAiffLayout, readAiffFrames } from './aiff.js';
import { parseSphereLayout, readSphereFrames, sphereInfo } from './sphere.js';
import { id3Length, sniffFormat, type SniffedFormat } from './sniff.js';
import { FileSource, openSource, type ByteSource } from './source.js';
import type { AudioData, AudioInfo } from './types.js';
import { parseWavLayout, readWavFrames, wavInfo, type ReadOptions, type WavLayout } from './wav.js';

/** Options for loadAudio. */
export interface LoadOptions extends ReadOptions {
  /** Told, with a count, when allowTruncated keeps the readable part of a truncated or damaged file. */
  onWarning?: (message: string) => void;
}

const SNIFF_BYTES = 4096;

/** Reads the head of a file and tells its format by content. */
export function sniffFile(src: ByteSource): SniffedFormat {
  const head = src.read(0, SNIFF_BYTES);
  const id3 = id3Length(head);
  const after = id3 > 0 && id3 < src.size ? src.read(id3, 16) : undefined;
  return sniffFormat(head, after);
}

function notAudio(src: ByteSource, format: SniffedFormat): never {
  const name = src.name;
  if (src.size === 0) throw new FormatError(`${name}: empty file (0 bytes)`, { subject: name });
  switch (format) {
    case 'ogg-flac':
      throw new UnsupportedError(`${name}: FLAC inside Ogg is not supported; use native .flac`, { subject: name });
    case 'ogg':
      throw new UnsupportedError(`${name}: Ogg stream with a codec other than Vorbis or Opus`, { subject: name });
    default: {
      const head = src.read(0, 4);
      const shown = Array.from(head, (c) => (c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '.')).join('');
      throw new FormatError(
        `${name}: not a recognised audio file (${src.size} bytes starting '${shown}'); wavelm reads WAV/RIFX/RF64, AIFF, NIST ` +
          'SPHERE, FLAC, Ogg Vorbis, Ogg Opus and MP3',
        { subject: name },
      );
    }
  }
}

/** The warning for a truncated file read under allowTruncated (without it the reader has already thrown). */
export function warnTruncated(name: string, what: string, frames: number, declared: number, opts: LoadOptions): void {
  if (opts.allowTruncated)
    opts.onWarning?.(`${name}: truncated ${what} data: kept the ${frames} of ${declared} frames its header declares that are in the file`);
}

/** Loads any supported audio file (format by content sniffing), optionally a frame range of it. */
export async function loadAudio(path: string, opts: LoadOptions = {}): Promise<AudioData> {
  const ranged = opts.startFrame !== undefined || opts.endFrame !== undefined;
  const src = openSource(path, ranged ? 256 << 10 : 4 << 20);
  try {
    const format = sniffFile(src);
    if (format === 'wav') {
      const layout = parseWavLayout(src);
      const audio = readWavFrames(src, layout, opts);
      if (layout.truncated) warnTruncated(path, 'WAV', layout.frames, layout.declaredFrames, opts);
      return audio;
    }
    if (format === 'aiff') {
      const layout = parseAiffLayout(src);
      const audio = readAiffFrames(src, layout, opts);
      if (layout.truncated) warnTruncated(path, 'AIFF', layout.frames, layout.declaredFrames, opts);
      return audio;
    }
    if (format === 'sphere') return readSphereFrames(src, parseSphereLayout(src), opts);
    if (ranged && (format === 'flac' || format === 'ogg-vorbis' || format === 'ogg-opus' || format === 'mp3')) {
      return await decodeRange(src, format, opts.startFrame ?? 0, opts.endFrame ?? Infinity, opts);
    }
    const bytes = src instanceof FileSource ? readFileSync(path) : src.read(0, src.size);
    let audio: AudioData;
    switch (format) {
      case 'flac':
        audio = (await decodeFlac(bytes, path, opts)).audio;
        break;
      case 'ogg-vorbis':
        audio = await decodeVorbis(bytes, path);
        break;
      case 'ogg-opus':
        audio = await decodeOpus(bytes, path);
        break;
      case 'mp3':
        audio = await decodeMp3(bytes, path);
        break;
      default:
        notAudio(src, format);
    }
    return ranged ? sliceFrames(audio, opts.startFrame ?? 0, opts.endFrame ?? audio.frames) : audio;
  } finally {
    src.close();
  }
}

/**
 * Frames [start, end) of a compressed file, decoded piece by piece and no further than `end`: a range
 * near the start costs little, and memory holds the range, not the decoded file. (There is no seeking:
 * the pieces before `start` are decoded and dropped.) The samples equal those of a whole-file decode.
 */
async function decodeRange(
  src: ByteSource,
  format: CompressedFormat,
  start: number,
  end: number,
  damage: DamageOptions,
): Promise<AudioData> {
  const parts: AudioData[] = [];
  let pos = 0;
  let last: AudioData | undefined;
  for await (const a of decodeStream(src, format, 256 << 10, damage)) {
    last = a;
    if (pos + a.frames > start && pos < end) parts.push(sliceFrames(a, start - pos, end - pos));
    pos += a.frames;
    if (pos >= end) break;
  }
  if (parts.length === 1) return parts[0]!;
  if (parts.length === 0) return sliceFrames(last!, 0, 0); // decodeStream throws rather than yield nothing
  const frames = parts.reduce((n, p) => n + p.frames, 0);
  const Ctor = parts[0]!.samples.constructor as new (n: number) => AudioData['samples'];
  const samples = new Ctor(frames * parts[0]!.channels);
  let at = 0;
  for (const p of parts) {
    (samples as { set(a: ArrayLike<number>, offset: number): void }).set(p.samples, at);
    at += p.samples.length;
  }
  return { ...parts[0]!, frames, samples };
}

/** How a codec stores its samples, in words (see AudioInfo.sampleFormat). */
export function describeSampleFormat(codec: string, bitsPerSample: number): string {
  if (codec === 'mp3' || codec === 'opus' || codec === 'vorbis') return 'lossy (decoded to 32-bit float)';
  if (codec === 'float') return `${bitsPerSample}-bit float`;
  if (codec === 'alaw' || codec === 'mulaw') return `8-bit ${codec}`;
  return `${bitsPerSample}-bit`;
}

/** Container, codec, rate, channels, bits and length of an audio file. Compressed formats other than FLAC are decoded to count frames. */
export async function readAudioInfo(path: string): Promise<AudioInfo> {
  const info = await readInfo(path);
  return { ...info, sampleFormat: describeSampleFormat(info.codec, info.bitsPerSample) };
}

async function readInfo(path: string): Promise<AudioInfo> {
  const src = new FileSource(path);
  let format: SniffedFormat;
  try {
    format = sniffFile(src);
    if (format === 'wav') return wavInfo(parseWavLayout(src), path);
    if (format === 'aiff') return aiffInfo(parseAiffLayout(src), path);
    if (format === 'sphere') return sphereInfo(parseSphereLayout(src), path);
    if (format === 'flac' && src.read(0, 4).every((c, i) => c === 'fLaC'.charCodeAt(i))) {
      const info = flacStreamInfo(src.read(0, 64), path, path);
      if (info.frames > 0) return info;
    }
    if (format === 'unknown' || format === 'ogg' || format === 'ogg-flac') notAudio(src, format);
  } finally {
    src.close();
  }
  const audio = await loadAudio(path);
  const container: AudioInfo['container'] = format === 'mp3' ? 'mp3' : format === 'flac' ? 'flac' : 'ogg';
  const codec = format === 'ogg-vorbis' ? 'vorbis' : format === 'ogg-opus' ? 'opus' : format === 'mp3' ? 'mp3' : 'flac';
  return {
    path,
    container,
    codec,
    sampleRate: audio.sampleRate,
    channels: audio.channels,
    bitsPerSample: audio.bitsPerSample,
    frames: audio.frames,
    durationSeconds: audio.frames / audio.sampleRate,
  };
}

/**
 * An open audio file for windowed reading: WAV is read frame range by frame range from disk;
 * compressed formats are decoded once and served from memory.
 */
export interface AudioReader {
  readonly path: string;
  readonly sampleRate: number;
  readonly channels: number;
  readonly frames: number;
  readonly bitsPerSample: number;
  /** Present for WAV files. */
  readonly layout?: WavLayout;
  read(startFrame: number, endFrame: number): AudioData;
  close(): void;
}

export async function openAudio(path: string, opts: Pick<LoadOptions, 'allowTruncated' | 'onWarning'> = {}): Promise<AudioReader> {
  const src = openSource(path, 1 << 20);
  let format: SniffedFormat;
  try {
    format = sniffFile(src);
    if (format === 'wav') {
      const layout = parseWavLayout(src);
      // Validate truncation once, up front, with the same error loadAudio gives.
      if (layout.truncated && !opts.allowTruncated) readWavFrames(src, layout, { startFrame: 0, endFrame: 0 });
      if (layout.truncated) warnTruncated(path, 'WAV', layout.frames, layout.declaredFrames, opts);
      const f = layout.format;
      return {
        path,
        sampleRate: f.sampleRate,
        channels: f.channels,
        frames: layout.frames,
        bitsPerSample: f.validBits,
        layout,
        read: (s, e) => readWavFrames(src, layout, { startFrame: s, endFrame: e, allowTruncated: true }),
        close: () => src.close(),
      };
    }
  } catch (err) {
    src.close();
    throw err;
  }
  src.close();
  const audio = await loadAudio(path, opts);
  return {
    path,
    sampleRate: audio.sampleRate,
    channels: audio.channels,
    frames: audio.frames,
    bitsPerSample: audio.bitsPerSample,
    read: (s, e) => (s === 0 && e >= audio.frames ? audio : sliceFrames(audio, s, e)),
    close: () => {},
  };
}

/** Streams a file as consecutive windows of at most `windowFrames` frames. */
export async function* streamAudio(
  path: string,
  opts: { windowFrames?: number } & Pick<LoadOptions, 'allowTruncated' | 'onWarning'> = {},
): AsyncGenerator<AudioData> {
  const reader = await openAudio(path, opts);
  const w = Math.max(1, opts.windowFrames ?? 1 << 16);
  try {
    for (let s = 0; s < reader.frames; s += w) yield reader.read(s, Math.min(reader.frames, s + w));
  } finally {
    reader.close();
  }
}

/** File extensions wavelm treats as audio when scanning folders (content still decides the format). */
export const AUDIO_EXTENSIONS = [
  '.wav',
  '.wave',
  '.bwf',
  '.rf64',
  '.flac',
  '.ogg',
  '.oga',
  '.opus',
  '.mp3',
  '.aif',
  '.aiff',
  '.aifc',
  '.sph',
  '.nist',
  '.wv1',
  '.wv2',
] as const;

export function isAudioPath(p: string): boolean {
  const lower = p.toLowerCase();
  return AUDIO_EXTENSIONS.some((e) => lower.endsWith(e));
}
