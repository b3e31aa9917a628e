/**
 * The settings of a training run, each declared once: its name (the key of `trainAudioTransformer`'s
 * options), the `wavelm train` flag and help, the values it takes, its default, and what a resumed run
 * does with it. The library resolves and checks settings from this table (settings.ts, resume.ts); the
 * CLI derives its options and parsers from it (src/cli/train.ts), so it imports nothing at run time:
 * `wavelm train --help` reads it without loading the library.
 */
import type { PositionalEncoding } from '../api.js';
import type { Range } from '../../util/range.js';
import type { LrScheduleName } from '../schedule.js';

export type { Range };

export type OptionValue =
  | { type: 'integer'; range: Range }
  | { type: 'number'; range: Range }
  | { type: 'choice'; choices: readonly (string | number)[] }
  | { type: 'switch' };

/**
 * Where a setting lives, which decides what a resumed run does when it is not given:
 * - 'pipeline', 'model', 'training': the checkpoint's state holds it, and the run continues with it;
 * - 'run': the run's config.json holds it (how long to train, how often to log), and the run keeps it;
 * - 'process': how this process runs (worker threads); never taken from the run.
 * Model settings are given under `model` in trainAudioTransformer's options.
 */
export type OptionSection = 'pipeline' | 'model' | 'training' | 'run' | 'process';

export interface TrainingOption {
  /** The `wavelm train` flag, with its value's placeholder. */
  flag: string;
  help: string;
  value: OptionValue;
  /** Absent where the default depends on other settings or the data; `defaultText` then says what it is. */
  default?: number | string | boolean;
  defaultText?: string;
  section: OptionSection;
  /**
   * A resumed run given another value than its checkpoint's: 'refuse' where the next step would no longer
   * follow from the checkpoint (a different model, pipeline or batch stream), 'notice' where the run can go
   * on but stops matching an uninterrupted one.
   */
  onResumeChange?: 'refuse' | 'notice';
}

const positive = { type: 'integer', range: { min: 1 } } as const;
const nonNegative = { type: 'integer', range: { min: 0 } } as const;

export const TRAINING_OPTIONS = {
  validFraction: {
    flag: '--valid-fraction <f>',
    help: 'share of --files held out for validation when --valid is not given',
    value: { type: 'number', range: { min: 0, below: 1 } },
    default: 0.1,
    section: 'run',
  },
  bitDepth: {
    flag: '--bit-depth <n>',
    help: 'token bit depth: 8 (vocab 256) or 16 (vocab 65536)',
    value: { type: 'choice', choices: [8, 16] as const },
    default: 8,
    section: 'pipeline',
    onResumeChange: 'refuse',
  },
  blockingSize: {
    flag: '--blocking-size <n>',
    help: 'stereo block size in samples per channel',
    value: positive,
    default: 1024,
    section: 'pipeline',
    onResumeChange: 'refuse',
  },
  conversion: {
    flag: '--conversion <mode>',
    help: 'sample conversion',
    value: { type: 'choice', choices: ['lmic', 'seed-float', 'exact'] as const },
    default: 'exact',
    section: 'pipeline',
    onResumeChange: 'refuse',
  },
  chunkSizeBytes: {
    flag: '--chunk-size <bytes>',
    help: 'chunk size in bytes',
    value: positive,
    default: 2048,
    section: 'pipeline',
    onResumeChange: 'refuse',
  },
  seqLen: {
    flag: '--seq-len <n>',
    help: 'tokens per training sequence',
    value: positive,
    defaultText: 'a whole chunk',
    section: 'training',
    onResumeChange: 'refuse',
  },
  batchSize: {
    flag: '--batch-size <n>',
    help: 'sequences per step',
    value: positive,
    default: 8,
    section: 'training',
    onResumeChange: 'refuse',
  },
  steps: { flag: '--steps <n>', help: 'total training steps', value: positive, default: 1000, section: 'run' },
  learningRate: {
    flag: '--lr <x>',
    help: 'Adam learning rate, the peak of a schedule',
    value: { type: 'number', range: { above: 0 } },
    default: 1e-4,
    section: 'training',
    onResumeChange: 'notice',
  },
  lrSchedule: {
    flag: '--lr-schedule <name>',
    help: 'learning-rate schedule: constant, or cosine decay to --min-lr at --steps',
    value: { type: 'choice', choices: ['constant', 'cosine'] as const satisfies readonly LrScheduleName[] },
    default: 'constant',
    section: 'training',
    onResumeChange: 'notice',
  },
  warmupSteps: {
    flag: '--warmup <steps>',
    help: 'linear learning-rate warm-up steps',
    value: nonNegative,
    default: 0,
    section: 'training',
    onResumeChange: 'notice',
  },
  minLearningRate: {
    flag: '--min-lr <x>',
    help: 'where the cosine schedule ends',
    value: { type: 'number', range: { min: 0 } },
    defaultText: '--lr / 10',
    section: 'training',
    onResumeChange: 'notice',
  },
  clipNorm: {
    flag: '--clip <x>',
    help: 'clip the global gradient norm to x; 0 = off',
    value: { type: 'number', range: { min: 0 } },
    default: 0,
    section: 'training',
    onResumeChange: 'notice',
  },
  normalizeByLength: {
    flag: '--normalize-by-length',
    help: "divide the gradient by the sequence length (LMIC's option)",
    value: { type: 'switch' },
    default: false,
    section: 'training',
    onResumeChange: 'notice',
  },
  logEvery: { flag: '--log-every <n>', help: 'steps between logged training points', value: positive, default: 10, section: 'run' },
  evalEvery: {
    flag: '--eval-every <n>',
    help: 'steps between validation evaluations; 0 = only at the end',
    value: nonNegative,
    default: 100,
    section: 'run',
  },
  evalSequences: {
    flag: '--eval-sequences <n>',
    help: 'validation sequences per evaluation',
    value: positive,
    default: 64,
    section: 'run',
  },
  checkpointEvery: {
    flag: '--checkpoint-every <n>',
    help: 'steps between checkpoints; 0 = only at the end',
    value: nonNegative,
    default: 500,
    section: 'run',
  },
  keepCheckpoints: {
    flag: '--keep-checkpoints <n>',
    help: 'how many checkpoints to keep; 0 = all',
    value: nonNegative,
    default: 3,
    section: 'run',
  },
  seed: {
    flag: '--seed <n>',
    help: 'seed for initialisation and batches',
    value: nonNegative,
    default: 0,
    section: 'training',
    onResumeChange: 'refuse',
  },
  workers: {
    flag: '--workers <n>',
    help: 'worker threads; results are identical for any value',
    value: positive,
    defaultText: 'CPU cores',
    section: 'process',
  },
  embeddingDim: {
    flag: '--embedding-dim <n>',
    help: 'model width',
    value: positive,
    default: 64,
    section: 'model',
    onResumeChange: 'refuse',
  },
  numLayers: {
    flag: '--num-layers <n>',
    help: 'transformer layers',
    value: positive,
    default: 4,
    section: 'model',
    onResumeChange: 'refuse',
  },
  numHeads: { flag: '--num-heads <n>', help: 'attention heads', value: positive, default: 8, section: 'model', onResumeChange: 'refuse' },
  wideningFactor: {
    flag: '--widening-factor <n>',
    help: 'FFN width multiple',
    value: positive,
    default: 4,
    section: 'model',
    onResumeChange: 'refuse',
  },
  positionalEncoding: {
    flag: '--positional <kind>',
    help: 'positional encoding',
    value: { type: 'choice', choices: ['sinusoidal', 'rotary'] as const satisfies readonly PositionalEncoding[] },
    default: 'sinusoidal',
    section: 'model',
    onResumeChange: 'refuse',
  },
} as const satisfies Record<string, TrainingOption>;

export type TrainingOptionName = keyof typeof TRAINING_OPTIONS;

type Declared<K extends TrainingOptionName> = (typeof TRAINING_OPTIONS)[K];
type ValueOf<V> = V extends { type: 'switch' } ? boolean : V extends { choices: readonly (infer C)[] } ? C : number;

/** Each setting's type, as trainAudioTransformer takes it. */
export type TrainingOptionValues = { [K in TrainingOptionName]: ValueOf<Declared<K>['value']> };

/** The settings after defaults: those without a fixed default may still be open (see `defaultText`). */
export type ResolvedOptions = {
  [K in TrainingOptionName]: Declared<K> extends { default: unknown } ? TrainingOptionValues[K] : TrainingOptionValues[K] | undefined;
};

/** The settings of one section (model settings are given as `model: {...}`). */
export type SectionOptionName<S extends OptionSection> = {
  [K in TrainingOptionName]: Declared<K>['section'] extends S ? K : never;
}[TrainingOptionName];

export const TRAINING_OPTION_NAMES = Object.keys(TRAINING_OPTIONS) as TrainingOptionName[];

/** The options of trainAudioTransformer that messages name: the settings above and where the data and run are. */
export type OptionName = TrainingOptionName | 'files' | 'manifest' | 'validFiles' | 'outDir' | 'resume';

/** How a message names an option; the library names it as above, the CLI passes its flag. */
export type OptionLabel = (option: OptionName) => string;

/** The library's own label: the option's name in trainAudioTransformer's options. */
export const optionName: OptionLabel = (option) => option;
