/**
 * A run's settings, resolved from TRAINING_OPTIONS (options.ts): each one is the value given, else the
 * value the resumed run used (its checkpoint, or its config.json for the 'run' section), else the default;
 * then checked against the values the table allows. Messages name a setting through `label`.
 */
import { ConfigError } from '../../util/errors.js';
import { describeRange, inRange } from '../../util/range.js';
import type { TransformerConfig } from '../api.js';
import type { CheckpointState, PipelineSettings } from '../checkpoint.js';
import { createAudioTransformerConfig, type SettingLabel } from '../config.js';
import type { RecordedRunSettings } from '../run-config.js';
import { validateSchedule, type LrSchedule } from '../schedule.js';
import {
  optionName,
  TRAINING_OPTIONS,
  TRAINING_OPTION_NAMES,
  type OptionLabel,
  type OptionValue,
  type ResolvedOptions,
  type SectionOptionName,
  type TrainingOption,
  type TrainingOptionName,
  type TrainingOptionValues,
} from './options.js';

/** The settings as trainAudioTransformer takes them: flat, except the model's under `model`. */
export type GivenOptions = Partial<Omit<TrainingOptionValues, SectionOptionName<'model'>>> & {
  /** Model settings over LMIC's defaults (d 64, 4 layers, 8 heads, widening 4, sinusoidal), or over a resumed run's model. */
  model?: { [K in keyof Omit<TransformerConfig, 'vocabSize'>]?: TransformerConfig[K] | undefined };
};

/** What a resumed run recorded: its checkpoint's state and its config.json's run settings. */
export interface ResumedRun {
  state: CheckpointState;
  recorded: RecordedRunSettings;
}

/** Everything the loop needs that does not depend on the data. */
export interface RunSettings {
  options: ResolvedOptions;
  pipeline: PipelineSettings;
  model: TransformerConfig;
  schedule: LrSchedule;
}

function givenValue(given: GivenOptions, name: TrainingOptionName): unknown {
  if (TRAINING_OPTIONS[name].section === 'model') return given.model?.[name as SectionOptionName<'model'>];
  return given[name as Exclude<TrainingOptionName, SectionOptionName<'model'>>];
}

/** The value the resumed run used for a setting (undefined: not recorded, or not resumed). */
export function resumedValue(run: ResumedRun | undefined, name: TrainingOptionName): unknown {
  if (!run) return undefined;
  const section = TRAINING_OPTIONS[name].section;
  const values: object | undefined = section === 'run' ? run.recorded : section === 'process' ? undefined : run.state[section];
  return values === undefined ? undefined : (values as Record<string, unknown>)[name];
}

/** What a value must be, or undefined when it is one of the values the table allows. */
function valueProblem(v: unknown, allowed: OptionValue): string | undefined {
  switch (allowed.type) {
    case 'switch':
      return typeof v === 'boolean' ? undefined : 'true or false';
    case 'choice':
      return allowed.choices.includes(v as string | number) ? undefined : `one of ${allowed.choices.join(', ')}`;
    case 'integer':
      return typeof v === 'number' && Number.isSafeInteger(v) && inRange(v, allowed.range)
        ? undefined
        : describeRange('an integer', allowed.range);
    case 'number':
      return typeof v === 'number' && Number.isFinite(v) && inRange(v, allowed.range)
        ? undefined
        : describeRange('a number', allowed.range);
  }
}

/** Refuses a value the table does not allow for the setting. */
export function checkOptionValue(name: TrainingOptionName, value: unknown, label: OptionLabel): void {
  const problem = valueProblem(value, TRAINING_OPTIONS[name].value);
  if (problem) throw new ConfigError(`${label(name)} must be ${problem}, got ${String(value)}`, { subject: name });
}

/** Each setting: given, else resumed, else its default; checked unless still open. */
export function resolveOptions(given: GivenOptions, run: ResumedRun | undefined, label: OptionLabel): ResolvedOptions {
  const resolved: Partial<Record<TrainingOptionName, unknown>> = {};
  for (const name of TRAINING_OPTION_NAMES) {
    const declared: TrainingOption = TRAINING_OPTIONS[name];
    const value = givenValue(given, name) ?? resumedValue(run, name) ?? declared.default;
    if (value !== undefined) checkOptionValue(name, value, label);
    resolved[name] = value;
  }
  return resolved as ResolvedOptions;
}

function pipelineOf(o: ResolvedOptions, label: OptionLabel): PipelineSettings {
  if (o.bitDepth === 16 && o.chunkSizeBytes % 2 !== 0)
    throw new ConfigError(`16-bit needs an even ${label('chunkSizeBytes')}, got ${o.chunkSizeBytes}`);
  return { bitDepth: o.bitDepth, conversion: o.conversion, blockingSize: o.blockingSize, chunkSizeBytes: o.chunkSizeBytes };
}

function definedEntries<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Names the model's settings: those that are training options as `label` names them, the others (vocabSize,
 * embInitScale) by their own names.
 */
function modelSettingLabel(label: OptionLabel): SettingLabel {
  return (setting) => (isTrainingOption(setting) ? label(setting) : setting);
}

function isTrainingOption(name: string): name is TrainingOptionName {
  return Object.hasOwn(TRAINING_OPTIONS, name);
}

/** LMIC's model defaults for a bit depth (vocabulary 256 or 65536); messages name options as `label` calls them. */
export function defaultModelConfig(
  bitDepth: 8 | 16,
  overrides: Partial<Omit<TransformerConfig, 'vocabSize'>> = {},
  label: OptionLabel = optionName,
): TransformerConfig {
  return createAudioTransformerConfig({ bitDepth, ...definedEntries(overrides) }, modelSettingLabel(label));
}

/** The model: a resumed run's with the table's settings over it, else LMIC's defaults with them. */
function modelOf(o: ResolvedOptions, given: GivenOptions, run: ResumedRun | undefined, label: OptionLabel): TransformerConfig {
  const settings = {
    embeddingDim: o.embeddingDim,
    numLayers: o.numLayers,
    numHeads: o.numHeads,
    wideningFactor: o.wideningFactor,
    positionalEncoding: o.positionalEncoding,
  };
  if (o.embeddingDim % o.numHeads !== 0)
    throw new ConfigError(`${label('embeddingDim')} ${o.embeddingDim} must be a multiple of ${label('numHeads')} ${o.numHeads}`);
  const overrides = { ...definedEntries(given.model ?? {}), ...settings };
  const model = run ? { ...run.state.model, ...overrides } : defaultModelConfig(o.bitDepth, overrides, label);
  if (model.vocabSize !== (o.bitDepth === 16 ? 65536 : 256))
    throw new ConfigError(`vocabulary ${model.vocabSize} does not fit ${o.bitDepth}-bit tokens`);
  return model;
}

/** The learning-rate schedule; a resumed run keeps the length of the schedule it started with. */
function scheduleOf(o: ResolvedOptions, run: ResumedRun | undefined, label: OptionLabel): LrSchedule {
  return validateSchedule(
    {
      name: o.lrSchedule,
      learningRate: o.learningRate,
      warmupSteps: o.warmupSteps,
      minLearningRate: o.minLearningRate ?? o.learningRate / 10,
      totalSteps: run?.state.training.scheduleSteps ?? o.steps,
    },
    label,
  );
}

/** The run's settings before its data is read (the sequence length defaults to the data's chunk). */
export function resolveRunSettings(given: GivenOptions, run: ResumedRun | undefined, label: OptionLabel): RunSettings {
  const options = resolveOptions(given, run, label);
  return {
    options,
    pipeline: pipelineOf(options, label),
    model: modelOf(options, given, run, label),
    schedule: scheduleOf(options, run, label),
  };
}
