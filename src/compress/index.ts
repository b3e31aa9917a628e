/** Lossless compression with wavelm's language models, LMIC's coder and evaluation, classical baselines. */
export {
  normalizePdfForArithmeticCoding,
  LmicEncoder,
  LmicDecoder,
  bitsToBytes,
  bytesToBits,
  lmicCompress,
  lmicDecompress,
} from './lmic-coder.js';
export { RangeEncoder, RangeDecoder, AdaptiveModel, quantizeProbs, findSymbol, LM_TOTAL_BITS } from './range-coder.js';
export { encodeChunk, decodeChunk, vocabForMode, TOKEN_MODES, type TokenMode, type ChunkStats } from './lm-codec.js';
export {
  compressAudio,
  decompressAudio,
  readArchiveInfo,
  WLM_MAGIC,
  WLM_VERSION,
  type CompressionModel,
  type ArchiveSettings,
  type ArchiveInfo,
  type CompressOptions,
  type DecompressOptions,
  type CompressStats,
} from './archive.js';
export { runChunkJobs, ChunkRunner, makePredictor, type PredictorSpec, type PredictorFactory } from './parallel.js';
export { loadCompressionModel, defaultChunkLength, weightsSha256, configSha256, type LoadedCompressionModel } from './model.js';
export { pcmLayout, type PcmLayout } from './wav-layout.js';
export { codeFiles, forEachFile, planFiles, type FilePlan, type FileOutcome, type PlanOptions } from './batch.js';
export type { Compressor, CompressContext } from './compressor.js';
export { CLASSICAL_COMPRESSORS } from './compressors.js';
export { LmCompressor } from './lm-compressor.js';
export {
  evaluateCompressor,
  formatEvalTable,
  formatEvalCsv,
  evalChartHtml,
  type EvalResult,
  type RateResult,
  type BatchCompressor,
  type EvaluateOptions,
} from './evaluate.js';
export { lmicChunks, manifestPaths, type EvalData } from './data.js';
export { pngGrayNoFilter } from './baselines/png.js';
export { evaluateLossless, formatLosslessTable, type LosslessResult, type LosslessEntry } from './lossless.js';
