/** `wavelm train`: trains the LMIC transformer on audio (src/model/train.ts does the work). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ConfigError } from '../util/errors.js';
import { readRunSettings } from '../model/run-config.js';
import { trainAudioTransformer, type Conversion, type TrainAudioTransformerResult } from '../model/train.js';
import type { PositionalEncoding } from '../model/api.js';
import type { LrScheduleName } from '../model/schedule.js';
import { action, barFor, emit, globals } from './common.js';

interface TrainFlags {
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

function int(name: string, min = 1): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got '${v}'`);
    return n;
  };
}

function num(name: string, min = 0): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`${name} must be a number >= ${min}, got '${v}'`);
    return n;
  };
}

function wandbConfig(raw: string | undefined): Record<string, unknown> | undefined {
  if (raw === undefined) return undefined;
  const text = raw.startsWith('@') ? readFileSync(raw.slice(1), 'utf8') : raw;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`--wandb-config must be a JSON object (or @file.json), got ${raw.slice(0, 60)}`, { cause: e });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError('--wandb-config must be a JSON object');
  return v as Record<string, unknown>;
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
    .option('--valid-fraction <f>', 'share of --files held out for validation when --valid is not given (default 0.1)', num('--valid-fraction'))
    .addOption(new Option('--bit-depth <n>', 'token bit depth: 8 (vocab 256) or 16 (vocab 65536) (default 8)').choices(['8', '16']).argParser(Number))
    .option('--blocking-size <n>', 'stereo block size in samples per channel (default 1024)', int('--blocking-size'))
    .addOption(new Option('--conversion <mode>', 'sample conversion (default exact)').choices(['lmic', 'seed-float', 'exact']))
    .option('--chunk-size <bytes>', 'chunk size in bytes (default 2048)', int('--chunk-size'))
    .option('--seq-len <n>', 'tokens per training sequence (default: a whole chunk)', int('--seq-len'))
    .option('--batch-size <n>', 'sequences per step (default 8)', int('--batch-size'))
    .option('--steps <n>', 'total training steps (default 1000)', int('--steps'))
    .option('--lr <x>', 'Adam learning rate, the peak of a schedule (default 1e-4)', num('--lr', Number.MIN_VALUE))
    .addOption(new Option('--lr-schedule <name>', 'learning-rate schedule: constant, or cosine decay to --min-lr at --steps (default constant)').choices(['constant', 'cosine']))
    .option('--warmup <steps>', 'linear learning-rate warm-up steps (default 0)', int('--warmup', 0))
    .option('--min-lr <x>', "where the cosine schedule ends (default --lr / 10)", num('--min-lr', 0))
    .option('--clip <x>', 'clip the global gradient norm to x; 0 = off (default 0)', num('--clip'))
    .option('--normalize-by-length', "divide the gradient by the sequence length (LMIC's option)")
    .option('--log-every <n>', 'steps between logged training points (default 10)', int('--log-every'))
    .option('--eval-every <n>', 'steps between validation evaluations; 0 = only at the end (default 100)', int('--eval-every', 0))
    .option('--eval-sequences <n>', 'validation sequences per evaluation (default 64)', int('--eval-sequences'))
    .option('--checkpoint-every <n>', 'steps between checkpoints; 0 = only at the end (default 500)', int('--checkpoint-every', 0))
    .option('--keep-checkpoints <n>', 'how many checkpoints to keep; 0 = all (default 3)', int('--keep-checkpoints', 0))
    .option('--seed <n>', 'seed for initialisation and batches (default 0)', int('--seed', 0))
    .option('--workers <n>', 'worker threads (default: CPU cores; results are identical for any value)', int('--workers'))
    .option('--out <dir>', 'run directory (default runs/train-<date>-<time>)')
    .option('--resume [checkpoint]', "continue the run in --out from its latest checkpoint (or from the given checkpoint/run directory); every setting the run recorded (data, model, --steps, the log/eval/checkpoint intervals, ...) defaults to the run's")
    .option('--embedding-dim <n>', 'model width (default 64)', int('--embedding-dim'))
    .option('--num-layers <n>', 'transformer layers (default 4)', int('--num-layers'))
    .option('--num-heads <n>', 'attention heads (default 8)', int('--num-heads'))
    .option('--widening-factor <n>', 'FFN width multiple (default 4)', int('--widening-factor'))
    .addOption(new Option('--positional <kind>', 'positional encoding (default sinusoidal)').choices(['sinusoidal', 'rotary']))
    .option('--wandb-project <name>', 'also log to this Weights & Biases project (needs WANDB_API_KEY or `wandb login`; never blocks training)')
    .option('--wandb-run-name <name>', 'W&B run name')
    .option('--wandb-entity <name>', 'W&B entity (team or user)')
    .option('--wandb-config <json>', 'extra W&B run config as a JSON object, or @file.json')
    .addHelpText(
      'after',
      `
Examples (the embedded samples are in node_modules/supersonic-scsynth-samples/samples of a checkout; manifest.jsonl: see wavelm split --help):
  wavelm train --files node_modules/supersonic-scsynth-samples/samples --steps 300 --seq-len 256 --out runs/samples
  wavelm train --manifest manifest.jsonl --bit-depth 16 --seq-len 64 --steps 20 --out runs/s16
  wavelm train --out runs/samples --resume --steps 600     # continue to step 600 with the run's settings

Loss is LMIC's: nats per sequence (summed over its tokens, mean over the batch). bits/byte = loss / seq-len / ln 2
for 8-bit tokens; for 16-bit tokens that quantity is bits per sample and bits/byte is half of it.`,
    )
    .action(
      action(async (flags: TrainFlags, cmd: Command) => {
        const out = flags.out ?? (flags.resume ? undefined : defaultOut());
        if (!out) throw new ConfigError('--resume needs --out RUN_DIR (the run to continue)');
        let files = flags.files;
        let manifest = flags.manifest;
        let valid = flags.valid;
        if (flags.resume && !files && !manifest) {
          // Continue on the run's own data unless told otherwise.
          const sources = readRunSettings(out).sources;
          files = sources?.files;
          manifest = sources?.manifest;
          valid = valid ?? sources?.validFiles;
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
