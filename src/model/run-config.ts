/**
 * A run's config.json, read back: `train --resume` takes every setting the run recorded as its
 * default, so a resumed run trains to the steps, and logs, evaluates and checkpoints on the cadence,
 * it was started with. (Settings that decide the next step, such as the model, the learning rate and
 * the seed, come from the checkpoint itself.)
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError } from '../util/errors.js';
import {
  optionName,
  TRAINING_OPTIONS,
  TRAINING_OPTION_NAMES,
  type OptionLabel,
  type SectionOptionName,
  type TrainingOptionValues,
} from './training/options.js';

/**
 * The run settings config.json records beside the checkpoint's: TRAINING_OPTIONS' 'run' section (absent in runs that did
 * not record them).
 */
export type RecordedRunSettings = Partial<Pick<TrainingOptionValues, RunOptionName>> & {
  sources?: { files?: string[]; manifest?: string; validFiles?: string[] };
};

type RunOptionName = SectionOptionName<'run'>;

const RUN_OPTION_NAMES = TRAINING_OPTION_NAMES.filter((name): name is RunOptionName => TRAINING_OPTIONS[name].section === 'run');

/** The recorded settings of the run in `runDir` ({} when it has no config.json); messages name options as `label` calls them. */
export function readRunSettings(runDir: string, label: OptionLabel = optionName): RecordedRunSettings {
  const path = join(runDir, 'config.json');
  if (!existsSync(path)) return {};
  let cfg: { training?: Record<string, unknown>; sources?: RecordedRunSettings['sources'] };
  try {
    cfg = JSON.parse(readFileSync(path, 'utf8')) as typeof cfg;
  } catch (e) {
    throw new FormatError(
      `${path}: not valid JSON; fix it, or pass every setting (${label('steps')}, ${label('files')}, ...) when resuming`,
      { subject: path, cause: e },
    );
  }
  const out: RecordedRunSettings = {};
  for (const k of RUN_OPTION_NAMES) {
    const v = cfg.training?.[k];
    if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  }
  if (cfg.sources) out.sources = cfg.sources;
  return out;
}
