/** `wavelm train`: trains the LMIC transformer on audio (src/model/train.ts does the work). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { ConfigError, FormatError, NotFoundError } from '../util/errors.js';
import type { Conversion, TrainAudioTransformerResult } from '../model/train.js';
import type { PositionalEncoding } from '../model/api.js';
import type { LrScheduleName } from '../model/schedule.js';
import { action, barFor, checkWritable, emit, globals, warn } from './common.js';
import { integerChoiceOption, integerOption, numberOption } from './options.js';

interface TrainFlags {
  codec?: boolean;
  init?: string;
  files?: string[];
  manifest?: string;
  valid?: string[];
  validFraction?: number;
  bitDepth?: number;
  blockingSize?: number;
  conversion?: Conversion;
  chunkSize?: number;
  seqLen?: number;
  batchSize?: number;
  steps?: number;
  lr?: number;
  lrSchedule?: string;
  warmup?: number;
  minLr?: number;
  clip?: number;
  normalizeByLength?: boolean;
  logEvery?: number;
  evalEvery?: number;
  evalSequences?: number;
  checkpointEvery?: number;
  keepCheckpoints?: number;
  seed?: number;
  workers?: number;
  out?: string;
  resume?: boolean | string;
  wandbProject?: string;
  wandbRunName?: string;
  wandbEntity?: string;
  wandbConfig?: string;
  embeddingDim?: number;
  numLayers?: number;
  numHeads?: number;
  wideningFactor?: number;
  positional?: PositionalEncoding;
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
    throw new NotFoundError(`--wandb-config @${path}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { subject: path, cause: e });
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
    new FormatError(`${cfgPath}: ${what}; give --files or --manifest to resume on other data, or restore the run's config.json`, { subject: cfgPath, cause });
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
  return { files: paths(files, 'files'), manifest: typeof manifest === 'string' ? manifest : undefined, validFiles: paths(validFiles, 'validFiles') };
}

/** `train --codec`: a codec model from the files, written to --out. */
async function trainCodec(flags: TrainFlags, cmd: Command): Promise<void> {
  if (!flags.files === !flags.manifest) throw new ConfigError('--codec needs --files PATH... or --manifest FILE (its train split)');
  const [{ readCodecPrior, serializeCodecPrior, trainCodecPrior }, { collectAudioFiles }, { manifestPaths }, { writeFileSync }] = await Promise.all([
    import('../compress/lossless/prior.js'),
    import('../tokens/index.js'),
    import('../compress/data.js'),
    import('node:fs'),
  ]);
  const out = flags.out ?? 'codec-model.safetensors';
  checkWritable(out, '--out');
  const init = flags.init === undefined ? undefined : readCodecPrior(flags.init);
  const inputs = flags.manifest ? manifestPaths(flags.manifest, 'train') : flags.files!;
  const files = collectAudioFiles(inputs, (m) => warn(cmd, m));
  if (files.length === 0) throw new NotFoundError(`no audio files in ${inputs.join(', ')}`);
  const t0 = performance.now();
  const r = await trainCodecPrior(files, { init, progress: barFor(cmd, { unit: 'files' }), onSkip: (f, e) => warn(cmd, `${f}: skipped (${e.message})`) });
  if (r.files === 0) throw new NotFoundError(`none of the ${files.length} files could be read as WAV, AIFF or FLAC`);
  const metadata = { trained_on: inputs.join(','), files: String(r.files), frames: String(r.frames), ...(init ? { fine_tuned_from: init.name } : {}) };
  writeFileSync(out, serializeCodecPrior(r.tables, metadata));
  const seconds = (performance.now() - t0) / 1000;
  emit(cmd, { out, files: r.files, frames: r.frames, seconds }, () => `codec model trained on ${r.files} files (${r.frames} frames) in ${seconds.toFixed(1)} s -> ${out}`);
}

function defaultOut(): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  return join('runs', `train-${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`);
}

function describe(r: TrainAudioTransformerResult): string {
  const f = (x: number | null, d = 4) => (x === null ? '-' : x.toFixed(d));
  const unit = r.pipeline.bitDepth === 16 ? ' (bits per sample = 2x)' : '';
  return [
    `${r.interrupted ? 'interrupted' : 'trained'} ${r.step}/${r.steps} steps${r.resumedFrom !== undefined ? ` (resumed at ${r.resumedFrom})` : ''}: ${r.numParams} parameters, batch ${r.training.batchSize} x ${r.training.seqLen}`,
    `data: ${r.dataset.numFiles} files, ${r.dataset.trainChunks} train / ${r.dataset.validChunks} valid chunks (${r.dataset.validSource})${r.dataset.skippedFiles ? `, ${r.dataset.skippedFiles} skipped` : ''}`,
    `train loss ${f(r.finalLoss, 3)} nats/seq = ${f(r.finalBitsPerByte)} bits/byte${unit}`,
    `valid loss ${f(r.validLoss, 3)} nats/seq = ${f(r.validBitsPerByte)} bits/byte (unigram entropy ${f(r.validUnigramBitsPerByte)})`,
    `${Math.round(r.tokensPerSecond)} tokens/s over ${r.trainSeconds.toFixed(1)} s of training`,
    `run: ${r.outDir} (metrics.jsonl, TensorBoard events, loss.html); checkpoint: ${r.checkpoint ?? '-'}`,
  ].join('\n');
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description(
      'Train the LMIC decoder-only transformer on audio tokens (CPU, deterministic). Writes a run directory with config.json, ' +
        'metrics.jsonl, TensorBoard event files, loss.html and checkpoints/. Ctrl-C stops after the current step and writes a checkpoint; ' +
        '--resume continues bit-exactly.',
    )
    .option('--files <paths...>', 'audio files or directories (searched recursively)')
    .option('--manifest <file>', "split manifest from 'wavelm split': train split trains, valid split evaluates")
    .option('--valid <paths...>', 'validation audio (default: a seeded 10% of the --files files)')
    .option('--valid-fraction <f>', 'share of --files held out for validation when --valid is not given (default 0.1)', numberOption({ min: 0, max: 1 }))
    .addOption(new Option('--bit-depth <n>', 'token bit depth: 8 (vocab 256) or 16 (vocab 65536) (default 8)').argParser(integerChoiceOption([8, 16] as const)))
    .option('--blocking-size <n>', 'stereo block size in samples per channel (default 1024)', integerOption({ min: 1 }))
    .addOption(new Option('--conversion <mode>', 'sample conversion (default exact)').choices(['lmic', 'seed-float', 'exact']))
    .option('--chunk-size <bytes>', 'chunk size in bytes (default 2048)', integerOption({ min: 1 }))
    .option('--seq-len <n>', 'tokens per training sequence (default: a whole chunk)', integerOption({ min: 1 }))
    .option('--batch-size <n>', 'sequences per step (default 8)', integerOption({ min: 1 }))
    .option('--steps <n>', 'total training steps (default 1000)', integerOption({ min: 1 }))
    .option('--lr <x>', 'Adam learning rate, the peak of a schedule (default 1e-4)', numberOption({ above: 0 }))
    .addOption(new Option('--lr-schedule <name>', 'learning-rate schedule: constant, or cosine decay to --min-lr at --steps (default constant)').choices(['constant', 'cosine']))
    .option('--warmup <steps>', 'linear learning-rate warm-up steps (default 0)', integerOption({ min: 0 }))
    .option('--min-lr <x>', "where the cosine schedule ends (default --lr / 10)", numberOption({ min: 0 }))
    .option('--clip <x>', 'clip the global gradient norm to x; 0 = off (default 0)', numberOption({ min: 0 }))
    .option('--normalize-by-length', "divide the gradient by the sequence length (LMIC's option)")
    .option('--log-every <n>', 'steps between logged training points (default 10)', integerOption({ min: 1 }))
    .option('--eval-every <n>', 'steps between validation evaluations; 0 = only at the end (default 100)', integerOption({ min: 0 }))
    .option('--eval-sequences <n>', 'validation sequences per evaluation (default 64)', integerOption({ min: 1 }))
    .option('--checkpoint-every <n>', 'steps between checkpoints; 0 = only at the end (default 500)', integerOption({ min: 0 }))
    .option('--keep-checkpoints <n>', 'how many checkpoints to keep; 0 = all (default 3)', integerOption({ min: 0 }))
    .option('--seed <n>', 'seed for initialisation and batches (default 0)', integerOption({ min: 0 }))
    .option('--workers <n>', 'worker threads (default: CPU cores; results are identical for any value)', integerOption({ min: 1 }))
    .option('--out <dir>', 'run directory (default runs/train-<date>-<time>)')
    .option('--resume [checkpoint]', "continue the run in --out from its latest checkpoint (or from the given checkpoint/run directory); every setting the run recorded (data, model, --steps, the log/eval/checkpoint intervals, ...) defaults to the run's")
    .option('--embedding-dim <n>', 'model width (default 64)', integerOption({ min: 1 }))
    .option('--num-layers <n>', 'transformer layers (default 4)', integerOption({ min: 1 }))
    .option('--num-heads <n>', 'attention heads (default 8)', integerOption({ min: 1 }))
    .option('--widening-factor <n>', 'FFN width multiple (default 4)', integerOption({ min: 1 }))
    .addOption(new Option('--positional <kind>', 'positional encoding (default sinusoidal)').choices(['sinusoidal', 'rotary']))
    .option('--wandb-project <name>', 'also log to this Weights & Biases project (needs WANDB_API_KEY or `wandb login`; never blocks training)')
    .option('--wandb-run-name <name>', 'W&B run name')
    .option('--wandb-entity <name>', 'W&B entity (team or user)')
    .option('--wandb-config <json>', 'extra W&B run config as a JSON object, or @file.json')
    .option('--codec', "train a model for wavelm's lossless codec instead: its residual coder's starting state, learned by coding --files or --manifest; --out is then the model file (default codec-model.safetensors)")
    .option('--init <model>', 'with --codec: fine-tune this codec model instead of starting from even odds (the shipped one: models/codec-prior.safetensors)')
    .addHelpText(
      'after',
      `
Examples (the embedded samples are in node_modules/supersonic-scsynth-samples/samples of a checkout; manifest.jsonl: see wavelm split --help):
  wavelm train --files node_modules/supersonic-scsynth-samples/samples --steps 300 --seq-len 256 --out runs/samples
  wavelm train --manifest manifest.jsonl --bit-depth 16 --seq-len 64 --steps 20 --out runs/s16
  wavelm train --out runs/samples --resume --steps 600     # continue to step 600 with the run's settings
  wavelm train --codec --files node_modules/supersonic-scsynth-samples/samples --out my-codec.safetensors
  wavelm compress recordings/ -m my-codec.safetensors --out-dir archives/   # decompress needs -m my-codec.safetensors too

Loss is LMIC's: nats per sequence (summed over its tokens, mean over the batch). bits/byte = loss / seq-len / ln 2
for 8-bit tokens; for 16-bit tokens that quantity is bits per sample and bits/byte is half of it.`,
    )
    .action(
      action(async (flags: TrainFlags, cmd: Command) => {
        if (flags.codec) return trainCodec(flags, cmd);
        if (flags.init !== undefined) throw new ConfigError('--init is for --codec training (a language model resumes with --resume)');
        const out = flags.out ?? (flags.resume ? undefined : defaultOut());
        if (!out) throw new ConfigError('--resume needs --out RUN_DIR (the run to continue)');
        let files = flags.files;
        let manifest = flags.manifest;
        let valid = flags.valid;
        if (flags.resume && !files && !manifest) {
          // Continue on the run's own data unless told otherwise.
          const cfgPath = join(out, 'config.json');
          if (existsSync(cfgPath)) {
            const sources = readRunSources(cfgPath);
            files = sources.files;
            manifest = sources.manifest;
            valid = valid ?? sources.validFiles;
          }
        }
        const quiet = globals(cmd).quiet === true || globals(cmd).json === true;
        const notice = (m: string) => {
          if (!quiet) process.stderr.write(`\nwavelm: ${m}\n`);
        };
        const ctrl = new AbortController();
        const onSigint = () => {
          if (ctrl.signal.aborted) {
            process.stderr.write('\nwavelm: interrupted again, quitting without a checkpoint\n');
            process.exit(130);
          }
          process.stderr.write('\nwavelm: stopping after this step and writing a checkpoint (Ctrl-C again to quit at once)\n');
          ctrl.abort();
        };
        // SIGTERM too: batch schedulers (Slurm, Kubernetes) stop jobs with it, and the run should keep its progress.
        process.on('SIGINT', onSigint);
        process.on('SIGTERM', onSigint);
        try {
          const { trainAudioTransformer } = await import('../model/train.js');
          const r = await trainAudioTransformer(
            {
              files,
              manifest,
              validFiles: valid,
              validFraction: flags.validFraction,
              bitDepth: flags.bitDepth as 8 | 16 | undefined,
              conversion: flags.conversion,
              blockingSize: flags.blockingSize,
              chunkSizeBytes: flags.chunkSize,
              model: {
                embeddingDim: flags.embeddingDim,
                numLayers: flags.numLayers,
                numHeads: flags.numHeads,
                wideningFactor: flags.wideningFactor,
                positionalEncoding: flags.positional,
              },
              seqLen: flags.seqLen,
              batchSize: flags.batchSize,
              steps: flags.steps,
              learningRate: flags.lr,
              lrSchedule: flags.lrSchedule as LrScheduleName | undefined,
              warmupSteps: flags.warmup,
              minLearningRate: flags.minLr,
              clipNorm: flags.clip,
              normalizeByLength: flags.normalizeByLength,
              logEvery: flags.logEvery,
              evalEvery: flags.evalEvery,
              evalSequences: flags.evalSequences,
              checkpointEvery: flags.checkpointEvery,
              keepCheckpoints: flags.keepCheckpoints,
              seed: flags.seed,
              workers: flags.workers,
              outDir: out,
              resume: flags.resume,
              wandb: flags.wandbProject
                ? { project: flags.wandbProject, runName: flags.wandbRunName, entity: flags.wandbEntity, config: wandbConfig(flags.wandbConfig) }
                : undefined,
              signal: ctrl.signal,
              onNotice: notice,
              loadProgress: barFor(cmd, { unit: 'files' }),
            },
            barFor(cmd, { unit: 'steps', fields: ['loss', 'bpb', 'tok_s'] }),
          );
          emit(cmd, r, () => describe(r));
          if (r.interrupted) process.exitCode = 130;
        } finally {
          process.off('SIGINT', onSigint);
          process.off('SIGTERM', onSigint);
        }
      }),
    );
}
