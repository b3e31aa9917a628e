/**
 * Resuming a run: the checkpoint to continue from, and whether the settings and data still let it
 * continue. Each setting's rule (TRAINING_OPTIONS' `onResumeChange`) decides: a different model, pipeline
 * or batch stream is refused; a different optimiser setting is allowed with a notice, because the run then
 * no longer matches an uninterrupted one.
 */
import { resolve } from 'node:path';
import { ConfigError, MismatchError, NotFoundError } from '../../util/errors.js';
import { configDifference, latestCheckpoint, readCheckpoint, resolveCheckpointDir, type LoadedCheckpoint } from '../checkpoint.js';
import { readRunSettings } from '../run-config.js';
import { TRAINING_OPTIONS, TRAINING_OPTION_NAMES, type OptionLabel, type TrainingOption, type TrainingOptionName } from './options.js';
import { resumedValue, type ResumedRun, type RunSettings } from './settings.js';

export interface ResumedCheckpoint extends ResumedRun {
  checkpoint: LoadedCheckpoint;
}

/**
 * The checkpoint `resume` names (true: outDir's latest), with its run's recorded settings; undefined for a
 * new run, which must not start over a run that has checkpoints.
 */
export function openResumedRun(outDir: string, resume: boolean | string | undefined, label: OptionLabel): ResumedCheckpoint | undefined {
  if (!resume) {
    if (latestCheckpoint(outDir)) {
      throw new ConfigError(
        `${outDir} already holds a run with checkpoints; pass ${label('resume')} to continue it or choose another ${label('outDir')}`,
        { subject: outDir },
      );
    }
    return undefined;
  }
  const from = resume === true ? latestCheckpoint(outDir) : resolveCheckpointDir(resume);
  if (!from)
    throw new NotFoundError(`${outDir}: nothing to resume (no checkpoints/latest.json); start without ${label('resume')}`, {
      subject: outDir,
    });
  const checkpoint = readCheckpoint(from);
  // The checkpoint lives in <run>/checkpoints/step-N; its run's config.json holds the rest of the settings.
  return { checkpoint, state: checkpoint.state, recorded: readRunSettings(resolve(checkpoint.dir, '..', '..'), label) };
}

/** The settings given a value other than the checkpoint's, refused or listed by their rule. */
function changedOptions(run: ResumedRun, settings: RunSettings, label: OptionLabel): TrainingOptionName[] {
  const changed: TrainingOptionName[] = [];
  for (const name of TRAINING_OPTION_NAMES) {
    const declared: TrainingOption = TRAINING_OPTIONS[name];
    // Checkpoints from before a setting existed ran with its default.
    const before = resumedValue(run, name) ?? declared.default;
    const now = settings.options[name];
    if (declared.onResumeChange === undefined || before === undefined || before === now) continue;
    if (declared.onResumeChange === 'refuse') {
      throw new MismatchError(`cannot resume: ${label(name)} is ${String(now)}, the checkpoint used ${String(before)}`, { subject: name });
    }
    changed.push(name);
  }
  return changed;
}

function listed(words: string[]): string {
  return words.length > 1 ? `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}` : words.join('');
}

/** Refuses settings the checkpoint cannot continue with; tells what continues but no longer matches. */
export function checkResumedSettings(run: ResumedRun, settings: RunSettings, label: OptionLabel, notice: (message: string) => void): void {
  const changed = changedOptions(run, settings, label);
  const diff = configDifference(run.state.model, settings.model);
  if (diff) throw new MismatchError(`cannot resume: the model differs from the checkpoint's (${diff})`);
  if (changed.length > 0)
    notice(`resuming with a different ${listed(changed.map(label))}: the run continues, but no longer matches an uninterrupted one`);
  const { schedule, options } = settings;
  if (schedule.name === 'cosine' && options.steps > schedule.totalSteps) {
    notice(
      `the cosine schedule keeps its length of ${schedule.totalSteps} steps from the run's start: steps after it train at ` +
        `${label('minLearningRate')} ${schedule.minLearningRate}`,
    );
  }
}

/** Refuses data other than the checkpoint's (its fingerprint covers the chunks of both sets). */
export function checkResumedData(run: ResumedRun, fingerprint: string): void {
  if (run.state.data.fingerprint !== fingerprint) {
    throw new MismatchError(
      "cannot resume: the training or validation data differ from the checkpoint's (different files or pipeline settings)",
    );
  }
}
