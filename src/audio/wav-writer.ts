/**
 * A WAV file written as its frames come: the header goes out first with no frames, the samples are
 * appended block by block, and close() rewrites the header with the real sizes. Memory stays at one
 * block however long the file.
 */
import { closeSync, fstatSync, openSync, rmSync, writeSync } from 'node:fs';
import { ConfigError, UnsupportedError } from '../util/errors.js';
import type { SampleType, Samples } from './types.js';
import { encodeWavHeader, encodeWavSamples, wavFrameBytes, wavHeaderBytes, type WavEncoding, type WavHeaderKind } from './wav-encode.js';

export interface WavWriterOptions {
  sampleRate: number;
  channels: number;
  /** PCM bits per sample (default 16); ignored with `float`. */
  bits?: 8 | 16 | 24 | 32;
  /** IEEE float32 samples. */
  float?: boolean;
  /** Write WAVE_FORMAT_EXTENSIBLE (default: as encodeWav, only when > 2 channels or > 16 bits). */
  extensible?: boolean;
  /**
   * Files past 4 GiB, which RIFF's 32-bit sizes cannot state. 'never' (default): a write that would
   * pass it is refused with an UnsupportedError. 'auto': the header keeps room for a ds64 chunk and
   * close() turns the file into RF64 when it outgrew RIFF (as ffmpeg's `-rf64 auto`); smaller files
   * are RIFF with a 36-byte JUNK chunk. When `expectedFrames` fit RIFF, 'auto' reserves nothing and
   * the file is plain RIFF (more frames than that, past 4 GiB, are then refused).
   */
  rf64?: 'never' | 'auto';
  /**
   * Frames the caller means to write, when it knows. The first header states them, so close() has
   * nothing to rewrite when they came (and the file may then be a pipe); other counts are patched.
   */
  expectedFrames?: number;
}

/** What close() wrote. */
export interface WavWriterSummary {
  path: string;
  frames: number;
  /** Length of the file in bytes. */
  bytes: number;
  container: 'wav' | 'rf64';
}

const RIFF_MAX = 0xffffffff;

function sampleTypeOf(samples: Samples): SampleType {
  if (samples instanceof Uint8Array) return 'uint8';
  if (samples instanceof Int16Array) return 'int16';
  if (samples instanceof Int32Array) return 'int32';
  if (samples instanceof Float32Array) return 'float32';
  return 'float64';
}

/** Whether RIFF's 32-bit size field can state a file of this header and data. */
function fitsRiff(headerBytes: number, dataBytes: number): boolean {
  return headerBytes - 8 + dataBytes + (dataBytes & 1) <= RIFF_MAX;
}

function checkCount(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 1 || value > max)
    throw new ConfigError(`WAV writer: ${name} must be an integer from 1 to ${max}, got ${value}`, { subject: String(value) });
}

export class WavWriter {
  readonly path: string;
  readonly encoding: WavEncoding;
  private readonly reserveDs64: boolean;
  private readonly headerBytes: number;
  private fd: number | undefined;
  private dataBytes = 0;
  /** The frame count and kind the header on disk states. */
  private stated: { frames: number; kind: WavHeaderKind };

  private constructor(path: string, encoding: WavEncoding, reserveDs64: boolean, expectedFrames: number) {
    this.path = path;
    this.encoding = encoding;
    this.reserveDs64 = reserveDs64;
    this.headerBytes = wavHeaderBytes(encoding, reserveDs64 ? 'riff-reserve-ds64' : 'riff');
    const kind = this.headerKind(expectedFrames * wavFrameBytes(encoding));
    this.stated = { frames: expectedFrames, kind };
    const header = encodeWavHeader(encoding, expectedFrames, kind);
    this.fd = openSync(path, 'w');
    try {
      this.append(header);
    } catch (err) {
      this.abort();
      throw err;
    }
  }

  /** Creates (or truncates) `path` and writes the header. */
  static open(path: string, options: WavWriterOptions): WavWriter {
    checkCount('sampleRate', options.sampleRate, RIFF_MAX);
    checkCount('channels', options.channels, 65535);
    const float = options.float ?? false;
    const bits = float ? 32 : (options.bits ?? 16);
    if (![8, 16, 24, 32].includes(bits))
      throw new ConfigError(`WAV writer: bits must be 8, 16, 24 or 32, got ${bits}`, { subject: String(bits) });
    const expected = options.expectedFrames ?? 0;
    if (!Number.isSafeInteger(expected) || expected < 0)
      throw new ConfigError(`WAV writer: expectedFrames must be a whole number, got ${expected}`, { subject: String(expected) });
    const extensible = options.extensible ?? (options.channels > 2 || (!float && bits > 16));
    const encoding: WavEncoding = { sampleRate: options.sampleRate, channels: options.channels, bits, float, extensible };
    const expectedFitsRiff =
      options.expectedFrames !== undefined && fitsRiff(wavHeaderBytes(encoding, 'riff'), expected * wavFrameBytes(encoding));
    return new WavWriter(path, encoding, options.rf64 === 'auto' && !expectedFitsRiff, expected);
  }

  /** Frames written so far. */
  get frames(): number {
    return this.dataBytes / wavFrameBytes(this.encoding);
  }

  /**
   * Appends whole frames of interleaved samples, converted to the file's encoding as encodeWav
   * converts them (the array's type says the sample type: Int32Array is full scale 2^31, floats 1.0).
   */
  write(samples: Samples): void {
    this.openFd('write');
    const { channels } = this.encoding;
    if (samples.length % channels !== 0)
      throw new ConfigError(`${this.path}: write takes whole frames, got ${samples.length} samples for ${channels} channels`, {
        subject: this.path,
      });
    if (samples.length === 0) return;
    const bytes = encodeWavSamples(samples, sampleTypeOf(samples), this.encoding);
    this.headerKind(this.dataBytes + bytes.length); // refuses to pass 4 GiB without rf64 'auto'
    this.append(bytes);
    this.dataBytes += bytes.length;
  }

  /** Pads the data chunk to an even length, states the real sizes in the header and closes the file. */
  close(): WavWriterSummary {
    const fd = this.openFd('close');
    try {
      const frames = this.frames;
      const pad = this.dataBytes & 1;
      if (pad) this.append(new Uint8Array(1));
      const kind = this.headerKind(this.dataBytes);
      if (frames !== this.stated.frames || kind !== this.stated.kind) this.put(encodeWavHeader(this.encoding, frames, kind), 0);
      closeSync(fd);
      this.fd = undefined;
      return { path: this.path, frames, bytes: this.headerBytes + this.dataBytes + pad, container: kind === 'rf64' ? 'rf64' : 'wav' };
    } catch (err) {
      this.abort();
      throw err;
    }
  }

  /** Closes and deletes an unfinished file (after an error; a pipe or device is only closed); does nothing once closed. */
  abort(): void {
    if (this.fd === undefined) return;
    const regularFile = fstatSync(this.fd).isFile();
    closeSync(this.fd);
    this.fd = undefined;
    if (regularFile) rmSync(this.path, { force: true });
  }

  /** The header that states `dataBytes` of samples; without rf64 'auto', past 4 GiB is an UnsupportedError. */
  private headerKind(dataBytes: number): WavHeaderKind {
    if (fitsRiff(this.headerBytes, dataBytes)) return this.reserveDs64 ? 'riff-reserve-ds64' : 'riff';
    if (this.reserveDs64) return 'rf64';
    throw new UnsupportedError(
      `${this.path}: the WAV data would pass 4 GiB, more than RIFF can state; open the writer with rf64: 'auto' to write RF64`,
      { subject: this.path },
    );
  }

  private openFd(what: string): number {
    if (this.fd === undefined)
      throw new ConfigError(`${this.path}: cannot ${what}, the WAV writer is already closed`, { subject: this.path });
    return this.fd;
  }

  /** Writes at the file's current position (sequentially, so a pipe works too). */
  private append(bytes: Uint8Array): void {
    const fd = this.openFd('write');
    for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
  }

  private put(bytes: Uint8Array, position: number): void {
    const fd = this.openFd('write');
    for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
  }
}
