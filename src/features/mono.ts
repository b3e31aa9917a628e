/** Audio as the one float32 signal the spectral features take: a picked channel or the mean of all, at a chosen rate. */
import { mixToMono, toFloat32Channels } from '../audio/convert.js';
import type { AudioData } from '../audio/types.js';
import { ConfigError } from '../util/errors.js';
import { resample, type ResampleQuality } from './resample.js';

export interface MonoOptions {
  /** Take this channel (from 0) instead of the mean of all of them (librosa.load's mono=True). */
  channel?: number;
  /** Resample to this rate (default: the audio's own, librosa.load(sr=None)). */
  sampleRate?: number;
  /** Resampler quality for `sampleRate`. */
  quality?: ResampleQuality;
}

export interface MonoSignal {
  samples: Float32Array;
  sampleRate: number;
}

export function monoSignal(audio: AudioData, opts: MonoOptions = {}): MonoSignal {
  const channels = toFloat32Channels(audio);
  let samples: Float32Array;
  if (opts.channel === undefined) samples = mixToMono(channels);
  else {
    if (!Number.isInteger(opts.channel) || opts.channel < 0 || opts.channel >= channels.length)
      throw new ConfigError(`channel ${opts.channel}: the audio has ${channels.length} channel(s), numbered from 0`, {
        subject: 'channel',
      });
    samples = channels[opts.channel]!;
  }
  if (opts.sampleRate === undefined || opts.sampleRate === audio.sampleRate) return { samples, sampleRate: audio.sampleRate };
  return { samples: resample(samples, audio.sampleRate, opts.sampleRate, { quality: opts.quality }), sampleRate: opts.sampleRate };
}
