/** Objective quality metrics: SNR family, log-spectral distance, STOI and extended STOI. No PESQ (see docs/codec.md). */
export { snr, segmentalSnr, siSdr, logSpectralDistance } from './basic.js';
export type { Signal, SegmentalSnrOptions, LsdOptions } from './basic.js';
export { stoi, estoi, removeSilentFrames, thirdOctaveSpectrogram, thirdOctaveMatrix, thirdOctaveBands } from './stoi.js';
export type { StoiOptions } from './stoi.js';
export { resampleOct, octaveResampleFilter } from './resample-oct.js';
export { compareAudio } from './compare.js';
export type { MetricReport, CompareOptions } from './compare.js';
