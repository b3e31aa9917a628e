/**
 * Audio input: any supported file, recognised by content. WAV is parsed natively (all dialects,
 * frame-range reads without loading the file); FLAC, Ogg Vorbis, Ogg Opus and MP3 go through
 * WebAssembly decoders. See docs/foundation.md.
 */
export type { AudioData, AudioInfo, SampleType, Samples } from './types.js';
export {
  parseWav,
  parseWavLayout,
  loadWavFile,
  loadWavFileSync,
  readWavFrames,
  wavWindows,
  decodeWavSamples,
  wavSampleType,
  isWav,
  type WavLayout,
  type WavChunk,
  type WavFormat,
  type WavCodec,
  type ReadOptions,
} from './wav.js';
export {
  encodeWav,
  encodeWavHeader,
  wavEncodingOf,
  wavBitsOptions,
  type EncodeWavOptions,
  type WavEncoding,
  type WavHeaderKind,
  type WavBitsName,
} from './wav-encode.js';
export { swapBytes } from './endian.js';
export { WavWriter, type WavWriterOptions, type WavWriterSummary } from './wav-writer.js';
export { toFloat32Channels, interleave, fromFloat32Channels, mixToMono, toFloat32, toInt16, sliceFrames, fullScale } from './convert.js';
export { sniffFormat, type SniffedFormat } from './sniff.js';
export { decodeStream, rewindow, type CompressedFormat, type DamageOptions } from './decoders.js';
export { MemorySource, FileSource, openSource, openSourceInto, type ByteSource } from './source.js';
export { ULAW_TABLE, ALAW_TABLE } from './g711.js';
export { parseAiffLayout, readAiffFrames, isAiff, type AiffLayout } from './aiff.js';
export { parseSphereLayout, readSphereFrames, isSphere, type SphereLayout } from './sphere.js';
export * from './load.js';
export { defaultAudioDir, DEFAULT_AUDIO_PACKAGE } from './default.js';
