/**
 * A run's data: the training and validation chunks (read from audio, or given already tokenised), the
 * sequence length they allow and the fixed validation batches every evaluation uses.
 */
import { ConfigError } from '../../util/errors.js';
import type { ProgressSink } from '../../util/progress.js';
import { audioToChunks, validateAudioConfig, type Conversion } from '../../tokens/index.js';
import type { TokenBatch } from '../api.js';
import { checkSeqLen, evalBatches, unigramEntropyBits, type ChunkSet } from '../batches.js';
import type { PipelineSettings, TrainingSettings } from '../checkpoint.js';
import { dataFingerprint, loadTrainingData, type Chunker } from './data.js';
import type { OptionLabel } from './options.js';
import { checkOptionValue, type RunSettings } from './settings.js';

export interface DataSources {
  /** Audio files or directories (searched recursively). */
  files?: string[];
  /** A split manifest: its train split trains, its valid split evaluates. */
  manifest?: string;
  /** Validation audio when not using a manifest (else validFraction of the files is held out). */
  validFiles?: string[];
  /** Already tokenised data (the demo, tests): skips reading audio. numFiles is reported as given. */
  data?: { train: ChunkSet; valid?: ChunkSet; numFiles?: number };
  /** The audio-to-chunks pipeline (default: src/tokens' audioToChunks). */
  chunker?: Chunker;
  /** Progress of reading and tokenising the audio (default: the training progress sink). */
  loadProgress?: ProgressSink;
}

export interface RunData {
  train: ChunkSet;
  valid: ChunkSet;
  numFiles: number;
  skippedFiles: number;
  validSource: string;
  /** What a resumed run must see again (dataFingerprint). */
  fingerprint: string;
  /** Unigram entropy of the validation tokens in bits per byte: what a context-free model would reach. */
  validUnigramBitsPerByte: number | null;
}

const defaultChunker: Chunker = (audio, s) =>
  audioToChunks(audio, {
    bitDepth: s.bitDepth,
    conversion: s.conversion as Conversion,
    blockingSize: s.blockingSize,
    chunkSizeBytes: s.chunkSizeBytes,
  });

type DataFacts = Omit<RunData, 'fingerprint' | 'validUnigramBitsPerByte'>;

function givenData(data: NonNullable<DataSources['data']>): DataFacts {
  const { train } = data;
  const valid = data.valid ?? {
    tokens: train.tokens.subarray(0, 0),
    numChunks: 0,
    chunkTokens: train.chunkTokens,
    vocabSize: train.vocabSize,
  };
  return { train, valid, numFiles: data.numFiles ?? 0, skippedFiles: 0, validSource: 'given' };
}

async function audioData(
  sources: DataSources,
  settings: RunSettings,
  progress: ProgressSink,
  label: OptionLabel,
  notice: (message: string) => void,
): Promise<DataFacts> {
  const pipeline: PipelineSettings = settings.pipeline;
  for (const warning of validateAudioConfig({ ...pipeline, conversion: pipeline.conversion as Conversion }).warnings) notice(warning);
  const loaded = await loadTrainingData({
    files: sources.files,
    manifest: sources.manifest,
    validFiles: sources.validFiles,
    validFraction: settings.options.validFraction,
    seed: settings.options.seed,
    settings: pipeline,
    chunker: sources.chunker ?? defaultChunker,
    progress: sources.loadProgress ?? progress,
    onWarning: notice,
    label,
  });
  if (loaded.skipped.length > 0) notice(`skipped ${loaded.skipped.length} unreadable file(s), e.g. ${loaded.skipped[0]!.reason}`);
  const { train, valid } = loaded;
  return {
    train,
    valid,
    numFiles: loaded.trainFiles.length + loaded.validFiles.length,
    skippedFiles: loaded.skipped.length,
    validSource: loaded.validSource,
  };
}

/** The chunks to train and evaluate on, checked against the model's vocabulary; messages name options as `label` calls them. */
export async function readRunData(
  sources: DataSources,
  settings: RunSettings,
  progress: ProgressSink,
  label: OptionLabel,
  notice: (message: string) => void,
): Promise<RunData> {
  const facts = sources.data ? givenData(sources.data) : await audioData(sources, settings, progress, label, notice);
  const { train, valid } = facts;
  if (train.vocabSize !== settings.model.vocabSize)
    throw new ConfigError(`the data has vocabulary ${train.vocabSize}, the model ${settings.model.vocabSize}`);
  const bytesPerToken = settings.pipeline.bitDepth / 8;
  const validUnigramBitsPerByte = valid.numChunks > 0 ? unigramEntropyBits(valid.tokens, valid.vocabSize) / bytesPerToken : null;
  return { ...facts, fingerprint: dataFingerprint(train, valid), validUnigramBitsPerByte };
}

/** The settings a checkpoint records, with the sequence length (default: a whole chunk) checked against the data. */
export function trainingSettings(settings: RunSettings, data: RunData, label: OptionLabel): TrainingSettings {
  const { options, schedule } = settings;
  const seqLen = options.seqLen ?? data.train.chunkTokens;
  checkOptionValue('seqLen', seqLen, label);
  checkSeqLen(data.train, seqLen, label);
  if (data.valid.numChunks > 0 && data.valid.chunkTokens < seqLen) {
    throw new ConfigError(`validation chunks (${data.valid.chunkTokens} tokens) are shorter than ${label('seqLen')} ${seqLen}`);
  }
  return {
    seqLen,
    batchSize: options.batchSize,
    seed: options.seed,
    learningRate: options.learningRate,
    clipNorm: options.clipNorm,
    normalizeByLength: options.normalizeByLength,
    lrSchedule: schedule.name,
    warmupSteps: schedule.warmupSteps,
    minLearningRate: schedule.minLearningRate,
    scheduleSteps: schedule.totalSteps,
  };
}

/** The fixed validation batches (none without validation data: evaluation is then off, and the user told). */
export function validationBatches(
  data: RunData,
  training: TrainingSettings,
  evalSequences: number,
  label: OptionLabel,
  notice: (message: string) => void,
): TokenBatch[] {
  const batches = data.valid.numChunks > 0 ? evalBatches(data.valid, training.batchSize, training.seqLen, evalSequences) : [];
  if (batches.length === 0)
    notice(`no validation data: evaluation is off (give a manifest with a valid split, ${label('validFiles')} PATH, or more files)`);
  return batches;
}
