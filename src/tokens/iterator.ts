/**
 * The seed's custom audio iterator: files (or folders) in, a stream of fixed-size chunks out.
 * WAV files are read window by window (memory bounded by the window, not the file); compressed files
 * are decoded whole, one at a time. Unreadable files are skipped with a warning (the seed's
 * behaviour) or, in strict mode, raise.
 */
import { statSync } from 'node:fs';
import { loadAudio, openSource, parseWavLayout, sniffFile, wavWindows } from '../audio/index.js';
import { WavelmError } from '../util/errors.js';
import { silentProgress, type ProgressSink } from '../util/progress.js';
import { collectAudioFiles } from './files.js';
import type { PipelineOptions, ResolvedPipelineOptions } from './options.js';
import { ChunkStream } from './pipeline.js';

export interface IteratorOptions extends PipelineOptions {
  /** Stop after this many chunks (default: all). */
  numChunks?: number;
  /** Raise on the first unreadable file instead of skipping it. */
  strict?: boolean;
  /** Keep the readable frames of truncated WAV files. */
  allowTruncated?: boolean;
  /** Frames per read window for WAV files (rounded to whole blocks). Default 262144. */
  windowFrames?: number;
  /** Called with each warning as it happens (they are also collected in stats.warnings). */
  onWarning?: (message: string) => void;
  /** Progress in bytes of input files. */
  progress?: ProgressSink;
}

export interface IteratorStats {
  /** Files that produced audio. */
  files: number;
  /** Files skipped because they could not be read. */
  skipped: number;
  chunks: number;
  /** Bytes of chunks produced. */
  bytes: number;
  /** Bytes of input files read. */
  inputBytes: number;
  /** Frames of audio consumed and their duration. */
  frames: number;
  seconds: number;
  warnings: string[];
  options?: ResolvedPipelineOptions;
}

export function emptyStats(): IteratorStats {
  return { files: 0, skipped: 0, chunks: 0, bytes: 0, inputBytes: 0, frames: 0, seconds: 0, warnings: [] };
}

/**
 * Chunks of one file, in batches (one per read window). Throws WavelmError for unreadable input.
 * `stream` must be between files (fresh, or after endFile()).
 */
export async function* fileChunkBatches(
  path: string,
  stream: ChunkStream,
  opts: { allowTruncated?: boolean; windowFrames?: number; onFrames?: (frames: number, seconds: number, bytes: number) => void } = {},
): AsyncGenerator<Uint8Array[]> {
  const src = openSource(path, 1 << 20);
  let isWav = false;
  try {
    isWav = sniffFile(src) === 'wav';
    if (isWav) {
      const layout = parseWavLayout(src);
      const rate = layout.format.sampleRate;
      const frameBytes = layout.format.blockAlign;
      for (const w of wavWindows(src, layout, stream.windowFrames(opts.windowFrames), { allowTruncated: opts.allowTruncated })) {
        const chunks = stream.push(w);
        opts.onFrames?.(w.frames, w.frames / rate, w.frames * frameBytes);
        if (chunks.length > 0) yield chunks;
      }
      const tail = stream.endFile();
      if (tail.length > 0) yield tail;
      return;
    }
  } finally {
    src.close();
  }
  const audio = await loadAudio(path, { allowTruncated: opts.allowTruncated });
  const chunks = stream.push(audio);
  const tail = stream.endFile();
  opts.onFrames?.(audio.frames, audio.frames / audio.sampleRate, 0);
  if (chunks.length + tail.length > 0) yield tail.length > 0 ? chunks.concat(tail) : chunks;
}

/** Sum of input file sizes (0 for files that cannot be stat'ed; they fail later with a proper error). */
function totalSize(files: readonly string[]): number {
  let n = 0;
  for (const f of files) {
    try {
      n += statSync(f).size;
    } catch {
      /* reported when read */
    }
  }
  return n;
}

/**
 * Chunks of many files in batches. `inputs` are files or folders (searched recursively, sorted).
 * Fills `stats` as it goes.
 */
export async function* customAudioBatches(inputs: string | readonly string[], opts: IteratorOptions = {}, stats: IteratorStats = emptyStats()): AsyncGenerator<Uint8Array[]> {
  const files = collectAudioFiles(typeof inputs === 'string' ? [inputs] : inputs);
  const stream = new ChunkStream(opts);
  stats.options = stream.options;
  const warn = (m: string): void => {
    stats.warnings.push(m);
    opts.onWarning?.(m);
  };
  for (const w of stream.warnings) warn(w);
  const limit = opts.numChunks ?? Infinity;
  if (opts.numChunks !== undefined && (!Number.isInteger(opts.numChunks) || opts.numChunks < 0))
    throw new WavelmError('ECONFIG', `number of chunks must be a non-negative integer, got ${opts.numChunks}`, { subject: 'numChunks' });
  const progress = opts.progress ?? silentProgress;
  progress.start(totalSize(files), 'audio');
  try {
    for (const path of files) {
      if (stats.chunks >= limit) break;
      let size = 0;
      try {
        size = statSync(path).size;
      } catch {
        /* the reader raises a NotFoundError below */
      }
      let any = false;
      try {
        for await (const batch of fileChunkBatches(path, stream, {
          allowTruncated: opts.allowTruncated,
          windowFrames: opts.windowFrames,
          onFrames: (frames, seconds) => {
            stats.frames += frames;
            stats.seconds += seconds;
          },
        })) {
          any = true;
          const room = limit - stats.chunks;
          const out = batch.length > room ? batch.slice(0, room) : batch;
          stats.chunks += out.length;
          for (const c of out) stats.bytes += c.length;
          yield out;
          if (stats.chunks >= limit) break;
        }
        stats.files++;
        stats.inputBytes += size;
        progress.tick(size);
      } catch (err) {
        stream.endFile();
        if (opts.strict || !(err instanceof WavelmError)) throw err;
        stats.skipped++;
        progress.tick(size);
        warn(`skipped ${err.message}${any ? ' (after some of its chunks were produced)' : ''}`);
      }
    }
  } finally {
    progress.stop();
  }
  if (opts.numChunks !== undefined && stats.chunks < opts.numChunks) {
    warn(
      `only ${stats.chunks} of the ${opts.numChunks} requested chunks were produced: ${files.length - stats.skipped} readable file(s) ` +
        `hold ${stats.seconds.toFixed(1)} s of audio; add more audio or lower the number of chunks`,
    );
  }
}

/** The seed's iterator: an async iterable of Uint8Array chunks. */
export async function* customAudioIterator(inputs: string | readonly string[], opts: IteratorOptions = {}, stats: IteratorStats = emptyStats()): AsyncGenerator<Uint8Array> {
  for await (const batch of customAudioBatches(inputs, opts, stats)) yield* batch;
}

/** An iterable of chunks that also carries its running statistics. */
export interface AudioChunkIterable extends AsyncIterable<Uint8Array> {
  readonly stats: IteratorStats;
  /** The same chunks in batches (cheaper per chunk). */
  batches(): AsyncIterable<Uint8Array[]>;
}

/** Builds the seed's iterator over files or folders; `stats` fill in while iterating. */
export function getCustomAudioIterator(inputs: string | readonly string[], opts: IteratorOptions = {}): AudioChunkIterable {
  const stats = emptyStats();
  return {
    stats,
    [Symbol.asyncIterator]: () => customAudioIterator(inputs, opts, stats),
    batches: () => customAudioBatches(inputs, opts, stats),
  };
}
