/** `wavelm chunks INPUT...`: audio files or folders to fixed-size byte-token chunks, written back to back. */
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Option } from './commander.js';
import type { Command } from 'commander';
import type { ChannelMode, Conversion, IteratorOptions, IteratorStats, TailMode } from '../tokens/index.js';
import type { ChunkDtype } from '../tokens/npy-chunks.js';
import { ConfigError, exitCodeFor, FormatError, WavelmError } from '../util/errors.js';
import { packageVersion } from '../util/paths.js';
import type { ProgressSink } from '../util/progress.js';
import type { Shard } from '../util/shards.js';
import { action, barFor, emit, warn } from './common.js';
import { addShardOptions, integerOption, shardFromFlags } from './options.js';

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

/**
 * Adds the options that decide the tokens (bit depth, conversion, blocking, chunk size, channels, tail) to
 * a command: the one definition `chunks`, `demo` and `eval` share. `defaults.channelMode` lets `eval`
 * keep LMIC's first channel.
 */
export function addTokenOptions(cmd: Command, defaults: { channelMode?: ChannelMode } = {}): Command {
  return (
    cmd
      // choices() validates; an argParser would replace that validation, so the string is converted later.
      .addOption(
        new Option('--bit-depth <bits>', 'bits per output sample: 8 (1 byte) or 16 (2 bytes, little-endian)')
          .choices(['8', '16'])
          .default('8'),
      )
      .addOption(
        new Option(
          '--conversion <how>',
          "lmic: audioop's 16->8 bit; seed-float: a numpy-style float32 round trip; exact: integer arithmetic (8-bit equals lmic)",
        )
          .choices(['lmic', 'seed-float', 'exact'])
          .default('exact'),
      )
      .option('--blocking-size <n>', 'samples per channel in one stereo block', integerOption({ min: 1 }), 1024)
      .option('--chunk-size <bytes>', 'bytes per chunk (even for 16-bit)', integerOption({ min: 1 }), 2048)
      .addOption(
        new Option(
          '--channel-mode <mode>',
          'block: stereo as interleaved blocks; mix: down-mix to mono; pick: one channel (--channel); upmix: mono to stereo blocks',
        )
          .choices(['block', 'mix', 'pick', 'upmix'])
          .default(defaults.channelMode ?? 'block'),
      )
      .option('--channel <i>', 'channel index for --channel-mode pick', integerOption({ min: 0 }), 0)
      .addOption(
        new Option('--tail <how>', "each file's incomplete last chunk: drop (LMIC) or pad with zero bytes")
          .choices(['drop', 'pad'])
          .default('drop'),
      )
  );
}

/** Adds the pipeline's options to a command: the token options plus how files are read (shared with `wavelm demo`). */
export function addPipelineOptions(cmd: Command): Command {
  return addTokenOptions(cmd)
    .option('--num-chunks <n>', 'stop after this many chunks (warns when the input holds fewer)', integerOption({ min: 0 }))
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
  /** How the output was written: raw bytes, or a .npy array of this dtype and shape with a sidecar JSON. */
  format: 'raw' | 'npy';
  npy?: { dtype: ChunkDtype; shape: [number, number]; sidecar: string };
  warnings: string[];
}

/** The output file's layout: chunks back to back, or a .npy array of `dtype` tokens. */
export type ChunkOutput = { format: 'raw' } | { format: 'npy'; dtype?: string };

/**
 * Runs the pipeline over inputs, hashing the chunks and (when `out` is given) writing them back to
 * back. Used by `chunks` and `demo`.
 */
export async function runChunks(
  inputs: string[],
  opts: IteratorOptions,
  out: string | undefined,
  progress: ProgressSink,
  onWarning: (m: string) => void,
  output: ChunkOutput = { format: 'raw' },
): Promise<ChunksResult> {
  const t0 = performance.now();
  const [
    { customAudioBatches, emptyStats, validateAudioConfig, collectAudioFiles },
    { chunkDtype, chunkSidecar, NpyChunkWriter, tokensPerChunk },
    { createHash },
    { BufferedWriter },
  ] = await Promise.all([
    import('../tokens/index.js'),
    import('../tokens/npy-chunks.js'),
    import('node:crypto'),
    import('../util/buffered-writer.js'),
  ]);
  const stats: IteratorStats = emptyStats();
  const hash = createHash('sha256');
  const resolved = validateAudioConfig(opts).options;
  const tokens = tokensPerChunk(resolved.bitDepth, resolved.chunkSizeBytes);
  // The dtype is checked before any file is opened or audio read.
  const npy = out && output.format === 'npy' ? new NpyChunkWriter(out, chunkDtype(resolved.bitDepth, output.dtype), tokens) : undefined;
  const fd = out && !npy ? openOut(out) : -1;
  const raw = fd >= 0 ? new BufferedWriter(fd) : undefined;
  try {
    // Each batch is hashed and written before the next is requested, so it may reuse one buffer.
    for await (const batch of customAudioBatches(inputs, { ...opts, progress, onWarning, transient: true }, stats)) {
      for (const c of batch) hash.update(c);
      if (npy) npy.write(batch);
      else raw?.writeAll(batch);
    }
    raw?.flush();
  } finally {
    if (fd >= 0) closeSync(fd);
    npy?.close();
  }
  const sha256 = hash.digest('hex');
  const result: ChunksResult = {
    chunks: stats.chunks,
    bytes: stats.bytes,
    sha256,
    files: stats.files,
    skipped: stats.skipped,
    seconds: +stats.seconds.toFixed(3),
    inputBytes: stats.inputBytes,
    elapsedSeconds: +((performance.now() - t0) / 1000).toFixed(3),
    output: out ?? null,
    format: npy ? 'npy' : 'raw',
    warnings: stats.warnings,
  };
  if (npy && out) {
    const sidecar = `${out}.json`;
    const meta = chunkSidecar({
      file: basename(out),
      dtype: npy.dtype,
      options: resolved,
      files: collectAudioFiles(inputs),
      filesRead: stats.files,
      skipped: stats.skipped,
      chunks: stats.chunks,
      sha256,
      warnings: stats.warnings,
      version: packageVersion(),
    });
    writeFileSync(sidecar, `${JSON.stringify(meta, null, 2)}\n`);
    result.npy = { dtype: npy.dtype, shape: meta.array.shape, sidecar };
  }
  return result;
}

function openOut(path: string): number {
  try {
    return openSync(path, 'w');
  } catch (err) {
    throw new WavelmError('ENOENT', `${path}: cannot write the output file (${(err as NodeJS.ErrnoException).code ?? String(err)})`, {
      subject: path,
      cause: err,
    });
  }
}

export function describeChunks(r: ChunksResult): string {
  const mb = (n: number) => (n / 1e6).toFixed(2);
  return [
    r.npy
      ? `${r.chunks} chunks, ${r.bytes} bytes written to ${r.output} as ${r.npy.dtype}[${r.npy.shape.join(', ')}] (settings in ` +
        `${r.npy.sidecar})`
      : `${r.chunks} chunks, ${r.bytes} bytes${r.output ? ` written to ${r.output}` : ''}`,
    `from ${r.files} file(s)${r.skipped ? ` (${r.skipped} skipped)` : ''}, ${r.seconds.toFixed(1)} s of audio, ` +
      `${mb(r.inputBytes)} MB in ${r.elapsedSeconds.toFixed(2)} s`,
    `sha256 ${r.sha256}`,
  ].join('\n');
}

export function registerChunks(program: Command): void {
  const cmd = program
    .command('chunks')
    .description('turn audio into LMIC-style byte-token chunks (bit depth, stereo blocking, fixed-size chunks), written back to back')
    .argument('[inputs...]', 'audio files or folders (searched recursively, sorted by path)')
    .option('-o, --out <file>', 'write the chunks here, back to back (omit to only count and hash them)')
    .addOption(
      new Option(
        '--format <kind>',
        'raw: chunks back to back; npy: a [chunks, tokens] .npy array and OUT.json of the settings (default: npy when OUT ends in .npy)',
      ).choices(['raw', 'npy']),
    )
    .addOption(
      new Option(
        '--npy-dtype <type>',
        '.npy element type: uint8 (8-bit), uint16 tokens x + 32768 or int16 samples (16-bit); default uint8 / uint16',
      ).choices(['uint8', 'int16', 'uint16']),
    )
    .option('--default', 'use the embedded default audio (CC0 Sonic Pi samples from supersonic-scsynth-samples)');
  addShardOptions(addPipelineOptions(cmd))
    .addHelpText(
      'after',
      `
Output: the chunks, concatenated (chunks * chunk-size bytes). With --json: {chunks, bytes, sha256, warnings, ...}.
16-bit chunks hold little-endian int16 samples; as tokens of a 65536-symbol vocabulary they are x + 32768.
As .npy (-o out.npy or --format npy): shape [chunks, tokens per chunk] (chunk-size bytes at 8-bit, half
that at 16-bit), memory-mappable (numpy.load(path, mmap_mode='r')), with out.npy.json listing the
settings, the files and the sha256 of the chunk bytes.
With --num-shards N --shard-index I only shard I of the sorted file list is read; the N raw outputs
concatenated in shard order are the bytes of one run over all files (docs/scaling.md).

Examples (the embedded samples are in node_modules/supersonic-scsynth-samples/samples of a checkout):
  wavelm chunks --default -o /tmp/chunks.bin
  wavelm chunks node_modules/supersonic-scsynth-samples/samples --conversion lmic --num-chunks 1000 -o train.bin
  wavelm --json chunks node_modules/supersonic-scsynth-samples/samples/ambi_choir.flac --bit-depth 16 --blocking-size 1024 -o out.bin
  wavelm chunks node_modules/supersonic-scsynth-samples/samples --bit-depth 16 -o train.npy    # uint16 tokens, shape [chunks, 1024]`,
    )
    .action(
      action(
        async (
          inputs: string[],
          flags: PipelineFlags & {
            out?: string;
            default?: boolean;
            format?: 'raw' | 'npy';
            npyDtype?: string;
            numShards?: number;
            shardIndex?: number;
          },
          c: Command,
        ) => {
          let all = [...inputs];
          if (flags.default) all.push((await import('../audio/index.js')).defaultAudioDir());
          if (all.length === 0) throw new ConfigError('give audio files or folders, or --default for the embedded audio');
          const shard = await shardFromFlags(flags);
          if (shard && flags.numChunks !== undefined)
            throw new ConfigError(
              `--num-chunks ${flags.numChunks} counts over all files and cannot be split into shards: leave it out with --num-shards`,
            );
          if (shard) all = await shardFiles(all, shard, (m) => warn(c, m));
          const format = flags.format ?? (flags.out?.toLowerCase().endsWith('.npy') ? 'npy' : 'raw');
          if (format === 'npy' && !flags.out) throw new ConfigError('--format npy writes a file: give -o OUT.npy');
          if (format === 'raw' && flags.npyDtype)
            throw new ConfigError('--npy-dtype applies to .npy output: give -o OUT.npy or --format npy');
          const output = format === 'npy' ? { format, dtype: flags.npyDtype } : { format };
          const result: ChunksResult & { shard?: Shard & { files: number } } = await runChunks(
            all,
            pipelineOptions(flags),
            flags.out,
            barFor(c, { unit: 'files' }),
            (m) => warn(c, m),
            output,
          );
          if (shard) result.shard = { ...shard, files: all.length };
          emit(c, result, () => (shard ? `shard ${shard.index} of ${shard.count}: ${all.length} file(s)\n` : '') + describeChunks(result));
          // A shard may hold no files when there are more shards than files; that is no failure.
          if (result.chunks === 0 && flags.numChunks !== 0 && !(shard && all.length === 0)) {
            // Nothing to train or compress on is a failure, even when every file was read.
            const why =
              result.skipped > 0 ? `${result.skipped} unreadable file(s) skipped` : `${result.files} file(s) hold less than one chunk`;
            process.stderr.write(`wavelm: no chunks were produced (${why})\n`);
            process.exitCode = exitCodeFor(new FormatError('no chunks'));
          }
        },
      ),
    );
}

/** The files of one shard of the inputs' file list, as collectAudioFiles expands it (inputs in order, folders sorted). */
export async function shardFiles(inputs: readonly string[], shard: Shard, onWarning: (m: string) => void): Promise<string[]> {
  const [{ collectAudioFiles }, { shardItems }] = await Promise.all([import('../tokens/index.js'), import('../util/shards.js')]);
  return shardItems(collectAudioFiles(inputs, onWarning), shard);
}
