/**
 * A WAV file written block by block for a length known up front (a decoded codes file records it), with the
 * same bytes encodeWav writes for the whole signal: 16-bit PCM (canonical 44-byte header) or 32-bit float
 * (18-byte fmt and a fact chunk), mono or stereo.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { toInt16, type AudioData } from '../audio/index.js';
import { ConfigError, MismatchError } from '../util/errors.js';
import type { Planar } from './planar.js';

function header(sampleRate: number, channels: number, frames: number, float: boolean): Uint8Array {
  const bytesPerSample = float ? 4 : 2;
  const dataBytes = frames * channels * bytesPerSample;
  const fmtSize = float ? 18 : 16;
  const size = 12 + 8 + fmtSize + (float ? 12 : 0) + 8;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  const ascii = (o: number, s: string): void => out.set([...s].map((c) => c.charCodeAt(0)), o);
  ascii(0, 'RIFF');
  dv.setUint32(4, size + dataBytes + (dataBytes & 1) - 8, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  dv.setUint32(16, fmtSize, true);
  dv.setUint16(20, float ? 3 : 1, true);
  dv.setUint16(22, channels, true);
  dv.setUint32(24, sampleRate, true);
  dv.setUint32(28, sampleRate * channels * bytesPerSample, true);
  dv.setUint16(32, channels * bytesPerSample, true);
  dv.setUint16(34, bytesPerSample * 8, true);
  let o = 36;
  if (float) {
    dv.setUint16(36, 0, true);
    ascii(38, 'fact');
    dv.setUint32(42, 4, true);
    dv.setUint32(46, frames, true);
    o = 50;
  }
  ascii(o, 'data');
  dv.setUint32(o + 4, dataBytes, true);
  return out;
}

export class WavBlockWriter {
  private fd: number;
  private written = 0;

  constructor(
    readonly path: string,
    readonly sampleRate: number,
    readonly channels: number,
    readonly frames: number,
    readonly float: boolean,
  ) {
    if (channels < 1 || channels > 2) throw new ConfigError(`${path}: block-by-block WAV output takes 1 or 2 channels, got ${channels}`, { subject: path });
    if (frames * channels * (float ? 4 : 2) > 0xffffffff - 64) throw new ConfigError(`${path}: ${frames} frames do not fit a RIFF WAV (4 GiB)`, { subject: path });
    this.fd = openSync(path, 'w');
    writeSync(this.fd, header(sampleRate, channels, frames, float));
  }

  /** Appends planar audio [channels, t], interleaved and converted as encodeWav converts it. */
  write(x: Planar): void {
    if (x.length === 0) return;
    if (this.written + x.length > this.frames) throw new MismatchError(`${this.path}: more than the ${this.frames} frames declared`, { subject: this.path });
    const C = this.channels;
    const inter = new Float32Array(x.length * C);
    for (let c = 0; c < C; c++) for (let i = 0; i < x.length; i++) inter[i * C + c] = x.data[c * x.length + i]!;
    const block: AudioData = { sampleRate: this.sampleRate, channels: C, frames: x.length, sampleType: 'float32', bitsPerSample: 32, samples: inter };
    const samples = this.float ? inter : toInt16(block);
    writeSync(this.fd, new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength));
    this.written += x.length;
  }

  /** Closes the file without checks (after a failure; the file is incomplete). */
  abort(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  /** Checks that every declared frame was written, pads the data chunk to even length, and closes the file. */
  close(): void {
    if (this.fd < 0) return;
    try {
      if (this.written !== this.frames) throw new MismatchError(`${this.path}: ${this.written} frames written, ${this.frames} declared`, { subject: this.path });
      if ((this.frames * this.channels * (this.float ? 4 : 2)) & 1) writeSync(this.fd, new Uint8Array(1));
    } finally {
      closeSync(this.fd);
      this.fd = -1;
    }
  }
}
