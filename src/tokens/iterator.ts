/**
 * The custom audio iterator: files (or folders) in, a stream of fixed-size chunks out.
 * WAV files are read window by window (memory bounded by the window, not the file); compressed files
 * are decoded whole, one at a time. Unreadable files are skipped with a warning (so one bad
 * file does not stop a corpus) or, in strict mode, raise.
 */
import { statSync } from 'node:fs';
import {
  decodeStream,
  loadAudio,
  openSourceInto,
  parseWavLayout,
  rewindow,
  sniffFile,
  warnTruncated,
  wavWindows,
  type ByteSource,
} from '../audio/index.js';
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
  /** Keep the readable frames of truncated WAV/AIFF and damaged FLAC files (with a warning). */
  allowTruncated?: boolean;
  /** Frames per window (rounded to whole blocks). Default 262144. */
  windowFrames?: number;
  /** Bytes of a compressed file fed to its decoder at a time. Default 1 MiB. */
  pieceBytes?: number;
  /** Called with each warning as it happens (they are also collected in stats.warnings). */
  onWarning?: (message: string) => void;
  /** Progress in bytes of input files. */
  progress?: ProgressSink;
  /**
   * Batches view a reused buffer and are valid only until the next batch is requested (copy what you
   * keep). Faster for consumers that write or hash each batch at once. Only for customAudioBatches;
   * the per-chunk iterator always gives chunks that stay valid.
   */
  transient?: boolean;
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

export interface FileChunkOptions {
  allowTruncated?: boolean;
  /** Told what allowTruncated kept of a truncated or damaged file. */
  onWarning?: (message: string) => void;
  windowFrames?: number;
  /** Called per window with its frames and seconds. */
  onFrames?: (frames: number, seconds: number) => void;
  /** Called as input bytes are consumed; the calls for one file add up to its size. */
  onBytes?: (bytes: number) => void;
  /** Reused read buffer for small files (see openSourceInto); default: a fresh 1 MiB buffer per call. */
  scratch?: Uint8Array;
  /** Bytes of a compressed file fed to its decoder at a time. Default 1 MiB. */
  pieceBytes?: number;
}

/**
 * Chunks of one WAV file held by `src`, in batches (one per read window), synchronously; the
 * source is not closed. `stream` must be between files.
 */
export function* wavChunkBatches(src: ByteSource, stream: ChunkStream, opts: FileChunkOptions = {}): Generator<Uint8Array[]> {
  const layout = parseWavLayout(src);
  if (layout.truncated) warnTruncated(src.name, 'WAV', layout.frames, layout.declaredFrames, opts);
  const rate = layout.format.sampleRate;
  const ba = layout.format.blockAlign;
  let consumed = 0;
  for (const w of wavWindows(src, layout, stream.windowFrames(opts.windowFrames), { allowTruncated: opts.allowTruncated })) {
    const chunks = stream.push(w);
    opts.onFrames?.(w.frames, w.frames / rate);
    opts.onBytes?.(w.frames * ba);
    consumed += w.frames * ba;
    if (chunks.length > 0) yield chunks;
  }
  opts.onBytes?.(src.size - consumed);
  const tail = stream.endFile();
  if (tail.length > 0) yield tail;
}

function* wavBatchesThenClose(src: ByteSource, stream: ChunkStream, opts: FileChunkOptions): Generator<Uint8Array[]> {
  try {
    yield* wavChunkBatches(src, stream, opts);
  } finally {
    src.close();
  }
}

/**
 * Chunks of one file of any supported format, in batches. Throws WavelmError for unreadable input.
 * `stream` must be between files (fresh, or after endFile()).
 */
export async function* fileChunkBatches(path: string, stream: ChunkStream, opts: FileChunkOptions = {}): AsyncGenerator<Uint8Array[]> {
  const src = openSourceInto(path, opts.scratch ?? new Uint8Array(1 << 20));
  try {
    const format = sniffFile(src);
    if (format === 'wav') {
      yield* wavChunkBatches(src, stream, opts);
      return;
    }
    if (format === 'flac' || format === 'ogg-vorbis' || format === 'ogg-opus' || format === 'mp3') {
      // Decoded piece by piece and regrouped into whole-block windows: memory stays bounded by the
      // window however long the file.
      const damage = { allowTruncated: opts.allowTruncated, onWarning: opts.onWarning };
      for await (const w of rewindow(decodeStream(src, format, opts.pieceBytes, damage), stream.windowFrames(opts.windowFrames))) {
        const chunks = stream.push(w);
        opts.onFrames?.(w.frames, w.frames / w.sampleRate);
        if (chunks.length > 0) yield chunks;
      }
      opts.onBytes?.(src.size);
      const tail = stream.endFile();
      if (tail.length > 0) yield tail;
      return;
    }
  } finally {
    src.close();
  }
  const audio = await loadAudio(path, { allowTruncated: opts.allowTruncated, onWarning: opts.onWarning });
  const chunks = stream.push(audio);
  const tail = stream.endFile();
  opts.onFrames?.(audio.frames, audio.frames / audio.sampleRate);
  opts.onBytes?.(fileSize(path));
  if (chunks.length + tail.length > 0) yield tail.length > 0 ? chunks.concat(tail) : chunks;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0; // reported when read
  }
}

/**
 * Chunks of many files in batches. `inputs` are files or folders (searched recursively, sorted).
 * Fills `stats` as it goes.
 */
export async function* customAudioBatches(
  inputs: string | readonly string[],
  opts: IteratorOptions = {},
  stats: IteratorStats = emptyStats(),
): AsyncGenerator<Uint8Array[]> {
  const warn = (m: string): void => {
    stats.warnings.push(m);
    opts.onWarning?.(m);
  };
  const files = collectAudioFiles(typeof inputs === 'string' ? [inputs] : inputs, warn);
  const stream = new ChunkStream(opts, opts.transient === true);
  stats.options = stream.options;
  for (const w of stream.warnings) warn(w);
  const limit = opts.numChunks ?? Infinity;
  if (opts.numChunks !== undefined && (!Number.isInteger(opts.numChunks) || opts.numChunks < 0))
    throw new WavelmError('ECONFIG', `number of chunks must be a non-negative integer, got ${opts.numChunks}`, { subject: 'numChunks' });
  // Progress counts files, so nothing is stat'ed before the first chunk; a silent sink costs nothing.
  const progress = opts.progress === silentProgress ? undefined : opts.progress;
  progress?.start(files.length, 'files');
  const scratch = new Uint8Array(1 << 20);
  const onFrames = (frames: number, seconds: number): void => {
    stats.frames += frames;
    stats.seconds += seconds;
  };
  const onBytes = (n: number): void => {
    stats.inputBytes += n;
  };
  const fileOpts: FileChunkOptions = {
    allowTruncated: opts.allowTruncated,
    onWarning: warn,
    windowFrames: opts.windowFrames,
    pieceBytes: opts.pieceBytes,
    onFrames,
    onBytes,
    scratch,
  };
  try {
    for (const path of files) {
      if (stats.chunks >= limit) break;
      let any = false;
      try {
        // WAV is read synchronously (no async generator per file: it matters for thousands of small
        // files); other formats are decoded by the async wasm decoders.
        const src = openSourceInto(path, scratch);
        let batches: Iterable<Uint8Array[]> | AsyncIterable<Uint8Array[]>;
        if (sniffFile(src) === 'wav') batches = wavBatchesThenClose(src, stream, fileOpts);
        else {
          src.close();
          batches = fileChunkBatches(path, stream, fileOpts);
        }
        for await (const batch of batches) {
          any = true;
          const room = limit - stats.chunks;
          const out = batch.length > room ? batch.slice(0, room) : batch;
          stats.chunks += out.length;
          for (const c of out) stats.bytes += c.length;
          yield out;
          if (stats.chunks >= limit) break;
        }
        stats.files++;
        progress?.tick(1);
      } catch (err) {
        stream.endFile();
        if (opts.strict || !(err instanceof WavelmError)) throw err;
        stats.skipped++;
        progress?.tick(1);
        warn(`skipped ${err.message}${any ? ' (after some of its chunks were produced)' : ''}`);
      }
    }
  } finally {
    progress?.stop();
  }
  if (opts.numChunks !== undefined && stats.chunks < opts.numChunks) {
    warn(
      `only ${stats.chunks} of the ${opts.numChunks} requested chunks were produced: ${files.length - stats.skipped} readable file(s) ` +
        `hold ${stats.seconds.toFixed(1)} s of audio; add more audio or lower the number of chunks`,
    );
  }
}

/** The chunk iterator: an async iterable of Uint8Array chunks. */
export async function* customAudioIterator(
  inputs: string | readonly string[],
  opts: IteratorOptions = {},
  stats: IteratorStats = emptyStats(),
): AsyncGenerator<Uint8Array> {
  for await (const batch of customAudioBatches(inputs, { ...opts, transient: false }, stats)) yield* batch;
}

/** An iterable of chunks that also carries its running statistics. */
export interface AudioChunkIterable extends AsyncIterable<Uint8Array> {
  readonly stats: IteratorStats;
  /** The same chunks in batches (cheaper per chunk). */
  batches(): AsyncIterable<Uint8Array[]>;
}

/** Builds the chunk iterator over files or folders; `stats` fill in while iterating. */
export function getCustomAudioIterator(inputs: string | readonly string[], opts: IteratorOptions = {}): AudioChunkIterable {
  const stats = emptyStats();
  return {
    stats,
    [Symbol.asyncIterator]: () => customAudioIterator(inputs, opts, stats),
    batches: () => customAudioBatches(inputs, opts, stats),
  };
}
