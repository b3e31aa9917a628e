/**
 * `trainAudioTransformer`: LMIC's training recipe on audio (docs/training.md). Audio in (files, directories or a
 * split manifest), LMIC transformer out, with local logs, checkpoints and optional W&B.
 *
 * The loop, step by step (step s = 1..steps):
 *   1. draw a batch with the seeded sampler (batches.ts: chunks uniformly with replacement);
 *   2. Trainer.step: LMIC's loss (-mean over the batch of each sequence's summed log-likelihood, nats),
 *      its gradient (optionally divided by seqLen), global-norm clipping, one Adam update;
 *   3. every logEvery steps: the interval's mean loss and grad norm, bits per byte, tokens/s;
 *   4. every evalEvery steps: the loss on the fixed validation sequences;
 *   5. every checkpointEvery steps: a checkpoint (weights, Adam moments, RNG state, log accumulators);
 *   6. when the AbortSignal fires (the CLI's Ctrl-C): a checkpoint at the current step, then return.
 * At the end: a final evaluation and checkpoint. Bits per token = loss / seqLen / ln 2; for 8-bit
 * tokens that is bits per byte; for 16-bit tokens it is bits per sample, and bits per byte is half.
 *
 * Resume: everything that decides the next step (parameters, Adam state, sampler RNG, step, the
 * partial logging interval) is in the checkpoint, and the engine is deterministic, so a resumed run
 * produces the same parameters and metrics as one that was never interrupted.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, MismatchError, NotFoundError, WavelmError } from '../util/errors.js';
import { silentProgress, type ProgressSink } from '../util/progress.js';
import type { OptimizerConfig, TokenBatch, Trainer, TrainerOptions, TransformerConfig } from './api.js';
import { BatchSampler, checkSeqLen, evalBatches, unigramEntropyBits, type ChunkSet } from './batches.js';
import {
  configDifference,
  latestCheckpoint,
  readCheckpoint,
  resolveCheckpointDir,
  restoreTrainer,
  writeCheckpoint,
  type CheckpointState,
  type LoadedCheckpoint,
  type LogAccumulator,
  type PipelineSettings,
  type TrainingSettings,
} from './checkpoint.js';
import { RunLog, type MetricsSink, type MetricValue } from './logging.js';
import { readRunSettings } from './run-config.js';
import { dataFingerprint, loadTrainingData, type Chunker } from './training/data.js';
import { TrainingRng } from './training/rng.js';
import { createWandbSink } from './wandb.js';
import { learningRateAt, validateSchedule, type LrSchedule, type LrScheduleName } from './schedule.js';
import { createAudioTransformerConfig } from './config.js';
import { createTrainer } from './transformer.js';
import { audioToChunks, validateAudioConfig, type Conversion } from '../tokens/index.js';

export type { Conversion };

export type TrainerFactory = (config: TransformerConfig, opts: TrainerOptions) => Promise<Trainer>;

export interface TrainAudioTransformerOptions {
  /** Audio files or directories (searched recursively). */
  files?: string[];
  /** A split manifest: its train split trains, its valid split evaluates. */
  manifest?: string;
  /** Validation audio when not using a manifest. */
  validFiles?: string[];
  /** Share of files held out for validation when neither manifest nor validFiles is given (default 0.1). */
  validFraction?: number;
  /** Already tokenised data (the demo, tests): skips reading audio. numFiles is reported as given. */
  data?: { train: ChunkSet; valid?: ChunkSet; numFiles?: number };

  bitDepth?: 8 | 16;
  conversion?: Conversion;
  blockingSize?: number;
  chunkSizeBytes?: number;

  /** Model overrides on top of LMIC's defaults (d 64, 4 layers, 8 heads, widening 4, sinusoidal). */
  model?: { [K in keyof Omit<TransformerConfig, 'vocabSize'>]?: TransformerConfig[K] | undefined };

  /** Tokens per training sequence (default: a whole chunk). */
  seqLen?: number;
  batchSize?: number;
  steps?: number;
  learningRate?: number;
  /** Learning-rate schedule (default constant, as LMIC); 'cosine' decays to minLearningRate at --steps. */
  lrSchedule?: LrScheduleName;
  /** Linear warm-up steps (default 0). */
  warmupSteps?: number;
  /** Where 'cosine' ends (default learningRate / 10). */
  minLearningRate?: number;
  /** Global gradient-norm clip; 0 disables (default 0, as LMIC). */
  clipNorm?: number;
  /** Divide gradients by the sequence length (LMIC's option; default false). */
  normalizeByLength?: boolean;
  logEvery?: number;
  /** 0 disables evaluation until the end. */
  evalEvery?: number;
  /** How many validation sequences each evaluation uses (default 64). */
  evalSequences?: number;
  /** 0: only at the end (and on interrupt). */
  checkpointEvery?: number;
  /** How many checkpoints to keep (default 3). */
  keepCheckpoints?: number;
  seed?: number;
  workers?: number;

  /** Run directory (created): config.json, metrics.jsonl, event files, loss.html, checkpoints/. */
  outDir: string;
  /** true: continue from outDir's latest checkpoint; a string: from that checkpoint or run directory. */
  resume?: boolean | string;

  /** W&B upload (ignored when `sink` is given). */
  wandb?: { project: string; runName?: string; entity?: string; config?: Record<string, unknown> };
  /** Where metrics go besides the local files (tests pass a recording fake). */
  sink?: MetricsSink;
  /** Ctrl-C: abort after the current step, write a checkpoint, return with interrupted = true. */
  signal?: AbortSignal;
  /** The model implementation (default: src/model's createTrainer). */
  createTrainer?: TrainerFactory;
  /** The audio-to-chunks pipeline (default: src/tokens' audioToChunks). */
  chunker?: Chunker;
  /** Progress of reading and tokenising the audio (default: the training progress sink). */
  loadProgress?: ProgressSink;
  /** One-line messages for the user (skipped files, W&B state, resume). */
  onNotice?: (message: string) => void;
}

export interface EvalPoint {
  step: number;
  loss: number;
  bitsPerByte: number;
}

export interface TrainAudioTransformerResult {
  outDir: string;
  /** The step training stopped at. */
  step: number;
  steps: number;
  interrupted: boolean;
  resumedFrom?: number;
  /** Last step's training loss (nats per sequence, LMIC's definition). */
  finalLoss: number | null;
  finalBitsPerByte: number | null;
  validLoss: number | null;
  validBitsPerByte: number | null;
  /** Unigram entropy of the validation tokens in bits per byte: what a context-free model would reach. */
  validUnigramBitsPerByte: number | null;
  evals: EvalPoint[];
  tokensPerSecond: number;
  trainSeconds: number;
  checkpoint: string | null;
  model: TransformerConfig;
  numParams: number;
  pipeline: PipelineSettings;
  training: TrainingSettings;
  dataset: { numFiles: number; trainChunks: number; validChunks: number; skippedFiles: number; validSource: string };
}

/** LMIC's model defaults for a bit depth (vocabulary 256 or 65536). */
export function defaultModelConfig(bitDepth: 8 | 16, overrides: Partial<Omit<TransformerConfig, 'vocabSize'>> = {}): TransformerConfig {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Partial<TransformerConfig>;
  return createAudioTransformerConfig({ bitDepth, ...defined });
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new ConfigError(`${name} must be a positive integer, got ${v}`);
  return v;
}
function nonNegInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 0) throw new ConfigError(`${name} must be a non-negative integer, got ${v}`);
  return v;
}

const defaultChunker: Chunker = (audio, s) =>
  audioToChunks(audio, { bitDepth: s.bitDepth, conversion: s.conversion as Conversion, blockingSize: s.blockingSize, chunkSizeBytes: s.chunkSizeBytes });

function logInterval(acc: LogAccumulator): { loss: number; gradNorm: number } {
  return { loss: acc.loss / acc.count, gradNorm: acc.gradNorm / acc.count };
}

/** Trains the LMIC transformer on audio (see the file comment). */
export async function trainAudioTransformer(options: TrainAudioTransformerOptions, progress: ProgressSink = silentProgress): Promise<TrainAudioTransformerResult> {
  const notice = options.onNotice ?? (() => {});
  const outDir = resolve(options.outDir);

  // ---- resume: the checkpoint's settings are the defaults ----
  let ckpt: LoadedCheckpoint | undefined;
  if (options.resume) {
    const from = options.resume === true ? latestCheckpoint(outDir) : resolveCheckpointDir(options.resume);
    if (!from) throw new NotFoundError(`${outDir}: nothing to resume (no checkpoints/latest.json); start without --resume`, { subject: outDir });
    ckpt = readCheckpoint(from);
  } else if (latestCheckpoint(outDir)) {
    throw new ConfigError(`${outDir} already holds a run with checkpoints; pass --resume to continue it or choose another --out`, { subject: outDir });
  }
  const prev = ckpt?.state;
  // The checkpoint lives in <run>/checkpoints/step-N; its run's config.json holds the rest of the settings.
  const recorded = ckpt ? readRunSettings(resolve(ckpt.dir, '..', '..')) : {};

  const bitDepth = options.bitDepth ?? prev?.pipeline.bitDepth ?? 8;
  if (bitDepth !== 8 && bitDepth !== 16) throw new ConfigError(`--bit-depth must be 8 or 16, got ${String(bitDepth)}`);
  const pipeline: PipelineSettings = {
    bitDepth,
    conversion: options.conversion ?? prev?.pipeline.conversion ?? 'exact',
    blockingSize: positiveInt('--blocking-size', options.blockingSize ?? prev?.pipeline.blockingSize ?? 1024),
    chunkSizeBytes: positiveInt('--chunk-size', options.chunkSizeBytes ?? prev?.pipeline.chunkSizeBytes ?? 2048),
  };
  if (!['lmic', 'seed-float', 'exact'].includes(pipeline.conversion)) throw new ConfigError(`--conversion must be lmic, seed-float or exact, got ${pipeline.conversion}`);
  if (!options.data) for (const w of validateAudioConfig({ ...pipeline, conversion: pipeline.conversion as Conversion }).warnings) notice(w);
  if (bitDepth === 16 && pipeline.chunkSizeBytes % 2 !== 0) throw new ConfigError(`16-bit needs an even --chunk-size, got ${pipeline.chunkSizeBytes}`);
  const modelOverrides = Object.fromEntries(Object.entries(options.model ?? {}).filter(([, v]) => v !== undefined)) as Partial<TransformerConfig>;
  const model = prev ? { ...prev.model, ...modelOverrides } : defaultModelConfig(bitDepth, modelOverrides);
  if (model.vocabSize !== (bitDepth === 16 ? 65536 : 256)) throw new ConfigError(`vocabulary ${model.vocabSize} does not fit ${bitDepth}-bit tokens`);
  if (model.embeddingDim % model.numHeads !== 0) throw new ConfigError(`--embedding-dim ${model.embeddingDim} must be a multiple of --num-heads ${model.numHeads}`);

  const seed = options.seed ?? prev?.training.seed ?? 0;
  const steps = positiveInt('--steps', options.steps ?? recorded.steps ?? 1000);
  const logEvery = positiveInt('--log-every', options.logEvery ?? recorded.logEvery ?? 10);
  const evalEvery = nonNegInt('--eval-every', options.evalEvery ?? recorded.evalEvery ?? 100);
  const checkpointEvery = nonNegInt('--checkpoint-every', options.checkpointEvery ?? recorded.checkpointEvery ?? 500);
  const evalSequences = positiveInt('--eval-sequences', options.evalSequences ?? recorded.evalSequences ?? 64);
  const keep = nonNegInt('--keep-checkpoints', options.keepCheckpoints ?? recorded.keepCheckpoints ?? 3);
  const learningRate = options.learningRate ?? prev?.training.learningRate ?? 1e-4;
  // validateSchedule checks --lr with the schedule's other settings
  const schedule = validateSchedule({
    name: options.lrSchedule ?? prev?.training.lrSchedule ?? 'constant',
    learningRate,
    warmupSteps: options.warmupSteps ?? prev?.training.warmupSteps ?? 0,
    minLearningRate: options.minLearningRate ?? prev?.training.minLearningRate ?? learningRate / 10,
    // a resumed run keeps the length of the schedule it started with
    totalSteps: prev?.training.scheduleSteps ?? steps,
  });
  const clipNorm = options.clipNorm ?? prev?.training.clipNorm ?? 0;
  if (!(clipNorm >= 0)) throw new ConfigError(`--clip must be 0 (off) or positive, got ${clipNorm}`);
  const normalizeByLength = options.normalizeByLength ?? prev?.training.normalizeByLength ?? false;
  const validFraction = options.validFraction ?? recorded.validFraction ?? 0.1;
  if (!(validFraction >= 0 && validFraction < 1)) throw new ConfigError(`--valid-fraction must be in [0, 1), got ${validFraction}`);

  // ---- data ----
  const chunker = options.chunker ?? defaultChunker;
  let train: ChunkSet;
  let valid: ChunkSet;
  let numFiles: number;
  let skippedFiles = 0;
  let validSource = 'given';
  if (options.data) {
    train = options.data.train;
    valid = options.data.valid ?? { tokens: train.tokens.subarray(0, 0), numChunks: 0, chunkTokens: train.chunkTokens, vocabSize: train.vocabSize };
    numFiles = options.data.numFiles ?? 0;
  } else {
    const loaded = await loadTrainingData({
      files: options.files,
      manifest: options.manifest,
      validFiles: options.validFiles,
      validFraction,
      seed,
      settings: pipeline,
      chunker,
      progress: options.loadProgress ?? progress,
      onWarning: notice,
    });
    train = loaded.train;
    valid = loaded.valid;
    numFiles = loaded.trainFiles.length + loaded.validFiles.length;
    skippedFiles = loaded.skipped.length;
    validSource = loaded.validSource;
    if (loaded.skipped.length > 0) notice(`skipped ${loaded.skipped.length} unreadable file(s), e.g. ${loaded.skipped[0]!.reason}`);
  }
  if (train.vocabSize !== model.vocabSize) throw new ConfigError(`the data has vocabulary ${train.vocabSize}, the model ${model.vocabSize}`);
  const seqLen = positiveInt('--seq-len', options.seqLen ?? prev?.training.seqLen ?? train.chunkTokens);
  checkSeqLen(train, seqLen);
  const batchSize = positiveInt('--batch-size', options.batchSize ?? prev?.training.batchSize ?? 8);
  const training: TrainingSettings = {
    seqLen,
    batchSize,
    seed,
    learningRate,
    clipNorm,
    normalizeByLength,
    lrSchedule: schedule.name,
    warmupSteps: schedule.warmupSteps,
    minLearningRate: schedule.minLearningRate,
    scheduleSteps: schedule.totalSteps,
  };
  const fingerprint = dataFingerprint(train, valid);
  const evalSet = valid.numChunks > 0 ? evalBatches(valid, batchSize, seqLen, evalSequences) : [];
  if (valid.numChunks > 0 && valid.chunkTokens < seqLen) throw new ConfigError(`validation chunks (${valid.chunkTokens} tokens) are shorter than --seq-len ${seqLen}`);
  if (evalSet.length === 0) notice('no validation data: evaluation is off (give a manifest with a valid split, --valid PATH, or more files)');

  if (prev) {
    const diff = configDifference(prev.model, model);
    if (diff) throw new MismatchError(`cannot resume: the model differs from the checkpoint's (${diff})`);
    for (const k of Object.keys(prev.pipeline) as (keyof PipelineSettings)[]) {
      if (prev.pipeline[k] !== pipeline[k]) throw new MismatchError(`cannot resume: pipeline ${k} is ${String(pipeline[k])}, the checkpoint used ${String(prev.pipeline[k])}`);
    }
    for (const k of ['seqLen', 'batchSize', 'seed'] as const) {
      if (prev.training[k] !== training[k]) throw new MismatchError(`cannot resume: ${k} is ${training[k]}, the checkpoint used ${prev.training[k]}`);
    }
    if (prev.data.fingerprint !== fingerprint) throw new MismatchError('cannot resume: the training or validation data differ from the checkpoint\'s (different files or pipeline settings)');
    if (
      prev.training.learningRate !== learningRate ||
      prev.training.clipNorm !== clipNorm ||
      prev.training.normalizeByLength !== normalizeByLength ||
      (prev.training.lrSchedule ?? 'constant') !== schedule.name ||
      (prev.training.warmupSteps ?? 0) !== schedule.warmupSteps ||
      (prev.training.lrSchedule !== undefined && prev.training.minLearningRate !== schedule.minLearningRate)
    ) {
      notice('resuming with a different --lr, --lr-schedule, --warmup, --min-lr, --clip or length normalisation: the run continues, but no longer matches an uninterrupted one');
    }
    if (schedule.name === 'cosine' && steps > schedule.totalSteps) {
      notice(`the cosine schedule keeps its length of ${schedule.totalSteps} steps from the run's start: steps after it train at --min-lr ${schedule.minLearningRate}`);
    }
  }

  if (options.signal?.aborted && !prev) throw new WavelmError('EINTERRUPTED', 'interrupted before training started; nothing to save');

  // ---- model ----
  mkdirSync(outDir, { recursive: true });
  const factory = options.createTrainer ?? createTrainer;
  const trainer = await factory(model, { seed, workers: options.workers });
  try {
    let step = 0;
    let rng = new TrainingRng(seed);
    let acc: LogAccumulator = { loss: 0, gradNorm: 0, count: 0 };
    let trainSeconds = 0;
    let lastLoss: number | null = null;
    let lastValidLoss: number | null = null;
    if (ckpt && prev) {
      restoreTrainer(trainer, ckpt);
      step = prev.step;
      rng = TrainingRng.fromState(prev.data.rng);
      acc = { ...prev.log };
      trainSeconds = prev.trainSeconds;
      lastLoss = prev.lastLoss;
      lastValidLoss = prev.lastValidLoss;
      notice(`resuming ${outDir} at step ${step} from ${ckpt.dir}`);
    }
    const sampler = new BatchSampler(train, batchSize, seqLen, rng);
    const opt: OptimizerConfig = { learningRate, beta1: 0.9, beta2: 0.999, eps: 1e-8, clipNorm: clipNorm > 0 ? clipNorm : undefined, normalizeByLength };
    const bytesPerToken = bitDepth / 8;
    const bpb = (loss: number) => loss / seqLen / Math.LN2 / bytesPerToken;
    const validUnigram = valid.numChunks > 0 ? unigramEntropyBits(valid.tokens, valid.vocabSize) / bytesPerToken : null;

    const sink = options.sink ?? (options.wandb ? createWandbSink({ ...options.wandb, runDir: outDir, notice }) : undefined);
    const onCadence = (p: Record<string, number>): boolean =>
      'train/loss' in p ? p.step! % logEvery === 0 : 'valid/loss' in p ? evalEvery > 0 && p.step! % evalEvery === 0 : true;
    const log = new RunLog(outDir, { resumeStep: prev ? step : undefined, keepAtResume: onCadence, sink, title: `wavelm train: ${outDir}` });
    const runFacts: Record<string, MetricValue> = {
      'dataset/num_files': numFiles,
      'dataset/use_16bit': bitDepth === 16,
      'dataset/blocking_size': pipeline.blockingSize,
      'dataset/total_chunks': train.numChunks + valid.numChunks,
      'dataset/vocab_size': model.vocabSize,
      'model/total_parameters': trainer.numParams,
      'model/embedding_dim': model.embeddingDim,
      'model/num_layers': model.numLayers,
      'model/num_heads': model.numHeads,
      'optimizer/learning_rate': learningRate,
      'optimizer/lr_schedule': schedule.name,
      'optimizer/warmup_steps': schedule.warmupSteps,
    };
    log.config(runFacts);
    log.writeConfig({
      wavelm: 'train',
      outDir,
      model,
      numParams: trainer.numParams,
      pipeline,
      training: { ...training, steps, logEvery, evalEvery, evalSequences, checkpointEvery, keepCheckpoints: keep, validFraction, workers: trainer.workers },
      dataset: { numFiles, trainChunks: train.numChunks, validChunks: valid.numChunks, chunkTokens: train.chunkTokens, validSource, skippedFiles, fingerprint, validUnigramBitsPerByte: validUnigram },
      sources: { files: options.files, manifest: options.manifest, validFiles: options.validFiles },
      resumedFrom: prev ? step : undefined,
      wandb: options.wandb ? { project: options.wandb.project, runName: options.wandb.runName } : undefined,
      runFacts,
    });
    log.facts = {
      model: `d=${model.embeddingDim} layers=${model.numLayers} heads=${model.numHeads} ${model.positionalEncoding}, ${trainer.numParams} parameters`,
      data: `${train.numChunks} train / ${valid.numChunks} valid chunks of ${train.chunkTokens} tokens, ${bitDepth}-bit ${pipeline.conversion}`,
      training: `batch ${batchSize} x ${seqLen}, lr ${learningRate}${scheduleText(schedule)}, clip ${clipNorm || 'off'}, seed ${seed}`,
      ...(validUnigram !== null ? { 'valid unigram entropy (bits/byte)': validUnigram.toFixed(4) } : {}),
    };

    const evals: EvalPoint[] = log.history.filter((p) => typeof p['valid/loss'] === 'number').map((p) => ({ step: p.step, loss: p['valid/loss']!, bitsPerByte: p['valid/bits_per_byte']! }));
    const evaluate = async (): Promise<void> => {
      if (evalSet.length === 0) return;
      let sum = 0;
      let rows = 0;
      for (const b of evalSet) {
        sum += (await trainer.evaluate(b)) * b.batchSize;
        rows += b.batchSize;
      }
      const loss = sum / rows;
      lastValidLoss = loss;
      const point: Record<string, number> = { 'valid/loss': loss, 'valid/bits_per_byte': bpb(loss) };
      if (bitDepth === 16) point['valid/bits_per_sample'] = bpb(loss) * 2;
      log.log(step, point);
      evals.push({ step, loss, bitsPerByte: bpb(loss) });
    };
    const checkpoint = (): string =>
      writeCheckpoint(
        outDir,
        trainer,
        {
          format: 'wavelm-checkpoint',
          version: 1,
          step,
          model,
          numParams: trainer.numParams,
          pipeline,
          training,
          data: { fingerprint, trainChunks: train.numChunks, validChunks: valid.numChunks, rng: rng.getState() },
          log: { ...acc },
          lastLoss,
          lastValidLoss,
          trainSeconds,
          createdAt: new Date().toISOString(),
        },
        keep,
      );

    let lastCheckpoint: string | null = ckpt?.dir ?? null;
    let checkpointStep = prev ? step : -1;
    let evalStep = evals.length > 0 ? evals[evals.length - 1]!.step : -1;
    let interrupted = false;
    const startStep = step;
    const tokensPerStep = batchSize * seqLen;
    let intervalStart = performance.now();
    let intervalTokens = 0;
    let tokensPerSecond = 0;

    progress.start(steps, 'train');
    if (step > 0) progress.tick(Math.min(step, steps));
    if (step >= steps) notice(`the checkpoint is at step ${step}, --steps is ${steps}: nothing to train (raise --steps to continue)`);
    while (step < steps) {
      // A single-threaded trainer resolves its promises at once; without a macrotask turn here, signal
      // handlers (Ctrl-C) and timers would never run during training.
      await new Promise<void>((r) => setImmediate(r));
      if (options.signal?.aborted) {
        interrupted = true;
        break;
      }
      const batch: TokenBatch = sampler.next();
      const t0 = performance.now();
      opt.learningRate = learningRateAt(step + 1, schedule);
      const r = await trainer.step(batch, opt);
      trainSeconds += (performance.now() - t0) / 1000;
      step++;
      intervalTokens += tokensPerStep;
      lastLoss = r.loss;
      acc.loss += r.loss;
      acc.gradNorm += r.gradNorm;
      acc.count++;
      if (!Number.isFinite(r.loss)) notice(`step ${step}: the loss is ${r.loss}; lower --lr or set --clip`);
      if (step % logEvery === 0 || step === steps) {
        const { loss, gradNorm } = logInterval(acc);
        const secs = (performance.now() - intervalStart) / 1000;
        tokensPerSecond = secs > 0 ? intervalTokens / secs : 0;
        const point: Record<string, number> = {
          'train/loss': loss,
          'train/bits_per_byte': bpb(loss),
          'train/grad_norm': gradNorm,
          'train/tokens_per_s': tokensPerSecond,
          'train/learning_rate': opt.learningRate,
        };
        if (bitDepth === 16) point['train/bits_per_sample'] = bpb(loss) * 2;
        log.log(step, point);
        // A final partial interval is logged but kept open, so a resumed run averages it like an uninterrupted one.
        if (step % logEvery === 0) acc = { loss: 0, gradNorm: 0, count: 0 };
        intervalStart = performance.now();
        intervalTokens = 0;
      }
      progress.tick(1, { loss: r.loss.toFixed(2), bpb: bpb(r.loss).toFixed(3), tok_s: Math.round(tokensPerSecond || tokensPerStep / Math.max(1e-9, (performance.now() - t0) / 1000)) });
      const pauseStart = performance.now();
      if (evalEvery > 0 && step % evalEvery === 0) {
        await evaluate();
        evalStep = step;
        log.refreshPlot();
      }
      if (checkpointEvery > 0 && step % checkpointEvery === 0) {
        lastCheckpoint = checkpoint();
        checkpointStep = step;
        log.refreshPlot();
      }
      // tokens/s measures training only: evaluation and checkpoint time is left out of the interval.
      intervalStart += performance.now() - pauseStart;
      if (options.signal?.aborted) {
        interrupted = true;
        break;
      }
    }
    progress.stop();
    if (!interrupted && evalStep !== step && step > startStep) await evaluate();
    if (checkpointStep !== step) lastCheckpoint = checkpoint();
    if (!interrupted) log.summary({ 'train/final_loss': lastLoss ?? NaN, 'train/total_steps': step });
    await log.close();
    if (interrupted) notice(`interrupted at step ${step}; checkpoint written to ${lastCheckpoint}; continue with --resume`);
    return {
      outDir,
      step,
      steps,
      interrupted,
      resumedFrom: prev ? startStep : undefined,
      finalLoss: lastLoss,
      finalBitsPerByte: lastLoss === null ? null : bpb(lastLoss),
      validLoss: lastValidLoss,
      validBitsPerByte: lastValidLoss === null ? null : bpb(lastValidLoss),
      validUnigramBitsPerByte: validUnigram,
      evals,
      tokensPerSecond: trainSeconds > 0 ? ((step - startStep) * tokensPerStep) / Math.max(1e-9, trainSeconds - (prev?.trainSeconds ?? 0)) : 0,
      trainSeconds,
      checkpoint: lastCheckpoint,
      model,
      numParams: trainer.numParams,
      pipeline,
      training,
      dataset: { numFiles, trainChunks: train.numChunks, validChunks: valid.numChunks, skippedFiles, validSource },
    };
  } finally {
    await trainer.dispose();
  }
}

/** ', cosine to 1e-5 over 1000 steps, warm-up 50' and the like, for the run's summary line. */
function scheduleText(s: LrSchedule): string {
  const warm = s.warmupSteps > 0 ? `, warm-up ${s.warmupSteps}` : '';
  return s.name === 'cosine' ? `, cosine to ${s.minLearningRate} over ${s.totalSteps} steps${warm}` : warm;
}
