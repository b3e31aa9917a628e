/** `wavelm compress IN... -m CHECKPOINT [-o OUT.wlm | --out-dir DIR]`: lossless compression of audio files with a trained model. */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { compressAudio, type CompressStats } from '../compress/archive.js';
import { codeFiles, planFiles, type FileOutcome, type FilePlan } from '../compress/batch.js';
import { defaultChunkLength, loadCompressionModel } from '../compress/model.js';
import { ConfigError, exitCodeFor, NotFoundError } from '../util/errors.js';
import { action, barFor, emit, intOption, reportError } from './common.js';

interface CompressFlags {
  model: string;
  out?: string;
  outDir?: string;
  force?: boolean;
  chunkLength?: number;
  workers: number;
  raw?: boolean;
}

/**
 * -o for exactly one input file, else the plan over every input (files and directories). Existing
 * outputs are refused, before anything runs, unless `force`.
 */
export function planOutputs(inputs: string[], flags: { out?: string; outDir?: string; force?: boolean }, find: 'audio' | string, outputFor: (p: string) => string): { single: boolean; plans: FilePlan[] } {
  const { out, outDir } = flags;
  if (out !== undefined && outDir !== undefined) throw new ConfigError('-o and --out-dir exclude each other: -o names one output, --out-dir a folder for several');
  const single = inputs.length === 1 && outDir === undefined && isFile(inputs[0]!);
  if (out !== undefined && !single) throw new ConfigError('-o names one output file and needs exactly one input file: use --out-dir DIR for several inputs or a directory');
  const plans = single ? [{ input: inputs[0]!, output: out ?? outputFor(inputs[0]!) }] : planFiles(inputs, { find, outputFor, outDir });
  if (!flags.force) {
    const existing = plans.filter((p) => existsSync(p.output));
    if (existing.length > 0) {
      const shown = existing.slice(0, 3).map((p) => p.output).join(', ');
      throw new ConfigError(`${existing.length === 1 ? `${shown} exists` : `${existing.length} outputs exist (${shown}${existing.length > 3 ? ', ...' : ''})`}: nothing was written; use --force to overwrite`, { subject: existing[0]!.output });
    }
  }
  return { single, plans };
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

/** Prints every failure of a batch and sets the exit code of the first. */
export function reportFailures<T>(outcomes: FileOutcome<T>[]): void {
  const failed = outcomes.filter((o) => o.error);
  for (const o of failed) reportError(o.error);
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

export function registerCompress(program: Command): void {
  program
    .command('compress')
    .description('compress an audio file losslessly with a trained wavelm model into a .wlm archive')
    .argument('<inputs...>', 'WAV files (8- or 16-bit PCM; any file with --raw) or directories of audio files')
    .requiredOption('-m, --model <checkpoint>', 'model.safetensors, a checkpoint directory or a run directory')
    .option('-o, --out <file.wlm>', 'archive to write, for one input file (default: INPUT.wlm)')
    .option('--out-dir <dir>', 'write the archives under DIR (directory inputs keep their inner paths)')
    .option('-f, --force', 'overwrite existing archives')
    .option('--chunk-length <n>', "samples per chunk and channel, each coded from an empty context (default: the checkpoint's training chunk, else 2048)", intOption('--chunk-length'))
    .option('--workers <n>', 'worker threads (the archive is identical for any number)', intOption('--workers'), Math.max(1, Math.min(2, availableParallelism())))
    .option('--raw', 'code files that are not 8/16-bit PCM WAV as raw bytes (8-bit models)')
    .addHelpText(
      'after',
      `
8-bit models code 8-bit audio directly and 16-bit audio losslessly (high byte by the model, low byte by a
small predictive model); 16-bit models code 16-bit audio. Every sample is coded (the last chunk of each
channel may be short); the header, other RIFF chunks and any trailing bytes are kept verbatim, so
decompress restores the file byte for byte.

Several inputs (or a directory) are coded in one run: the model is loaded and the workers started once,
and as many files as workers are in flight, so short recordings keep every worker busy. A file that
fails is reported and the others go on.

Examples (wavelm demo --out-dir /tmp/demo trains /tmp/demo/run and writes /tmp/demo/bd_gas.wav):
  wavelm compress /tmp/demo/bd_gas.wav -m /tmp/demo/run -o bd_gas.wlm && wavelm decompress bd_gas.wlm -m /tmp/demo/run -o restored.wav
  wavelm compress /tmp/demo -m /tmp/demo/run --out-dir archives/ && wavelm decompress archives/ -m /tmp/demo/run --out-dir restored/`,
    )
    .action(
      action(async (inputs: string[], flags: CompressFlags, cmd: Command) => {
        const { single, plans } = planOutputs(inputs, flags, 'audio', (p) => `${p}.wlm`);
        const model = loadCompressionModel(flags.model);
        // Code at the length the model was trained on when the checkpoint records it.
        const chunkLength = flags.chunkLength ?? defaultChunkLength(model);
        if (chunkLength < 1) throw new ConfigError('--chunk-length must be at least 1');
        const workers = Math.max(1, flags.workers);
        const line = (input: string, out: string, stats: CompressStats): string =>
          `${input} -> ${out}: ${stats.originalBytes} -> ${stats.archiveBytes} bytes (${(100 * stats.rate).toFixed(2)}%), mode ${stats.mode}`;
        if (single) {
          const { input, output } = plans[0]!;
          const { archive, stats } = await compressAudio(readInput(input), model, { chunkLength, workers, allowRaw: flags.raw, name: input, progress: barFor(cmd, { unit: 'samples' }) });
          writeOutput(output, archive);
          emit(cmd, { input, output, ...stats }, () =>
            [line(input, output, stats), `${stats.chunks} chunks, ${stats.codedSamples} samples coded, ${stats.verbatimBytes} bytes verbatim, ${stats.seconds.toFixed(2)} s (${(stats.originalBytes / stats.seconds / 1000).toFixed(1)} KB/s)`].join('\n'),
          );
          return;
        }
        if (plans.length === 0) throw new NotFoundError(`no audio files in ${inputs.join(', ')}`);
        const { outcomes, seconds } = await codeFiles(
          model.spec,
          workers,
          plans,
          async ({ input, output }, runner) => {
            const { archive, stats } = await compressAudio(readInput(input), model, { chunkLength, runner, allowRaw: flags.raw, name: input });
            writeOutput(output, archive);
            return stats;
          },
          barFor(cmd, { unit: 'files' }),
          'compress',
        );
        const done = outcomes.filter((o) => o.result);
        const original = done.reduce((s, o) => s + o.result!.originalBytes, 0);
        const archived = done.reduce((s, o) => s + o.result!.archiveBytes, 0);
        const total = { files: done.length, failed: outcomes.length - done.length, originalBytes: original, archiveBytes: archived, rate: original > 0 ? archived / original : 0, seconds };
        emit(cmd, { files: outcomes.map((o) => ({ input: o.input, output: o.output, ...(o.result ?? { error: o.error!.message }) })), total }, () =>
          [
            ...done.map((o) => line(o.input, o.output, o.result!)),
            `${done.length} files: ${original} -> ${archived} bytes (${(100 * total.rate).toFixed(2)}%), ${seconds.toFixed(2)} s (${(original / seconds / 1000).toFixed(1)} KB/s)`,
          ].join('\n'),
        );
        reportFailures(outcomes);
      }),
    );
}
