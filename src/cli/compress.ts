/** `wavelm compress IN -m CHECKPOINT -o OUT.wlm`: lossless compression of an audio file with a trained model. */
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { compressAudio } from '../compress/archive.js';
import { defaultChunkLength, loadCompressionModel } from '../compress/model.js';
import { ConfigError, NotFoundError } from '../util/errors.js';
import { action, barFor, emit, intOption } from './common.js';

interface CompressFlags {
  model: string;
  out?: string;
  chunkLength?: number;
  workers: number;
  raw?: boolean;
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
    .argument('<input>', 'a WAV file (8- or 16-bit PCM; any file with --raw)')
    .requiredOption('-m, --model <checkpoint>', 'model.safetensors, a checkpoint directory or a run directory')
    .option('-o, --out <file.wlm>', 'archive to write (default: INPUT.wlm)')
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

Example:
  wavelm compress speech.wav -m runs/fsdd -o speech.wlm && wavelm decompress speech.wlm -m runs/fsdd -o restored.wav`,
    )
    .action(
      action(async (input: string, flags: CompressFlags, cmd: Command) => {
        const data = readInput(input);
        const model = loadCompressionModel(flags.model);
        // Code at the length the model was trained on when the checkpoint records it.
        const chunkLength = flags.chunkLength ?? defaultChunkLength(model);
        if (chunkLength < 1) throw new ConfigError('--chunk-length must be at least 1');
        const out = flags.out ?? `${input}.wlm`;
        const { archive, stats } = await compressAudio(data, model, {
          chunkLength,
          workers: Math.max(1, flags.workers),
          allowRaw: flags.raw,
          name: input,
          progress: barFor(cmd, { unit: 'samples' }),
        });
        writeFileSync(out, archive);
        emit(cmd, { input, output: out, ...stats }, () =>
          [
            `${input} -> ${out}: ${stats.originalBytes} -> ${stats.archiveBytes} bytes (${(100 * stats.rate).toFixed(2)}%), mode ${stats.mode}`,
            `${stats.chunks} chunks, ${stats.codedSamples} samples coded, ${stats.verbatimBytes} bytes verbatim, ${stats.seconds.toFixed(2)} s (${(stats.originalBytes / stats.seconds / 1000).toFixed(1)} KB/s)`,
          ].join('\n'),
        );
      }),
    );
}
