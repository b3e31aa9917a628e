/**
 * Learning-rate schedules for training: constant, or cosine decay, either after an optional linear
 * warm-up. A rate depends only on the step number and the settings, so a resumed run follows the same
 * rates as an uninterrupted one.
 */
import { ConfigError } from '../util/errors.js';

export type LrScheduleName = 'constant' | 'cosine';
export const LR_SCHEDULES: readonly LrScheduleName[] = ['constant', 'cosine'];

export interface LrSchedule {
  name: LrScheduleName;
  /** The peak rate: reached after the warm-up, and held throughout by 'constant'. */
  learningRate: number;
  /** Steps of linear warm-up from learningRate / warmupSteps to learningRate (0: none). */
  warmupSteps: number;
  /** Where 'cosine' ends, at totalSteps (and stays after it). */
  minLearningRate: number;
  /** The length of the schedule: 'cosine' reaches minLearningRate at this step. */
  totalSteps: number;
}

/** Checks a schedule's settings; the message names the CLI option to change. */
export function validateSchedule(s: LrSchedule): LrSchedule {
  if (!LR_SCHEDULES.includes(s.name)) throw new ConfigError(`--lr-schedule must be one of ${LR_SCHEDULES.join(', ')}, got ${String(s.name)}`);
  if (!(s.learningRate > 0)) throw new ConfigError(`--lr must be positive, got ${s.learningRate}`);
  if (!(Number.isInteger(s.warmupSteps) && s.warmupSteps >= 0)) throw new ConfigError(`--warmup must be a whole number of steps, got ${s.warmupSteps}`);
  if (!(s.minLearningRate >= 0 && s.minLearningRate <= s.learningRate)) {
    throw new ConfigError(`--min-lr must be between 0 and --lr (${s.learningRate}), got ${s.minLearningRate}`);
  }
  if (!(Number.isInteger(s.totalSteps) && s.totalSteps > 0)) throw new ConfigError(`the schedule needs a positive number of steps, got ${s.totalSteps}`);
  return s;
}

/** The rate of the step-th update (1 = the first). */
export function learningRateAt(step: number, s: LrSchedule): number {
  if (step <= s.warmupSteps) return (s.learningRate * step) / s.warmupSteps;
  if (s.name === 'constant') return s.learningRate;
  const span = Math.max(1, s.totalSteps - s.warmupSteps);
  const t = Math.min(1, (step - s.warmupSteps) / span);
  // Math.cos: V8's own (fdlibm) implementation, the same on every platform; training's bit-identity
  // across runs and worker counts does not depend on it being correctly rounded
  return s.minLearningRate + 0.5 * (s.learningRate - s.minLearningRate) * (1 + Math.cos(Math.PI * t));
}
