/** `wavelm decompress IN.wlm... [-m CHECKPOINT] [-o RESTORED | --out-dir DIR]`: restores the original files. */
import { openSync, readSync, closeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import type { CompressionModel } from '../compress/archive.js';
import type { FileRunner } from '../compress/batch.js';
import type { SegmentRunner } from '../compress/lossless/segment-runner.js';
import type { ChunkRunner } from '../compress/parallel.js';
import { ConfigError, NotFoundError } from '../util/errors.js';
import { action, barFor, emit } from './common.js';
import { addShardOptions, integerOption, shardFromFlags } from './options.js';
import { loadModelFlag, planOutputs, readInput, reportFailures, writeOutput, type ModelFlag } from './compress.js';

interface DecompressFlags {
  model?: string;
  out?: string;
  outDir?: string;
  force?: boolean;
  workers: number;
  numShards?: number;
  shardIndex?: number;
}

/** "WLL\x1a": the lossless codec's archives (src/compress/lossless/container.ts); the model's are "WLM\x1a". */
function isLosslessArchive(b: Uint8Array): boolean {
  return b[0] === 0x57 && b[1] === 0x4c && b[2] === 0x4c && b[3] === 0x1a;
}

/** The first bytes of a file (to tell archive kinds apart before planning outputs). */
function head(path: string): Uint8Array {
  const out = new Uint8Array(4);
  try {
    const fd = openSync(path, 'r');
    try {
      readSync(fd, out, 0, 4, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    // reading it later reports the missing file with its name
  }
  return out;
}

/**
 * The restored file's name: the archive's without .wlm; the codec restores FLAC input as WAV, so
 * NAME.flac.wlm becomes NAME.wav.
 */
function restoredName(name: string, archive: string): string {
  if (!name.endsWith('.wlm')) return `${name}.restored`;
  const base = name.slice(0, -4);
  return base.toLowerCase().endsWith('.flac') && isLosslessArchive(head(archive)) ? `${base.slice(0, -5)}.wav` : base;
}

interface Restored {
  bytes: number;
  /** What was verified: the original's CRC-32C or SHA-256, or FLAC's samples' MD5. */
  verified: string;
}

/** The runners one run needs: the codec's threads always, a model's predictors when -m is given. */
class DecompressRunner implements FileRunner {
  private constructor(
    readonly workers: number,
    readonly segments: SegmentRunner,
    readonly chunks: ChunkRunner | undefined,
  ) {}
  static async open(workers: number, model: CompressionModel | undefined): Promise<DecompressRunner> {
    const [{ SegmentRunner }, { ChunkRunner }] = await Promise.all([
      import('../compress/lossless/segment-runner.js'),
      import('../compress/parallel.js'),
    ]);
    return new DecompressRunner(
      workers,
      await SegmentRunner.open(workers),
      model ? await ChunkRunner.open(model.spec, workers) : undefined,
    );
  }
  async close(): Promise<void> {
    await this.segments.close();
    await this.chunks?.close();
  }
}

async function restore(
  input: string,
  output: string,
  flag: ModelFlag | undefined,
  opts: { workers?: number; runner?: DecompressRunner; progress?: ReturnType<typeof barFor> },
): Promise<Restored> {
  const model = flag?.kind === 'lm' ? flag.model : undefined;
  const archive = readInput(input);
  if (isLosslessArchive(archive)) {
    const { decompressLossless } = await import('../compress/lossless/codec.js');
    const r = await decompressLossless(archive, {
      name: input,
      prior: flag?.kind === 'codec' ? flag.prior : undefined,
      workers: opts.workers,
      runner: opts.runner?.segments,
      progress: opts.progress,
    });
    writeOutput(output, r.bytes);
    return { bytes: r.bytes.length, verified: r.kind === 'flac' ? "the samples' MD5" : 'CRC-32C' };
  }
  if (!model) throw new ConfigError(`${input} was compressed with a language model: pass its checkpoint with -m`, { subject: input });
  const { decompressAudio, readArchiveInfo } = await import('../compress/archive.js');
  readArchiveInfo(archive, input);
  const restored = await decompressAudio(archive, model, {
    workers: opts.workers,
    runner: opts.runner?.chunks,
    name: input,
    progress: opts.progress,
  });
  writeOutput(output, restored);
  return { bytes: restored.length, verified: 'SHA-256' };
}

export function registerDecompress(program: Command): void {
  const cmd = program
    .command('decompress')
    .description('restore the original files from .wlm archives')
    .argument('<archives...>', '.wlm archives, or directories searched for them')
    .option(
      '-m, --model <checkpoint>',
      'the model used to compress, for archives made with -m: a codec model file, a checkpoint, or the hub id ' +
        '(ORG/NAME[@revision]) of its model.safetensors',
    )
    .option(
      '-o, --out <file>',
      'where to write the restored file, for one archive (default: ARCHIVE without .wlm; NAME.flac.wlm restores as NAME.wav)',
    )
    .option('--out-dir <dir>', 'write the restored files under DIR (directory inputs keep their inner paths)')
    .option(
      '-f, --force',
      'overwrite existing files (by default an existing file, such as the original, is left alone and nothing is written)',
    )
    .option('--workers <n>', 'worker threads', integerOption({ min: 1 }), Math.max(1, Math.min(2, availableParallelism())));
  addShardOptions(cmd)
    .addHelpText(
      'after',
      "\nThe archive records how it was made (codec level, or the model's hashes), so no flag is needed except -m for archives " +
        'made with a model. Checksums are verified: another model or a damaged archive is an error (exit code 5), never wrong ' +
        'output. Several archives are restored in one run; one that fails is reported and the others go on. --num-shards N ' +
        '--shard-index I restores only shard I of the sorted archive list (docs/scaling.md).',
    )
    .action(
      action(async (inputs: string[], flags: DecompressFlags, cmd: Command) => {
        const shard = await shardFromFlags(flags);
        const { single, plans } = await planOutputs(inputs, flags, '.wlm', restoredName, shard);
        const model = flags.model === undefined ? undefined : await loadModelFlag(flags.model, cmd);
        const workers = flags.workers;
        if (single) {
          const { input, output } = plans[0]!;
          const t0 = performance.now();
          const r = await restore(input, output, model, { workers, progress: barFor(cmd, { unit: 'frames' }) });
          const seconds = (performance.now() - t0) / 1000;
          emit(
            cmd,
            { input, output, ...r, seconds },
            () =>
              `${input} -> ${output}: ${r.bytes} bytes, ${r.verified} verified, ${seconds.toFixed(2)} s ` +
              `(${(r.bytes / seconds / 1000).toFixed(1)} KB/s)`,
          );
          return;
        }
        if (plans.length === 0 && !shard) throw new NotFoundError(`no .wlm archives in ${inputs.join(', ')}`);
        const { codeFiles } = await import('../compress/batch.js');
        const { outcomes, seconds } = await codeFiles(
          DecompressRunner.open(workers, model?.kind === 'lm' ? model.model : undefined),
          plans,
          ({ input, output }, runner) => restore(input, output, model, { runner }),
          barFor(cmd, { unit: 'files' }),
          'decompress',
        );
        const done = outcomes.filter((o) => o.result);
        const bytes = done.reduce((s, o) => s + o.result!.bytes, 0);
        emit(
          cmd,
          {
            files: outcomes.map((o) => ({ input: o.input, output: o.output, ...(o.result ?? { error: o.error!.message }) })),
            total: { files: done.length, failed: outcomes.length - done.length, bytes, seconds },
          },
          () =>
            [
              ...done.map((o) => `${o.input} -> ${o.output}: ${o.result!.bytes} bytes, ${o.result!.verified} verified`),
              `${done.length} files: ${bytes} bytes restored, ${seconds.toFixed(2)} s (${(bytes / seconds / 1000).toFixed(1)} KB/s)`,
            ].join('\n'),
        );
        reportFailures(outcomes, cmd);
      }),
    );
}
