/** `wavelm train`: trains the LMIC transformer on audio (src/model/train.ts does the work). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Option } from './commander.js';
import type { Command } from 'commander';
import { ConfigError, FormatError, NotFoundError } from '../util/errors.js';
import type { TrainAudioTransformerOptions, TrainAudioTransformerResult } from '../model/train.js';
// The run settings' table imports nothing at run time, so declaring the options loads no library code.
import {
  TRAINING_OPTIONS,
  TRAINING_OPTION_NAMES,
  type OptionName,
  type TrainingOption,
  type TrainingOptionName,
  type TrainingOptionValues,
} from '../model/training/options.js';
import { action, barFor, checkWritable, emit, globals, warn } from './common.js';
import { integerChoiceOption, integerOption, numberOption } from './options.js';

interface CommandOption {
  flag: string;
  help: string;
}

/** The data options, keyed by trainAudioTransformer's names; listed first in the help. */
const DATA_OPTIONS = {
  files: { flag: '--files <paths...>', help: 'audio files or directories (searched recursively)' },
  manifest: { flag: '--manifest <file>', help: "split manifest from 'wavelm split': train split trains, valid split evaluates" },
  validFiles: { flag: '--valid <paths...>', help: 'validation audio (default: a seeded 10% of the --files files)' },
} as const satisfies Record<string, CommandOption>;

/** Where the run goes, W&B, and codec training; listed after the run settings (TRAINING_OPTIONS). */
const RUN_OPTIONS = {
  outDir: { flag: '--out <dir>', help: 'run directory (default runs/train-<date>-<time>)' },
  resume: {
    flag: '--resume [checkpoint]',
    help:
      'continue the run in --out from its latest checkpoint (or from the given checkpoint/run directory); every setting the run ' +
      "recorded (data, model, --steps, the log/eval/checkpoint intervals, ...) defaults to the run's",
  },
  wandbProject: {
    flag: '--wandb-project <name>',
    help: 'also log to this Weights & Biases project (needs WANDB_API_KEY or `wandb login`; never blocks training)',
  },
  wandbRunName: { flag: '--wandb-run-name <name>', help: 'W&B run name' },
  wandbEntity: { flag: '--wandb-entity <name>', help: 'W&B entity (team or user)' },
  wandbConfig: { flag: '--wandb-config <json>', help: 'extra W&B run config as a JSON object, or @file.json' },
  codec: {
    flag: '--codec',
    help:
      "train a model for wavelm's lossless codec instead: its residual coder's starting state, learned by coding --files or " +
      '--manifest; --out is then the model file (default codec-model.safetensors)',
  },
  init: {
    flag: '--init <model>',
    help: 'with --codec: fine-tune this codec model instead of starting from even odds (the shipped one: models/codec-prior.safetensors)',
  },
} as const satisfies Record<string, CommandOption>;

/** What commander gives for a flag: a list for `<x...>`, text for `<x>`, text or true for `[x]`, true for a switch. */
type FlagValue<F extends string> = F extends `${string}...>`
  ? string[]
  : F extends `${string}<${string}>`
    ? string
    : F extends `${string}[${string}]`
      ? string | true
      : boolean;
type CommandValues<T extends Record<string, CommandOption>> = { [K in keyof T]?: FlagValue<T[K]['flag']> };

/** The command line's values, keyed by the tables' names. */
type TrainFlags = CommandValues<typeof DATA_OPTIONS> & CommandValues<typeof RUN_OPTIONS> & Partial<TrainingOptionValues>;

/** Every option a library message can name, with its declaration. */
const NAMED: Record<OptionName, CommandOption> = {
  ...TRAINING_OPTIONS,
  ...DATA_OPTIONS,
  outDir: RUN_OPTIONS.outDir,
  resume: RUN_OPTIONS.resume,
};

/** How `wavelm train` names an option in the library's messages: by its flag. */
function flagOf(name: OptionName): string {
  return NAMED[name].flag.split(' ')[0]!;
}

function helpWithDefault(o: TrainingOption): string {
  if (o.defaultText !== undefined) return `${o.help} (default: ${o.defaultText})`;
  return o.default === undefined || typeof o.default === 'boolean' ? o.help : `${o.help} (default ${o.default})`;
}

/** A run setting's commander option: the table's parser, and its default in the help only (a resumed run's own values come first). */
function settingOption(name: TrainingOptionName): Option {
  const declared: TrainingOption = TRAINING_OPTIONS[name];
  const option = new Option(declared.flag, helpWithDefault(declared));
  const value = declared.value;
  if (value.type === 'integer') return option.argParser(integerOption(value.range));
  if (value.type === 'number') return option.argParser(numberOption(value.range));
  if (value.type !== 'choice') return option;
  const numbers = value.choices.filter((c): c is number => typeof c === 'number');
  return numbers.length === value.choices.length
    ? option.argParser(integerChoiceOption(numbers))
    : option.choices(value.choices.map(String));
}

/** Every option of the command, by its table name, in the help's order. */
function declaredOptions(): Map<string, Option> {
  const options = new Map<string, Option>();
  for (const [name, o] of Object.entries(DATA_OPTIONS)) options.set(name, new Option(o.flag, o.help));
  for (const name of TRAINING_OPTION_NAMES) options.set(name, settingOption(name));
  for (const [name, o] of Object.entries(RUN_OPTIONS)) options.set(name, new Option(o.flag, o.help));
  return options;
}

/** The parsed command line keyed by the tables' names (commander keys values by each flag's own spelling). */
function flagValues(cmd: Command, options: ReadonlyMap<string, Option>): TrainFlags {
  const parsed = cmd.opts();
  return Object.fromEntries([...options].map(([name, option]) => [name, parsed[option.attributeName()]])) as TrainFlags;
}

/** The run settings given on the command line, as trainAudioTransformer takes them (the model's under `model`). */
function givenSettings(flags: TrainFlags): Pick<TrainAudioTransformerOptions, 'model'> & Partial<TrainingOptionValues> {
  const given = (inModel: boolean): Partial<TrainingOptionValues> =>
    Object.fromEntries(
      TRAINING_OPTION_NAMES.filter((n) => (TRAINING_OPTIONS[n].section === 'model') === inModel).map((n) => [n, flags[n]] as const),
    );
  return { ...given(false), model: given(true) };
}

function wandbConfig(raw: string | undefined): Record<string, unknown> | undefined {
  if (raw === undefined) return undefined;
  const text = raw.startsWith('@') ? readConfigFile(raw.slice(1)) : raw;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`--wandb-config must be a JSON object (or @file.json), got ${raw.slice(0, 60)}`, { cause: e });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError('--wandb-config must be a JSON object');
  return v as Record<string, unknown>;
}

function readConfigFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new NotFoundError(`--wandb-config @${path}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, {
      subject: path,
      cause: e,
    });
  }
}

interface RunSources {
  files?: string[];
  manifest?: string;
  validFiles?: string[];
}

/** The data a run was trained on, from its config.json (`sources`), checked field by field. */
function readRunSources(cfgPath: string): RunSources {
  const bad = (what: string, cause?: unknown) =>
    new FormatError(`${cfgPath}: ${what}; give --files or --manifest to resume on other data, or restore the run's config.json`, {
      subject: cfgPath,
      cause,
    });
  let cfg: unknown;
  try {
    cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
  } catch (e) {
    throw bad('not valid JSON', e);
  }
  if (typeof cfg !== 'object' || cfg === null || Array.isArray(cfg)) throw bad('not a JSON object');
  const sources = (cfg as { sources?: unknown }).sources;
  if (sources === undefined) return {};
  if (typeof sources !== 'object' || sources === null || Array.isArray(sources)) throw bad('"sources" is not an object');
  const { files, manifest, validFiles } = sources as Record<string, unknown>;
  const paths = (v: unknown, key: string): string[] | undefined => {
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw bad(`"sources.${key}" is not a list of paths`);
    return v as string[];
  };
  if (manifest !== undefined && manifest !== null && typeof manifest !== 'string') throw bad('"sources.manifest" is not a path');
  return {
    files: paths(files, 'files'),
    manifest: typeof manifest === 'string' ? manifest : undefined,
    validFiles: paths(validFiles, 'validFiles'),
  };
}

/** `train --codec`: a codec model from the files, written to --out. */
async function trainCodec(flags: TrainFlags, cmd: Command): Promise<void> {
  if (!flags.files === !flags.manifest) throw new ConfigError('--codec needs --files PATH... or --manifest FILE (its train split)');
  const [{ readCodecPrior, serializeCodecPrior, trainCodecPrior }, { collectAudioFiles }, { manifestPaths }, { writeFileSync }] =
    await Promise.all([
      import('../compress/lossless/prior.js'),
      import('../tokens/index.js'),
      import('../compress/data.js'),
      import('node:fs'),
    ]);
  const out = flags.outDir ?? 'codec-model.safetensors';
  checkWritable(out, '--out');
  const init = flags.init === undefined ? undefined : readCodecPrior(flags.init);
  const inputs = flags.manifest ? manifestPaths(flags.manifest, 'train') : flags.files!;
  const files = collectAudioFiles(inputs, (m) => warn(cmd, m));
  if (files.length === 0) throw new NotFoundError(`no audio files in ${inputs.join(', ')}`);
  const t0 = performance.now();
  const r = await trainCodecPrior(files, {
    init,
    progress: barFor(cmd, { unit: 'files' }),
    onSkip: (f, e) => warn(cmd, `${f}: skipped (${e.message})`),
  });
  if (r.files === 0) throw new NotFoundError(`none of the ${files.length} files could be read as WAV, AIFF or FLAC`);
  const metadata = {
    trained_on: inputs.join(','),
    files: String(r.files),
    frames: String(r.frames),
    ...(init ? { fine_tuned_from: init.name } : {}),
  };
  writeFileSync(out, serializeCodecPrior(r.tables, metadata));
  const seconds = (performance.now() - t0) / 1000;
  emit(
    cmd,
    { out, files: r.files, frames: r.frames, seconds },
    () => `codec model trained on ${r.files} files (${r.frames} frames) in ${seconds.toFixed(1)} s -> ${out}`,
  );
}

function defaultOut(): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  return join(
    'runs',
    `train-${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`,
  );
}

function describe(r: TrainAudioTransformerResult): string {
  const f = (x: number | null, d = 4) => (x === null ? '-' : x.toFixed(d));
  const unit = r.pipeline.bitDepth === 16 ? ' (bits per sample = 2x)' : '';
  return [
    `${r.interrupted ? 'interrupted' : 'trained'} ${r.step}/${r.steps} steps` +
      `${r.resumedFrom !== undefined ? ` (resumed at ${r.resumedFrom})` : ''}: ` +
      `${r.numParams} parameters, batch ${r.training.batchSize} x ${r.training.seqLen}`,
    `data: ${r.dataset.numFiles} files, ${r.dataset.trainChunks} train / ${r.dataset.validChunks} valid chunks ` +
      `(${r.dataset.validSource})${r.dataset.skippedFiles ? `, ${r.dataset.skippedFiles} skipped` : ''}`,
    `train loss ${f(r.finalLoss, 3)} nats/seq = ${f(r.finalBitsPerByte)} bits/byte${unit}`,
    `valid loss ${f(r.validLoss, 3)} nats/seq = ${f(r.validBitsPerByte)} bits/byte (unigram entropy ${f(r.validUnigramBitsPerByte)})`,
    `${Math.round(r.tokensPerSecond)} tokens/s over ${r.trainSeconds.toFixed(1)} s of training`,
    `run: ${r.outDir} (metrics.jsonl, TensorBoard events, loss.html); checkpoint: ${r.checkpoint ?? '-'}`,
  ].join('\n');
}

/** The data to train on: as given, or for a resume given none, the run's own (its config.json's `sources`). */
function dataSources(flags: TrainFlags, out: string): Pick<TrainAudioTransformerOptions, 'files' | 'manifest' | 'validFiles'> {
  const given = { files: flags.files, manifest: flags.manifest, validFiles: flags.validFiles };
  const cfgPath = join(out, 'config.json');
  if (!flags.resume || flags.files || flags.manifest || !existsSync(cfgPath)) return given;
  const recorded = readRunSources(cfgPath);
  return { files: recorded.files, manifest: recorded.manifest, validFiles: flags.validFiles ?? recorded.validFiles };
}

/**
 * Runs `train` with Ctrl-C (and SIGTERM, which batch schedulers such as Slurm and Kubernetes stop jobs with)
 * aborting the signal, so the run stops after the current step and keeps its progress; a second one quits.
 */
async function withStopSignal<T>(train: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctrl = new AbortController();
  const onSignal = () => {
    if (ctrl.signal.aborted) {
      process.stderr.write('\nwavelm: interrupted again, quitting without a checkpoint\n');
      process.exit(130);
    }
    process.stderr.write('\nwavelm: stopping after this step and writing a checkpoint (Ctrl-C again to quit at once)\n');
    ctrl.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await train(ctrl.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** `train` without --codec: the language model, in the run directory --out. */
async function trainLanguageModel(flags: TrainFlags, cmd: Command): Promise<void> {
  if (flags.init !== undefined) throw new ConfigError('--init is for --codec training (a language model resumes with --resume)');
  const out = flags.outDir ?? (flags.resume ? undefined : defaultOut());
  if (!out) throw new ConfigError('--resume needs --out RUN_DIR (the run to continue)');
  const quiet = globals(cmd).quiet === true || globals(cmd).json === true;
  const notice = (m: string) => {
    if (!quiet) process.stderr.write(`\nwavelm: ${m}\n`);
  };
  const wandb = flags.wandbProject
    ? { project: flags.wandbProject, runName: flags.wandbRunName, entity: flags.wandbEntity, config: wandbConfig(flags.wandbConfig) }
    : undefined;
  const { trainAudioTransformer } = await import('../model/train.js');
  const r = await withStopSignal((signal) =>
    trainAudioTransformer(
      {
        ...givenSettings(flags),
        ...dataSources(flags, out),
        outDir: out,
        resume: flags.resume,
        wandb,
        signal,
        onNotice: notice,
        optionLabel: flagOf,
        loadProgress: barFor(cmd, { unit: 'files' }),
      },
      barFor(cmd, { unit: 'steps', fields: ['loss', 'bpb', 'tok_s'] }),
    ),
  );
  emit(cmd, r, () => describe(r));
  if (r.interrupted) process.exitCode = 130;
}

export function registerTrain(program: Command): void {
  const options = declaredOptions();
  const command = program
    .command('train')
    .description(
      'Train the LMIC decoder-only transformer on audio tokens (CPU, deterministic). Writes a run directory with config.json, ' +
        'metrics.jsonl, TensorBoard event files, loss.html and checkpoints/. Ctrl-C stops after the current step and writes a ' +
        'checkpoint; --resume continues bit-exactly.',
    );
  for (const option of options.values()) command.addOption(option);
  command
    .addHelpText(
      'after',
      `
Examples (the embedded samples are in node_modules/supersonic-scsynth-samples/samples of a checkout; manifest.jsonl: \
see wavelm split --help):
  wavelm train --files node_modules/supersonic-scsynth-samples/samples --steps 300 --seq-len 256 --out runs/samples
  wavelm train --manifest manifest.jsonl --bit-depth 16 --seq-len 64 --steps 20 --out runs/s16
  wavelm train --out runs/samples --resume --steps 600     # continue to step 600 with the run's settings
  wavelm train --codec --files node_modules/supersonic-scsynth-samples/samples --out my-codec.safetensors
  wavelm compress recordings/ -m my-codec.safetensors --out-dir archives/   # decompress needs -m my-codec.safetensors too

Loss is LMIC's: nats per sequence (summed over its tokens, mean over the batch). bits/byte = loss / seq-len / ln 2
for 8-bit tokens; for 16-bit tokens that quantity is bits per sample and bits/byte is half of it.`,
    )
    .action(
      action(async (_parsed: unknown, cmd: Command) => {
        const flags = flagValues(cmd, options);
        return flags.codec ? trainCodec(flags, cmd) : trainLanguageModel(flags, cmd);
      }),
    );
}
