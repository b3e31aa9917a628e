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
 *
 * The steps live in src/model/training/: the settings (options.ts declares them, settings.ts resolves
 * them), the resume checks (resume.ts), the data (run-data.ts), the logs (run-log.ts) and the loop (loop.ts).
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { WavelmError } from '../util/errors.js';
import { silentProgress, type ProgressSink } from '../util/progress.js';
import type { Trainer, TrainerOptions, TransformerConfig } from './api.js';
import type { PipelineSettings, TrainingSettings } from './checkpoint.js';
import type { MetricsSink } from './logging.js';
import { loopStart, TrainingLoop, type EvalPoint, type LoopOutcome } from './training/loop.js';
import { optionName, type OptionLabel } from './training/options.js';
import { bitsPerByte, type TrainingPlan } from './training/plan.js';
import { checkResumedData, checkResumedSettings, openResumedRun } from './training/resume.js';
import { readRunData, trainingSettings, validationBatches, type DataSources } from './training/run-data.js';
import { openRunLog } from './training/run-log.js';
import { resolveRunSettings, type GivenOptions } from './training/settings.js';
import { createTrainer } from './transformer.js';
import type { Conversion } from '../tokens/index.js';

export type { Conversion, EvalPoint };
export { defaultModelConfig } from './training/settings.js';

export type TrainerFactory = (config: TransformerConfig, opts: TrainerOptions) => Promise<Trainer>;

/**
 * The settings of TRAINING_OPTIONS (src/model/training/options.ts: each one's meaning, default and what a
 * resume does with it; model settings under `model`), the data, and where and how the run goes.
 */
export interface TrainAudioTransformerOptions extends GivenOptions, DataSources {
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
  /** One-line messages for the user (skipped files, W&B state, resume). */
  onNotice?: (message: string) => void;
  /** How messages name an option (default: its name in these options; the CLI passes its flag). */
  optionLabel?: OptionLabel;
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

/** Resolves the settings, reads the data and checks a resume against them: everything before the first step. */
async function planRun(
  options: TrainAudioTransformerOptions,
  progress: ProgressSink,
  label: OptionLabel,
  notice: (message: string) => void,
): Promise<TrainingPlan> {
  const outDir = resolve(options.outDir);
  const resumed = openResumedRun(outDir, options.resume, label);
  const settings = resolveRunSettings(options, resumed, label);
  if (resumed) checkResumedSettings(resumed, settings, label, notice);
  const data = await readRunData(options, settings, progress, label, notice);
  const training = trainingSettings(settings, data, label);
  const evalSet = validationBatches(data, training, settings.options.evalSequences, label, notice);
  if (resumed) checkResumedData(resumed, data.fingerprint);
  return { outDir, settings, training, data, evalSet, resumed };
}

function describeRun(plan: TrainingPlan, trainer: Trainer, outcome: LoopOutcome): TrainAudioTransformerResult {
  const { settings, data } = plan;
  const bpb = (loss: number | null) => (loss === null ? null : bitsPerByte(plan, loss));
  return {
    outDir: plan.outDir,
    step: outcome.step,
    steps: settings.options.steps,
    interrupted: outcome.interrupted,
    resumedFrom: plan.resumed ? outcome.startStep : undefined,
    finalLoss: outcome.lastLoss,
    finalBitsPerByte: bpb(outcome.lastLoss),
    validLoss: outcome.lastValidLoss,
    validBitsPerByte: bpb(outcome.lastValidLoss),
    validUnigramBitsPerByte: data.validUnigramBitsPerByte,
    evals: outcome.evals,
    tokensPerSecond: outcome.tokensPerSecond,
    trainSeconds: outcome.trainSeconds,
    checkpoint: outcome.checkpoint,
    model: settings.model,
    numParams: trainer.numParams,
    pipeline: settings.pipeline,
    training: plan.training,
    dataset: {
      numFiles: data.numFiles,
      trainChunks: data.train.numChunks,
      validChunks: data.valid.numChunks,
      skippedFiles: data.skippedFiles,
      validSource: data.validSource,
    },
  };
}

/** Trains the LMIC transformer on audio (see the file comment). */
export async function trainAudioTransformer(
  options: TrainAudioTransformerOptions,
  progress: ProgressSink = silentProgress,
): Promise<TrainAudioTransformerResult> {
  const notice = options.onNotice ?? (() => {});
  const label = options.optionLabel ?? optionName;
  const plan = await planRun(options, progress, label, notice);
  if (options.signal?.aborted && !plan.resumed)
    throw new WavelmError('EINTERRUPTED', 'interrupted before training started; nothing to save');
  mkdirSync(plan.outDir, { recursive: true });
  const factory = options.createTrainer ?? createTrainer;
  const trainer = await factory(plan.settings.model, { seed: plan.training.seed, workers: plan.settings.options.workers });
  try {
    const start = loopStart(plan, trainer, notice);
    const log = openRunLog(plan, trainer, options, notice);
    const outcome = await new TrainingLoop(plan, { trainer, progress, signal: options.signal, notice, label }, log, start).run();
    return describeRun(plan, trainer, outcome);
  } finally {
    await trainer.dispose();
  }
}
