/**
 * The contract between audio readers and everything downstream. Readers return samples in their
 * native integer type when no float round trip is needed, interleaved by frame.
 */

/** Interleaved sample storage, by the source's encoding:
 * - uint8: unsigned 8-bit PCM (WAV's 8-bit), offset binary, 128 = silence
 * - int16: 9..16-bit PCM, left-justified in 16 bits as stored (12-bit in a 16-bit container stays as stored)
 * - int32: 17..32-bit PCM, left-justified in 32 bits (24-bit samples are shifted up by 8), so full scale is 2^31
 * - float32 / float64: IEEE float, full scale 1.0
 * Decoded lossy formats (Vorbis, Opus, MP3) and A-law/mu-law are float32 or int16 as noted by `sampleType`. */
export type SampleType = 'uint8' | 'int16' | 'int32' | 'float32' | 'float64';

export type Samples = Uint8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface AudioData {
  sampleRate: number;
  channels: number;
  /** Number of frames (samples per channel). */
  frames: number;
  sampleType: SampleType;
  /** Bits of precision in the source (e.g. 24 for 24-bit PCM stored in int32, 12 for 12-bit in int16). */
  bitsPerSample: number;
  /** Interleaved samples: frame-major, channel-minor. Length = frames * channels. */
  samples: Samples;
}

/** Container and codec of a file, as reported by `wavelm info`. */
export interface AudioInfo {
  path: string;
  container: 'wav' | 'rifx' | 'rf64' | 'bw64' | 'flac' | 'ogg' | 'mp3' | 'aiff' | 'aifc' | 'sphere';
  codec: string; // e.g. 'pcm', 'float', 'alaw', 'mulaw', 'flac', 'vorbis', 'opus', 'mp3'
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  frames: number;
  durationSeconds: number;
  /**
   * The stored samples in words, set by readAudioInfo: '16-bit', '32-bit float', '8-bit mulaw', or for lossy codecs
   * 'lossy (decoded to 32-bit float)' (they have no bit depth).
   */
  sampleFormat?: string;
  /** WAV only, when the data chunk is shorter than its header says: the frames the header declares (`frames` counts those present). */
  declaredFrames?: number;
}
