/**
 * The evaluation data: files (or folders, or a split manifest) through the audio pipeline: by default
 * LMIC's, i.e. data_loaders.py's LibriSpeech recipe (first channel, audioop 16 -> 8 bit, high byte + 128,
 * 2048-byte chunks, each file's incomplete last chunk dropped), or any configuration `chunks` and
 * `train` accept.
 */
import { readAudioInfo } from '../audio/index.js';
import {
  collectAudioFiles,
  customAudioIterator,
  emptyStats,
  validateAudioConfig,
  type IteratorStats,
  type PipelineOptions,
  type ResolvedPipelineOptions,
} from '../tokens/index.js';
import { readSplitManifest } from '../tokens/manifest.js';
import { ConfigError, NotFoundError } from '../util/errors.js';
import type { ProgressSink } from '../util/progress.js';
import { shardItems, type Shard } from '../util/shards.js';

/** Paths of a `wavelm split` manifest, optionally one split only (train, valid or test). */
export function manifestPaths(file: string, split?: string): string[] {
  const m = readSplitManifest(file);
  if (split !== undefined && split !== 'train' && split !== 'valid' && split !== 'test')
    throw new ConfigError(`split must be train, valid or test, got '${split}'`, { subject: split, options: ['split'] });
  const out = split === undefined ? [...m.train, ...m.valid, ...m.test] : m[split];
  if (out.length === 0) throw new ConfigError(`${file}: no files${split ? ` in split '${split}'` : ''}`, { subject: file });
  return out;
}

export interface EvalData {
  chunks: Uint8Array[];
  files: number;
  sampleRate: number;
  /** Channels of the token stream: 1 for mono, picked or mixed data, else the blocked channel count (first file's, like sampleRate). */
  channels: number;
  /** The settings the chunks were made with. */
  pipeline: ResolvedPipelineOptions;
  stats: IteratorStats;
}

/** LMIC's pipeline (data_loaders.py): first channel, audioop 16 -> 8 bit, 2048-byte chunks, tails dropped. */
export const LMIC_PIPELINE: PipelineOptions = Object.freeze({
  bitDepth: 8,
  conversion: 'lmic',
  channelMode: 'pick',
  channel: 0,
  chunkSizeBytes: 2048,
  tail: 'drop',
});

/**
 * Chunks of `inputs` (files or folders) through `pipeline`, up to `maxChunks`; with `shard`, only that
 * shard's files (src/util/shards.ts), while the sample rate and channels still come from the first file
 * of all, so that every shard gives the compressors what one run would.
 */
export async function pipelineChunks(
  inputs: string[],
  pipeline: PipelineOptions,
  opts: { maxChunks?: number; progress?: ProgressSink; onWarning?: (m: string) => void; shard?: Shard } = {},
): Promise<EvalData> {
  const all = collectAudioFiles(inputs, opts.onWarning);
  if (all.length === 0) throw new NotFoundError(`no audio files in ${inputs.join(', ')}`);
  if (opts.shard && opts.maxChunks !== undefined)
    throw new ConfigError(
      `maxChunks ${opts.maxChunks} counts over all files and cannot be split into shards: leave it out with numShards`,
      { options: ['maxChunks', 'numShards'] },
    );
  const files = shardItems(all, opts.shard);
  const resolved = validateAudioConfig(pipeline).options;
  const stats = emptyStats();
  const chunks: Uint8Array[] = [];
  for await (const c of customAudioIterator(
    files,
    { ...pipeline, numChunks: opts.maxChunks, progress: opts.progress, onWarning: opts.onWarning },
    stats,
  )) {
    chunks.push(c.slice());
  }
  const info = await readAudioInfo(all[0]!);
  const blocked = resolved.channelMode === 'block' || resolved.channelMode === 'upmix';
  const channels = !blocked ? 1 : resolved.channelMode === 'upmix' ? Math.max(2, info.channels) : info.channels;
  return { chunks, files: files.length, sampleRate: info.sampleRate, channels, pipeline: resolved, stats };
}

/** LMIC 8-bit chunks of `inputs` (files or folders), up to `maxChunks`. */
export function lmicChunks(
  inputs: string[],
  opts: { maxChunks?: number; progress?: ProgressSink; onWarning?: (m: string) => void } = {},
): Promise<EvalData> {
  return pipelineChunks(inputs, LMIC_PIPELINE, opts);
}
