/**
 * A run's logs as it starts: metrics.jsonl and the event files (cut back to the checkpoint on resume),
 * config.json with every resolved setting, the run facts W&B shows, and the loss plot's caption.
 */
import type { Trainer } from '../api.js';
import type { LrSchedule } from '../schedule.js';
import { RunLog, type MetricsSink, type MetricValue } from '../logging.js';
import { createWandbSink, type WandbOptions } from '../wandb.js';
import type { TrainingPlan } from './plan.js';

export interface RunLogSources {
  files?: string[];
  manifest?: string;
  validFiles?: string[];
  wandb?: Omit<WandbOptions, 'runDir' | 'notice'>;
  /** Where metrics go besides the local files (replaces W&B). */
  sink?: MetricsSink;
}

/** The keys docs/training.md lists for W&B's run config. */
function runFacts(plan: TrainingPlan, trainer: Trainer): Record<string, MetricValue> {
  const { settings, data } = plan;
  const { model, schedule } = settings;
  return {
    'dataset/num_files': data.numFiles,
    'dataset/use_16bit': settings.pipeline.bitDepth === 16,
    'dataset/blocking_size': settings.pipeline.blockingSize,
    'dataset/total_chunks': data.train.numChunks + data.valid.numChunks,
    'dataset/vocab_size': model.vocabSize,
    'model/total_parameters': trainer.numParams,
    'model/embedding_dim': model.embeddingDim,
    'model/num_layers': model.numLayers,
    'model/num_heads': model.numHeads,
    'optimizer/learning_rate': schedule.learningRate,
    'optimizer/lr_schedule': schedule.name,
    'optimizer/warmup_steps': schedule.warmupSteps,
  };
}

/** config.json: what the run was started with, read back by a resume (run-config.ts) and by people. */
function runConfig(plan: TrainingPlan, trainer: Trainer, sources: RunLogSources, facts: Record<string, MetricValue>): unknown {
  const { outDir, settings, training, data } = plan;
  const o = settings.options;
  const run = {
    steps: o.steps,
    logEvery: o.logEvery,
    evalEvery: o.evalEvery,
    evalSequences: o.evalSequences,
    checkpointEvery: o.checkpointEvery,
  };
  return {
    wavelm: 'train',
    outDir,
    model: settings.model,
    numParams: trainer.numParams,
    pipeline: settings.pipeline,
    training: { ...training, ...run, keepCheckpoints: o.keepCheckpoints, validFraction: o.validFraction, workers: trainer.workers },
    dataset: {
      numFiles: data.numFiles,
      trainChunks: data.train.numChunks,
      validChunks: data.valid.numChunks,
      chunkTokens: data.train.chunkTokens,
      validSource: data.validSource,
      skippedFiles: data.skippedFiles,
      fingerprint: data.fingerprint,
      validUnigramBitsPerByte: data.validUnigramBitsPerByte,
    },
    sources: { files: sources.files, manifest: sources.manifest, validFiles: sources.validFiles },
    resumedFrom: plan.resumed?.state.step,
    wandb: sources.wandb ? { project: sources.wandb.project, runName: sources.wandb.runName } : undefined,
    runFacts: facts,
  };
}

/** ', cosine to 1e-5 over 1000 steps, warm-up 50' and the like, for the run's summary line. */
function scheduleText(s: LrSchedule): string {
  const warm = s.warmupSteps > 0 ? `, warm-up ${s.warmupSteps}` : '';
  return s.name === 'cosine' ? `, cosine to ${s.minLearningRate} over ${s.totalSteps} steps${warm}` : warm;
}

/** The loss plot's caption. */
function plotFacts(plan: TrainingPlan, trainer: Trainer): Record<string, string> {
  const { settings, training, data } = plan;
  const { model, pipeline, schedule } = settings;
  const unigram = data.validUnigramBitsPerByte;
  return {
    model:
      `d=${model.embeddingDim} layers=${model.numLayers} heads=${model.numHeads} ${model.positionalEncoding}, ${trainer.numParams} ` +
      'parameters',
    data:
      `${data.train.numChunks} train / ${data.valid.numChunks} valid chunks of ${data.train.chunkTokens} tokens, ` +
      `${pipeline.bitDepth}-bit ${pipeline.conversion}`,
    training:
      `batch ${training.batchSize} x ${training.seqLen}, lr ${training.learningRate}${scheduleText(schedule)}, clip ` +
      `${training.clipNorm || 'off'}, seed ${training.seed}`,
    ...(unigram !== null ? { 'valid unigram entropy (bits/byte)': unigram.toFixed(4) } : {}),
  };
}

/** Opens the run's logs; a resumed run keeps the points up to its checkpoint that fall on the run's cadence. */
export function openRunLog(plan: TrainingPlan, trainer: Trainer, sources: RunLogSources, notice: (message: string) => void): RunLog {
  const { outDir } = plan;
  const { logEvery, evalEvery } = plan.settings.options;
  const sink = sources.sink ?? (sources.wandb ? createWandbSink({ ...sources.wandb, runDir: outDir, notice }) : undefined);
  const onCadence = (p: Record<string, number>): boolean =>
    'train/loss' in p ? p.step! % logEvery === 0 : 'valid/loss' in p ? evalEvery > 0 && p.step! % evalEvery === 0 : true;
  const log = new RunLog(outDir, { resumeStep: plan.resumed?.state.step, keepAtResume: onCadence, sink, title: `wavelm train: ${outDir}` });
  const facts = runFacts(plan, trainer);
  log.config(facts);
  log.writeConfig(runConfig(plan, trainer, sources, facts));
  log.facts = plotFacts(plan, trainer);
  return log;
}
