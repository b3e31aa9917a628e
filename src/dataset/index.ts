/**
 * The audio dataset format and loader (docs/dataset.md): field-based `.wlds` files with per-blob
 * CRC-32C, a writer and sharded builder, an O(1) random-access reader, and a shuffled, prefetching,
 * distributed loader; WebDataset and .npy interop.
 */
export {
  FORMAT_MAJOR as DATASET_FORMAT_MAJOR,
  FORMAT_MINOR as DATASET_FORMAT_MINOR,
  type Schema as DatasetSchema,
  type SchemaField as DatasetSchemaField,
  type MetaColumn as DatasetMetaColumn,
  type MetaType as DatasetMetaType,
} from './format.js';
export {
  createField,
  fieldFromSchema,
  parseFieldSpecs,
  registerFieldType,
  fieldTypes,
  WaveformField,
  CompressedField,
  MelField,
  ChunksField,
  CodecTokensField,
  NumberField,
  TextField,
  type Field,
  type FieldSpec,
  type FieldBatch,
  type ArrayBatch,
  type ScalarBatch,
  type ValueBatch,
  type ArrayDType,
  type SampleInput,
  type Encoded,
  type DecodedValue,
  type Window as DatasetWindow,
  type TokenArray,
} from './fields/index.js';
export { DatasetWriter, type WriterOptions as DatasetWriterOptions } from './writer.js';
export { DatasetReader, type BlobRef } from './reader.js';
export { Loader, batchBytes, type LoaderOptions, type Batch, type Position as LoaderPosition, type CropOptions } from './loader.js';
export {
  makeOrder,
  RankPart,
  SequentialOrder,
  RandomOrder,
  QuasiRandomOrder,
  Permutation,
  type Order,
  type OrderName,
} from './orders/index.js';
export {
  buildDataset,
  makePlan,
  shardRanges,
  type BuildOptions as DatasetBuildOptions,
  type BuildResult as DatasetBuildResult,
  type PlanItem,
} from './build.js';
export { verifyDataset, type FileReport, type VerifyOptions as DatasetVerifyOptions } from './verify.js';
export {
  exportWebDataset,
  exportNpy,
  importWebDataset,
  decodedToAudio,
  type ExportOptions as WebDatasetExportOptions,
  type ImportOptions as WebDatasetImportOptions,
} from './interop.js';
export { readTar, TarWriter, type TarEntry } from './tar.js';
export { resolveDatasetPaths, shardPath, DATASET_EXT } from './paths.js';
export { TokenCache, type FrameRange } from './token-cache.js';
export {
  encodesTokens,
  resolveTokenEncoders,
  type CodecTokenEncoder,
  type CodecTokenEncoderFactory,
  type CodecTokenRequest,
} from './token-encoder.js';
export { datasetChunks, type DatasetChunkOptions } from './chunk-source.js';
export {
  planStorage,
  recommend,
  parseByteSize,
  humanBytes,
  spreadSample,
  DEFAULT_CANDIDATES,
  DECISION_RULE,
  type StoragePlan,
  type StoragePlanOptions,
  type CandidateReport,
  type ModelFamily,
  type Priority,
} from './plan.js';
