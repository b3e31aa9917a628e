/** The training side of src/model: the loop, checkpoints, logs (see docs/training.md). */
export {
  trainAudioTransformer,
  defaultModelConfig,
  type TrainAudioTransformerOptions,
  type TrainAudioTransformerResult,
  type TrainerFactory,
  type EvalPoint,
} from '../train.js';
export {
  writeCheckpoint,
  readCheckpoint,
  loadModel,
  latestCheckpoint,
  resolveCheckpointDir,
  restoreTrainer,
  readSafetensorsFile,
  type CheckpointState,
  type LoadedCheckpoint,
  type PipelineSettings,
  type TrainingSettings,
} from '../checkpoint.js';
export {
  BatchSampler,
  chunkSetFromChunks,
  chunkSetFromTokens,
  evalBatches,
  int16BytesToTokens,
  unigramEntropyBits,
  type ChunkSet,
} from '../batches.js';
export { RunLog, readMetrics, type MetricsSink, type MetricPoint, type MetricValue } from '../logging.js';
export {
  EventFileWriter,
  readEventFile,
  readTfRecords,
  encodeEvent,
  decodeEvent,
  tfRecord,
  type ScalarEvent,
  type DecodedEvent,
} from '../tensorboard.js';
export { writeLossCurve, lossCurveHtml, lossCurveSvg, type Series } from '../plot.js';
export { createWandbSink, findWandbApiKey, nullSink, type WandbOptions } from '../wandb.js';
export { loadTrainingData, readManifest, dataFingerprint, type LoadedData, type Chunker } from './data.js';
export { TrainingRng, type RngState } from './rng.js';
export {
  TRAINING_OPTIONS,
  type TrainingOption,
  type TrainingOptionName,
  type TrainingOptionValues,
  type OptionLabel,
  type OptionName,
} from './options.js';
export { learningRateAt, validateSchedule, LR_SCHEDULES, type LrSchedule, type LrScheduleName } from '../schedule.js';
