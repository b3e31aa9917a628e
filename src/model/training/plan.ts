/** What a run settled before its first step: where it writes, its settings, its data, and the checkpoint it continues. */
import type { TokenBatch } from '../api.js';
import type { TrainingSettings } from '../checkpoint.js';
import type { ResumedCheckpoint } from './resume.js';
import type { RunData } from './run-data.js';
import type { RunSettings } from './settings.js';

export interface TrainingPlan {
  outDir: string;
  settings: RunSettings;
  /** The settings a checkpoint records (the sequence length resolved against the data). */
  training: TrainingSettings;
  data: RunData;
  /** The fixed validation batches (empty: evaluation is off). */
  evalSet: TokenBatch[];
  resumed?: ResumedCheckpoint;
}

/** Bits per byte of a loss (nats per sequence): per token over ln 2, halved for 16-bit tokens. */
export function bitsPerByte(plan: TrainingPlan, loss: number): number {
  return loss / plan.training.seqLen / Math.LN2 / (plan.settings.pipeline.bitDepth / 8);
}
