/**
 * `wavelm compress IN... [-o OUT.wlm | --out-dir DIR] [--level L | -m CHECKPOINT]`: lossless compression of audio files,
 * by wavelm's codec or a trained language model.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { Option } from './commander.js';
import type { Command } from 'commander';
import type { CompressStats } from '../compress/archive.js';
import type { LoadedCompressionModel } from '../compress/model.js';
import type { CodecPrior } from '../compress/lossless/prior.js';
import type { FileOutcome, FilePlan } from '../compress/batch.js';
import type { LosslessStats } from '../compress/lossless/codec.js';
import type { LevelName } from '../compress/lossless/levels.js';
import { ConfigError, exitCodeFor, NotFoundError } from '../util/errors.js';
import { action, barFor, emit, reportError } from './common.js';
import { addShardOptions, integerOption, shardFromFlags } from './options.js';
import type { Shard } from '../util/shards.js';

/** The codec's levels (src/compress/lossless/levels.ts), written out so that declaring the command loads no codec. */
export const LEVEL_CHOICES: readonly LevelName[] = ['fast', 'normal', 'max'];

interface CompressFlags {
  model?: string;
  level: LevelName;
  out?: string;
  outDir?: string;
  force?: boolean;
  chunkLength?: number;
  workers: number;
  raw?: boolean;
  numShards?: number;
  shardIndex?: number;
}

/**
 * -o for exactly one input file, else the plan over every input (files and directories), or only its
 * `shard` (a batch run of that shard's files, possibly none). Existing outputs are refused, before
 * anything runs, unless `force`.
 */
export async function planOutputs(
  inputs: string[],
  flags: { out?: string; outDir?: string; force?: boolean },
  find: 'audio' | string,
  outputFor: (name: string, input: string) => string,
  shard?: Shard,
): Promise<{ single: boolean; plans: FilePlan[] }> {
  const { out, outDir } = flags;
  if (out !== undefined && outDir !== undefined)
    throw new ConfigError('-o and --out-dir exclude each other: -o names one output, --out-dir a folder for several');
  const single = shard === undefined && inputs.length === 1 && outDir === undefined && isFile(inputs[0]!);
  if (out !== undefined && !single)
    throw new ConfigError(
      `-o names one output file and needs exactly one input file${shard ? ' and no shards' : ''}: use --out-dir DIR for several ` +
        'inputs, a directory or a shard',
    );
  const plans = single
    ? [{ input: inputs[0]!, output: out ?? outputFor(inputs[0]!, inputs[0]!) }]
    : await shardPlans((await import('../compress/batch.js')).planFiles(inputs, { find, outputFor, outDir }), shard);
  if (!flags.force) {
    const existing = plans.filter((p) => existsSync(p.output));
    if (existing.length > 0) {
      const shown = existing
        .slice(0, 3)
        .map((p) => p.output)
        .join(', ');
      const what =
        existing.length === 1 ? `${shown} exists` : `${existing.length} outputs exist (${shown}${existing.length > 3 ? ', ...' : ''})`;
      throw new ConfigError(`${what}: nothing was written; use --force to overwrite`, { subject: existing[0]!.output });
    }
  }
  return { single, plans };
}

/** The plans of one shard (src/util/shards.ts), in the order of the whole plan. */
async function shardPlans(plans: FilePlan[], shard: Shard | undefined): Promise<FilePlan[]> {
  return shard ? (await import('../util/shards.js')).shardItems(plans, shard) : plans;
}

function isFile(p: string): boolean {
  try {
    return !statSync(p).isDirectory();
  } catch {
    return true; // reading it reports the missing file with its name
  }
}

/** Writes `data` to `path`, creating its folder. */
export function writeOutput(path: string, data: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
}

/** Prints every failure of a batch (options named by `cmd`'s flags) and sets the exit code of the first. */
export function reportFailures<T>(outcomes: FileOutcome<T>[], cmd: Command): void {
  const failed = outcomes.filter((o) => o.error);
  for (const o of failed) reportError(o.error, cmd);
  if (failed.length > 0) {
    process.stderr.write(`wavelm: ${failed.length} of ${outcomes.length} files failed; nothing was written for them\n`);
    process.exitCode = exitCodeFor(failed[0]!.error);
  }
}

export function readInput(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new NotFoundError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { subject: path, cause: e });
  }
}

/** What -m names: a codec model (the codec starts from it) or a language model (it codes instead). */
export type ModelFlag = { kind: 'codec'; prior: CodecPrior } | { kind: 'lm'; model: LoadedCompressionModel };

/** Reads -m: a codec model file, or a checkpoint (a path, or a hub id fetched to the Hugging Face cache). */
export async function loadModelFlag(model: string, cmd: Command): Promise<ModelFlag> {
  const { isCodecPriorFile, readCodecPrior } = await import('../compress/lossless/prior.js');
  if (isCodecPriorFile(model)) return { kind: 'codec', prior: readCodecPrior(model) };
  const [{ resolveCheckpointPath }, { loadCompressionModel }] = await Promise.all([
    import('../util/hub.js'),
    import('../compress/model.js'),
  ]);
  return { kind: 'lm', model: loadCompressionModel(await resolveCheckpointPath(model, barFor(cmd, { unit: 'B' }))) };
}

export function registerCompress(program: Command): void {
  const cmd = program
    .command('compress')
    .description("compress audio files losslessly into .wlm archives: wavelm's codec by default, or a trained language model with -m")
    .argument('<inputs...>', 'WAV (8 to 32-bit integer PCM), AIFF or FLAC files, or directories of audio files')
    .option('-o, --out <file.wlm>', 'archive to write, for one input file (default: INPUT.wlm)')
    .option('--out-dir <dir>', 'write the archives under DIR (directory inputs keep their inner paths)')
    .option('-f, --force', 'overwrite existing archives')
    .addOption(
      new Option('-l, --level <level>', 'codec preset (recorded in the archive; decompress needs no flag)')
        .choices(LEVEL_CHOICES)
        .default('normal'),
    )
    .option(
      '-m, --model <model>',
      'a codec model of your own (wavelm train --codec), or a trained language model to code with instead (model.safetensors, a ' +
        'checkpoint or run directory, or a Hugging Face hub id); decompress then needs it too',
    )
    .option(
      '--chunk-length <n>',
      "with -m: samples per chunk and channel, each coded from an empty context (default: the checkpoint's training chunk, else 2048)",
      integerOption({ min: 1 }),
    )
    .option(
      '--workers <n>',
      'worker threads (the archive is identical for any number)',
      integerOption({ min: 1 }),
      Math.max(1, Math.min(2, availableParallelism())),
    )
    .option('--raw', 'with -m: code files that are not 8/16-bit PCM WAV as raw bytes (8-bit models)');
  addShardOptions(cmd)
    .addHelpText(
      'after',
      `
wavelm's codec predicts each sample (an OLS stage over the channel's and its partner channel's past, then
a cascade of NLMS stages) and codes the residual with an online context-mixing model; see
docs/compression.md. WAV and AIFF restore byte for byte (every header and chunk kept); FLAC input restores
its samples exactly (checked by FLAC's own MD5) as WAV. A file the codec cannot shrink is stored (10
bytes over its size); float WAV is refused. Levels: fast, normal (default), max (slower, smaller).

With -m a trained language model codes the samples instead (8-bit models: the high byte of 16-bit audio
by the model, the low byte by a small predictive model); the header, other RIFF chunks and any trailing
bytes are kept verbatim.

Several inputs (or a directory) are coded in one run: the workers start once and as many files as workers
are in flight. A file that fails is reported and the others go on. --num-shards N --shard-index I codes
only shard I of the sorted file list, so array jobs share a corpus (docs/scaling.md).

Examples (the embedded samples are in node_modules/supersonic-scsynth-samples/samples of a checkout;
wavelm demo --out-dir /tmp/demo trains /tmp/demo/run and writes /tmp/demo/bd_gas.wav):
  wavelm compress node_modules/supersonic-scsynth-samples/samples/ambi_choir.flac -o choir.wlm && wavelm decompress choir.wlm -o choir.wav
  wavelm compress node_modules/supersonic-scsynth-samples/samples --out-dir archives/ --level max \
&& wavelm decompress archives/ --out-dir restored/
  wavelm compress /tmp/demo/bd_gas.wav -m /tmp/demo/run -o bd_gas.wlm && wavelm decompress bd_gas.wlm -m /tmp/demo/run -o restored.wav`,
    )
    .action(
      action(async (inputs: string[], flags: CompressFlags, cmd: Command) => {
        const shard = await shardFromFlags(flags);
        const { single, plans } = await planOutputs(inputs, flags, 'audio', (p) => `${p}.wlm`, shard);
        if (!single && plans.length === 0 && !shard) throw new NotFoundError(`no audio files in ${inputs.join(', ')}`);
        const model = flags.model === undefined ? undefined : await loadModelFlag(flags.model, cmd);
        if (model?.kind === 'lm') await compressWithModel(cmd, single, plans, model.model, flags, flags.workers);
        else await compressWithCodec(cmd, single, plans, flags.level, model?.prior, flags.workers);
      }),
    );
}

function percent(rate: number): string {
  return `${(100 * rate).toFixed(2)}%`;
}

function codecLine(input: string, out: string, stats: LosslessStats): string {
  const how =
    stats.kind === 'stored'
      ? 'stored (the codec could not shrink it)'
      : `level ${stats.level}, ${stats.channels} ch, ${stats.bitsPerSample}-bit, ${stats.sampleRate} Hz`;
  return `${input} -> ${out}: ${stats.originalBytes} -> ${stats.archiveBytes} bytes (${percent(stats.rate)}), ${how}`;
}

async function compressWithCodec(
  cmd: Command,
  single: boolean,
  plans: FilePlan[],
  level: LevelName,
  prior: CodecPrior | undefined,
  workers: number,
): Promise<void> {
  const [{ compressLossless }, { SegmentRunner }, { codeFiles }] = await Promise.all([
    import('../compress/lossless/codec.js'),
    import('../compress/lossless/segment-runner.js'),
    import('../compress/batch.js'),
  ]);
  if (single) {
    const { input, output } = plans[0]!;
    const { archive, stats } = await compressLossless(readInput(input), {
      level,
      prior,
      workers,
      name: input,
      progress: barFor(cmd, { unit: 'frames' }),
    });
    writeOutput(output, archive);
    emit(
      cmd,
      { input, output, ...stats },
      () => `${codecLine(input, output, stats)}
${stats.seconds.toFixed(2)} s (${(stats.originalBytes / stats.seconds / 1000).toFixed(1)} KB/s)`,
    );
    return;
  }
  const { outcomes, seconds } = await codeFiles(
    SegmentRunner.open(workers),
    plans,
    async ({ input, output }, runner) => {
      const { archive, stats } = await compressLossless(readInput(input), { level, prior, runner, name: input });
      writeOutput(output, archive);
      return stats;
    },
    barFor(cmd, { unit: 'files' }),
    'compress',
  );
  emitBatch(cmd, outcomes, seconds, (o) => codecLine(o.input, o.output, o.result!));
}

async function compressWithModel(
  cmd: Command,
  single: boolean,
  plans: FilePlan[],
  model: LoadedCompressionModel,
  flags: CompressFlags,
  workers: number,
): Promise<void> {
  const [{ compressAudio }, { codeFiles }, { defaultChunkLength }, { ChunkRunner }] = await Promise.all([
    import('../compress/archive.js'),
    import('../compress/batch.js'),
    import('../compress/model.js'),
    import('../compress/parallel.js'),
  ]);
  // Code at the length the model was trained on when the checkpoint records it.
  const chunkLength = flags.chunkLength ?? defaultChunkLength(model);
  if (chunkLength < 1) throw new ConfigError('--chunk-length must be at least 1');
  const line = (input: string, out: string, stats: CompressStats): string =>
    `${input} -> ${out}: ${stats.originalBytes} -> ${stats.archiveBytes} bytes (${percent(stats.rate)}), mode ${stats.mode}`;
  if (single) {
    const { input, output } = plans[0]!;
    const { archive, stats } = await compressAudio(readInput(input), model, {
      chunkLength,
      workers,
      allowRaw: flags.raw,
      name: input,
      progress: barFor(cmd, { unit: 'samples' }),
    });
    writeOutput(output, archive);
    emit(cmd, { input, output, ...stats }, () =>
      [
        line(input, output, stats),
        `${stats.chunks} chunks, ${stats.codedSamples} samples coded, ${stats.verbatimBytes} bytes verbatim, ` +
          `${stats.seconds.toFixed(2)} s (${(stats.originalBytes / stats.seconds / 1000).toFixed(1)} KB/s)`,
      ].join('\n'),
    );
    return;
  }
  const { outcomes, seconds } = await codeFiles(
    ChunkRunner.open(model.spec, workers),
    plans,
    async ({ input, output }, runner) => {
      const { archive, stats } = await compressAudio(readInput(input), model, { chunkLength, runner, allowRaw: flags.raw, name: input });
      writeOutput(output, archive);
      return stats;
    },
    barFor(cmd, { unit: 'files' }),
    'compress',
  );
  emitBatch(cmd, outcomes, seconds, (o) => line(o.input, o.output, o.result!));
}

/** The per-file lines and the total of a batch, then its failures. */
function emitBatch<T extends { originalBytes: number; archiveBytes: number }>(
  cmd: Command,
  outcomes: FileOutcome<T>[],
  seconds: number,
  line: (o: FileOutcome<T>) => string,
): void {
  const done = outcomes.filter((o) => o.result);
  const original = done.reduce((s, o) => s + o.result!.originalBytes, 0);
  const archived = done.reduce((s, o) => s + o.result!.archiveBytes, 0);
  const total = {
    files: done.length,
    failed: outcomes.length - done.length,
    originalBytes: original,
    archiveBytes: archived,
    rate: original > 0 ? archived / original : 0,
    seconds,
  };
  emit(
    cmd,
    { files: outcomes.map((o) => ({ input: o.input, output: o.output, ...(o.result ?? { error: o.error!.message }) })), total },
    () =>
      [
        ...done.map(line),
        `${done.length} files: ${original} -> ${archived} bytes (${percent(total.rate)}), ${seconds.toFixed(2)} s ` +
          `(${(original / seconds / 1000).toFixed(1)} KB/s)`,
      ].join('\n'),
  );
  reportFailures(outcomes, cmd);
}
