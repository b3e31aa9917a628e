/**
 * Learning-rate schedules for training: constant, or cosine decay, either after an optional linear
 * warm-up. A rate depends only on the step number and the settings, so a resumed run follows the same
 * rates as an uninterrupted one.
 */
import { ConfigError } from '../util/errors.js';
import { optionName, type OptionLabel, type OptionName } from './training/options.js';

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

/**
 * Checks a schedule's settings. Messages name the training option to change (`minLearningRate`, ...), or
 * what `label` calls it (the CLI: its flag).
 */
export function validateSchedule(s: LrSchedule, label: OptionLabel = optionName): LrSchedule {
  const fail = (option: OptionName, problem: string) => new ConfigError(`${label(option)} ${problem}`, { subject: option });
  if (!LR_SCHEDULES.includes(s.name)) throw fail('lrSchedule', `must be one of ${LR_SCHEDULES.join(', ')}, got ${String(s.name)}`);
  if (!(s.learningRate > 0)) throw fail('learningRate', `must be positive, got ${s.learningRate}`);
  if (!(Number.isInteger(s.warmupSteps) && s.warmupSteps >= 0))
    throw fail('warmupSteps', `must be a whole number of steps, got ${s.warmupSteps}`);
  if (!(s.minLearningRate >= 0 && s.minLearningRate <= s.learningRate)) {
    throw fail('minLearningRate', `must be between 0 and ${label('learningRate')} (${s.learningRate}), got ${s.minLearningRate}`);
  }
  if (!(Number.isInteger(s.totalSteps) && s.totalSteps > 0))
    throw fail('steps', `must be a positive number of steps for the schedule, got ${s.totalSteps}`);
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
