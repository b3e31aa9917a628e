/**
 * The byte-token pipeline: bit depth (LMIC / seed float / exact), channel blocking, chunking,
 * streaming iterators, dataset registry and file-level splits. See docs/foundation.md.
 */
export {
  DEFAULT_PIPELINE_OPTIONS,
  validateAudioConfig,
  validateBlockingSize,
  type BitDepth,
  type Conversion,
  type ChannelMode,
  type TailMode,
  type PipelineOptions,
  type ResolvedPipelineOptions,
} from './options.js';
export {
  convertToTargetBitDepth,
  int16ToTokens,
  tokensToInt16,
  chunkToTokens16,
  lmicU8,
  seedFloat,
  seedFloatToU8,
  seedFloatToI16,
} from './convert.js';
export { processStereoBlocking, extractAudioChunks, audioToChunks, audioToBytes, ChunkStream } from './pipeline.js';
export {
  customAudioIterator,
  customAudioBatches,
  getCustomAudioIterator,
  fileChunkBatches,
  emptyStats,
  type IteratorOptions,
  type IteratorStats,
  type AudioChunkIterable,
} from './iterator.js';
export {
  findAudioFiles,
  collectAudioFiles,
  assignSplits,
  splitHash,
  getTrainPaths,
  getValidPaths,
  getTestPaths,
  type SplitOptions,
  type SplitEntry,
  type SplitName,
} from './files.js';
export { datasetRegistry, getDataset, mulberry32, type DatasetOptions, type DatasetSpec } from './registry.js';
export { readSplitManifest, locateListedPath, type ManifestSplits } from './manifest.js';
