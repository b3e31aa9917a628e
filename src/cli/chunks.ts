/** `wavelm chunks INPUT...`: audio files or folders to fixed-size byte-token chunks, written back to back. */
import { createHash } from 'node:crypto';
import { closeSync, openSync, writevSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { defaultAudioDir } from '../audio/index.js';
import { customAudioBatches, emptyStats, type ChannelMode, type Conversion, type IteratorOptions, type IteratorStats, type TailMode } from '../tokens/index.js';
import { ConfigError, exitCodeFor, FormatError, WavelmError } from '../util/errors.js';
import type { ProgressSink } from '../util/progress.js';
import { action, barFor, emit, warn } from './common.js';

export interface PipelineFlags {
  bitDepth?: string;
  conversion?: Conversion;
  blockingSize?: number;
  chunkSize?: number;
  numChunks?: number;
  channelMode?: ChannelMode;
  channel?: number;
  tail?: TailMode;
  strict?: boolean;
  allowTruncated?: boolean;
}

function int(name: string, min: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got '${v}'`);
    return n;
  };
}

/** Adds the pipeline's options to a command (shared with `wavelm demo`). */
export function addPipelineOptions(cmd: Command): Command {
  return cmd
    // choices() validates; an argParser would replace that validation, so the string is converted later.
    .addOption(new Option('--bit-depth <bits>', 'bits per output sample: 8 (1 byte) or 16 (2 bytes, little-endian)').choices(['8', '16']).default('8'))
    .addOption(
      new Option('--conversion <how>', "lmic: audioop's 16->8 bit; seed-float: the seed plan's float path; exact: integer arithmetic (8-bit equals lmic)")
        .choices(['lmic', 'seed-float', 'exact'])
        .default('exact'),
    )
    .option('--blocking-size <n>', 'samples per channel in one stereo block', int('--blocking-size', 1), 1024)
    .option('--chunk-size <bytes>', 'bytes per chunk (even for 16-bit)', int('--chunk-size', 1), 2048)
    .option('--num-chunks <n>', 'stop after this many chunks (warns when the input holds fewer)', int('--num-chunks', 0))
    .addOption(
      new Option('--channel-mode <mode>', 'block: stereo as interleaved blocks; mix: down-mix to mono; pick: one channel (--channel); upmix: mono to stereo blocks')
        .choices(['block', 'mix', 'pick', 'upmix'])
        .default('block'),
    )
    .option('--channel <i>', 'channel index for --channel-mode pick', int('--channel', 0), 0)
    .addOption(new Option('--tail <how>', "each file's incomplete last chunk: drop (LMIC) or pad with zero bytes").choices(['drop', 'pad']).default('drop'))
    .option('--strict', 'stop at the first unreadable file instead of skipping it with a warning')
    .option('--allow-truncated', 'keep the readable frames of truncated WAV/AIFF and damaged FLAC files (with a warning)');
}

/** Iterator options from parsed flags. */
export function pipelineOptions(f: PipelineFlags): IteratorOptions {
  const bitDepth = f.bitDepth === '16' ? 16 : 8;
  return {
    bitDepth,
    conversion: f.conversion,
    blockingSize: f.blockingSize,
    chunkSizeBytes: f.chunkSize,
    numChunks: f.numChunks,
    channelMode: f.channelMode,
    channel: f.channel,
    tail: f.tail,
    strict: f.strict,
    allowTruncated: f.allowTruncated,
  };
}

export interface ChunksResult {
  chunks: number;
  bytes: number;
  sha256: string;
  files: number;
  skipped: number;
  seconds: number;
  inputBytes: number;
  elapsedSeconds: number;
  output: string | null;
  warnings: string[];
}

/**
 * Runs the pipeline over inputs, hashing the chunks and (when `out` is given) writing them back to
 * back. Used by `chunks` and `demo`.
 */
export async function runChunks(inputs: string[], opts: IteratorOptions, out: string | undefined, progress: ProgressSink, onWarning: (m: string) => void): Promise<ChunksResult> {
  const t0 = performance.now();
  const stats: IteratorStats = emptyStats();
  const hash = createHash('sha256');
  const fd = out ? openOut(out) : -1;
  try {
    // Each batch is hashed and written before the next is requested, so it may reuse one buffer.
    for await (const batch of customAudioBatches(inputs, { ...opts, progress, onWarning, transient: true }, stats)) {
      for (const c of batch) hash.update(c);
      if (fd >= 0) for (let i = 0; i < batch.length; i += 512) writevSync(fd, batch.slice(i, i + 512));
    }
  } finally {
    if (fd >= 0) closeSync(fd);
  }
  return {
    chunks: stats.chunks,
    bytes: stats.bytes,
    sha256: hash.digest('hex'),
    files: stats.files,
    skipped: stats.skipped,
    seconds: +stats.seconds.toFixed(3),
    inputBytes: stats.inputBytes,
    elapsedSeconds: +((performance.now() - t0) / 1000).toFixed(3),
    output: out ?? null,
    warnings: stats.warnings,
  };
}

function openOut(path: string): number {
  try {
    return openSync(path, 'w');
  } catch (err) {
    throw new WavelmError('ENOENT', `${path}: cannot write the output file (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { subject: path, cause: err });
  }
}

export function describeChunks(r: ChunksResult): string {
  const mb = (n: number) => (n / 1e6).toFixed(2);
  return [
    `${r.chunks} chunks, ${r.bytes} bytes${r.output ? ` written to ${r.output}` : ''}`,
    `from ${r.files} file(s)${r.skipped ? ` (${r.skipped} skipped)` : ''}, ${r.seconds.toFixed(1)} s of audio, ${mb(r.inputBytes)} MB in ${r.elapsedSeconds.toFixed(2)} s`,
    `sha256 ${r.sha256}`,
  ].join('\n');
}

export function registerChunks(program: Command): void {
  const cmd = program
    .command('chunks')
    .description("turn audio into LMIC-style byte-token chunks (bit depth, stereo blocking, fixed-size chunks), written back to back")
    .argument('[inputs...]', 'audio files or folders (searched recursively, sorted by path)')
    .option('-o, --out <file>', 'write the chunks here, back to back (omit to only count and hash them)')
    .option('--default', 'use the embedded default audio (CC0 Sonic Pi samples from supersonic-scsynth-samples)');
  addPipelineOptions(cmd)
    .addHelpText(
      'after',
      `
Output: the chunks, concatenated (chunks * chunk-size bytes). With --json: {chunks, bytes, sha256, warnings, ...}.
16-bit chunks hold little-endian int16 samples; as tokens of a 65536-symbol vocabulary they are x + 32768.

Examples (the embedded samples are in node_modules/supersonic-scsynth-samples/samples of a checkout):
  wavelm chunks --default -o /tmp/chunks.bin
  wavelm chunks node_modules/supersonic-scsynth-samples/samples --conversion lmic --num-chunks 1000 -o train.bin
  wavelm --json chunks node_modules/supersonic-scsynth-samples/samples/ambi_choir.flac --bit-depth 16 --blocking-size 1024 -o out.bin`,
    )
    .action(
      action(async (inputs: string[], flags: PipelineFlags & { out?: string; default?: boolean }, c: Command) => {
        const all = [...inputs];
        if (flags.default) all.push(defaultAudioDir());
        if (all.length === 0) throw new ConfigError('give audio files or folders, or --default for the embedded audio');
        const result = await runChunks(all, pipelineOptions(flags), flags.out, barFor(c, { unit: 'bytes' }), (m) => warn(c, m));
        emit(c, result, () => describeChunks(result));
        if (result.chunks === 0 && flags.numChunks !== 0) {
          // Nothing to train or compress on is a failure, even when every file was read.
          const why = result.skipped > 0 ? `${result.skipped} unreadable file(s) skipped` : `${result.files} file(s) hold less than one chunk`;
          process.stderr.write(`wavelm: no chunks were produced (${why})\n`);
          process.exitCode = exitCodeFor(new FormatError('no chunks'));
        }
      }),
    );
}
