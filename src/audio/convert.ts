/** Sample-type conversions on decoded audio. Integer paths avoid float round trips where possible. */
import type { AudioData, Samples } from './types.js';

/** Full-scale divisor per sample type (uint8 is offset by 128 first). */
export function fullScale(audio: Pick<AudioData, 'sampleType'>): number {
  switch (audio.sampleType) {
    case 'uint8':
      return 128;
    case 'int16':
      return 32768;
    case 'int32':
      return 2147483648;
    default:
      return 1;
  }
}

/** One Float32Array per channel, full scale 1.0 (int16 / 32768, int32 / 2^31, uint8 (x - 128) / 128). */
export function toFloat32Channels(audio: AudioData): Float32Array[] {
  const { channels: ch, frames } = audio;
  const s = audio.samples;
  const out: Float32Array[] = [];
  const off = audio.sampleType === 'uint8' ? 128 : 0;
  const inv = 1 / fullScale(audio);
  for (let c = 0; c < ch; c++) {
    const o = new Float32Array(frames);
    if (off === 0 && inv === 1) for (let i = 0, j = c; i < frames; i++, j += ch) o[i] = s[j]!;
    else for (let i = 0, j = c; i < frames; i++, j += ch) o[i] = (s[j]! - off) * inv;
    out.push(o);
  }
  return out;
}

/**
 * The inverse of toFloat32Channels: planar channels to interleaved float32 (frame-major), taking
 * the first `frames` samples of each (default: the first channel's length).
 */
export function interleave(channels: readonly Float32Array[], frames = channels[0]?.length ?? 0): Float32Array {
  const ch = channels.length;
  if (ch === 1) return channels[0]!.slice(0, frames);
  const out = new Float32Array(frames * ch);
  for (let c = 0; c < ch; c++) {
    const src = channels[c]!;
    for (let i = 0, j = c; i < frames; i++, j += ch) out[j] = src[i]!;
  }
  return out;
}

/** Planar float channels (full scale 1.0) as float32 AudioData, e.g. for encodeWav. */
export function fromFloat32Channels(channels: readonly Float32Array[], sampleRate: number): AudioData {
  const frames = channels[0]?.length ?? 0;
  return { sampleRate, channels: channels.length, frames, sampleType: 'float32', bitsPerSample: 32, samples: interleave(channels, frames) };
}

/**
 * The mean of the channels (what librosa.load(mono=True) takes), each frame summed in double precision. A single channel
 * is returned as is.
 */
export function mixToMono(channels: readonly Float32Array[]): Float32Array {
  if (channels.length === 1) return channels[0]!;
  const frames = channels[0]?.length ?? 0;
  const out = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (const c of channels) sum += c[i]!;
    out[i] = sum / channels.length;
  }
  return out;
}

/** Interleaved float32, full scale 1.0. */
export function toFloat32(audio: AudioData): Float32Array {
  const s = audio.samples;
  const n = audio.frames * audio.channels;
  if (audio.sampleType === 'float32') return (s as Float32Array).slice(0, n);
  const out = new Float32Array(n);
  const off = audio.sampleType === 'uint8' ? 128 : 0;
  const inv = 1 / fullScale(audio);
  for (let i = 0; i < n; i++) out[i] = (s[i]! - off) * inv;
  return out;
}

/**
 * Interleaved int16. uint8: (x - 128) << 8; int32: rounded to the nearest 16-bit step (ties up, in
 * integer arithmetic), clamped; float: x * 32768 rounded and clamped.
 */
export function toInt16(audio: AudioData): Int16Array {
  const s: Samples = audio.samples;
  const n = audio.frames * audio.channels;
  switch (audio.sampleType) {
    case 'int16':
      return (s as Int16Array).slice(0, n);
    case 'uint8': {
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = (s[i]! - 128) << 8;
      return out;
    }
    case 'int32': {
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) {
        const v = Math.floor((s[i]! + 32768) / 65536);
        out[i] = v > 32767 ? 32767 : v;
      }
      return out;
    }
    default: {
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) {
        const v = Math.round(s[i]! * 32768);
        out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
      }
      return out;
    }
  }
}

/** A frame range [start, end) of decoded audio, sharing no memory with the input. */
export function sliceFrames(audio: AudioData, start: number, end: number): AudioData {
  const s = Math.max(0, Math.min(start, audio.frames));
  const e = Math.max(s, Math.min(end, audio.frames));
  return { ...audio, frames: e - s, samples: audio.samples.slice(s * audio.channels, e * audio.channels) };
}
