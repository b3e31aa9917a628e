/**
 * Audio files to training and validation ChunkSets: finds the files (files, directories searched
 * recursively in sorted order, or a split manifest), decodes each with src/audio's loadAudio, runs the
 * token pipeline of src/tokens (bit depth, channel blocking, chunking) and packs the chunks.
 *
 * Validation data, in order of preference: the manifest's `valid` split; `validFiles`; otherwise a
 * file-level hold-out of `validFraction` of the files, chosen by a hash of the seed and the file's path
 * (stable when files are added); when that leaves either side empty (a single file, say), every k-th
 * chunk (k = round(1 / validFraction)) is held out instead.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { relative } from 'node:path';
import { loadAudio } from '../../audio/index.js';
import { collectAudioFiles } from '../../tokens/index.js';
import { readSplitManifest, type ManifestSplits } from '../../tokens/manifest.js';
import type { AudioData } from '../../audio/types.js';
import { ConfigError, WavelmError } from '../../util/errors.js';
import type { ProgressSink } from '../../util/progress.js';
import { chunkSetFromChunks, type ChunkSet } from '../batches.js';
import type { PipelineSettings } from '../checkpoint.js';
import { optionName, type OptionLabel } from './options.js';

/** Turns decoded audio into equal-size byte chunks (src/tokens' audioToChunks). */
export type Chunker = (audio: AudioData, settings: PipelineSettings) => Uint8Array[];

export interface LoadedData {
  train: ChunkSet;
  valid: ChunkSet;
  trainFiles: string[];
  validFiles: string[];
  /** Files that could not be read, with the reason (skipped, as the chunk iterator does: src/tokens/iterator.ts). */
  skipped: { path: string; reason: string }[];
  /** How validation data was chosen, for the log. */
  validSource: 'manifest' | 'files' | 'file-holdout' | 'chunk-holdout';
}

/** Audio files under the given paths: files as given, directories searched recursively in sorted path order. */
export function findAudioFiles(paths: readonly string[], onWarning?: (message: string) => void): string[] {
  return collectAudioFiles(paths, onWarning);
}

/** The manifest's splits for training: like readSplitManifest, and the train split must not be empty. */
export function readManifest(path: string): ManifestSplits {
  const out = readSplitManifest(path);
  if (out.train.length === 0) throw new ConfigError(`${path}: the manifest has no train files`, { subject: path });
  return out;
}

function hashFraction(seed: number, key: string): number {
  return createHash('sha256').update(`${seed}\0${key}`).digest().readUInt32BE(0) / 2 ** 32;
}

async function chunksOf(
  files: readonly string[],
  settings: PipelineSettings,
  chunker: Chunker,
  skipped: LoadedData['skipped'],
  progress?: ProgressSink,
): Promise<Uint8Array[][]> {
  const out: Uint8Array[][] = [];
  for (const f of files) {
    try {
      out.push(chunker(await loadAudio(f), settings));
    } catch (e) {
      if (!(e instanceof WavelmError)) throw e;
      skipped.push({ path: f, reason: e.message });
      out.push([]);
    }
    progress?.tick(1);
  }
  return out;
}

export interface DataOptions {
  files?: readonly string[];
  manifest?: string;
  validFiles?: readonly string[];
  validFraction: number;
  seed: number;
  settings: PipelineSettings;
  chunker: Chunker;
  progress?: ProgressSink;
  /** Told what folder walks passed over. */
  onWarning?: (message: string) => void;
  /** How messages name `files` and `manifest` (default: so; the CLI passes its flags). */
  label?: OptionLabel;
}

export async function loadTrainingData(o: DataOptions): Promise<LoadedData> {
  const skipped: LoadedData['skipped'] = [];
  let trainFiles: string[];
  let validFiles: string[];
  let validSource: LoadedData['validSource'];
  const label = o.label ?? optionName;
  if (o.manifest) {
    if (o.files && o.files.length > 0)
      throw new ConfigError(`give either ${label('files')} or ${label('manifest')}, not both`, { subject: 'files' });
    const m = readManifest(o.manifest);
    trainFiles = m.train;
    validFiles = m.valid;
    validSource = 'manifest';
  } else {
    if (!o.files || o.files.length === 0) {
      throw new ConfigError(
        `no training audio: give ${label('files')} (audio files or directories) or ${label('manifest')} (a split manifest)`,
        { subject: 'files' },
      );
    }
    trainFiles = findAudioFiles(o.files, o.onWarning);
    if (trainFiles.length === 0) throw new ConfigError(`no audio files found under ${o.files.join(', ')}`);
    if (o.validFiles && o.validFiles.length > 0) {
      validFiles = findAudioFiles(o.validFiles, o.onWarning);
      validSource = 'files';
    } else {
      const base = o.files.length === 1 && statSync(o.files[0]!).isDirectory() ? o.files[0]! : '.';
      const isValid = (f: string) => hashFraction(o.seed, relative(base, f)) < o.validFraction;
      validFiles = trainFiles.filter(isValid);
      trainFiles = trainFiles.filter((f) => !isValid(f));
      validSource = 'file-holdout';
    }
  }
  const bitDepth = o.settings.bitDepth;
  o.progress?.start(trainFiles.length + validFiles.length, 'reading audio');
  const trainChunks = (await chunksOf(trainFiles, o.settings, o.chunker, skipped, o.progress)).flat();
  const validChunks = (await chunksOf(validFiles, o.settings, o.chunker, skipped, o.progress)).flat();
  o.progress?.stop();
  if (validSource === 'file-holdout' && (trainChunks.length === 0 || validChunks.length === 0) && o.validFraction > 0) {
    // Too few files to hold any out: hold out every k-th chunk instead.
    const all = [...trainChunks, ...validChunks];
    trainFiles = [...trainFiles, ...validFiles].sort();
    validFiles = [];
    const k = Math.max(2, Math.round(1 / o.validFraction));
    const tr: Uint8Array[] = [];
    const va: Uint8Array[] = [];
    all.forEach((c, i) => {
      (i % k === k - 1 ? va : tr).push(c);
    });
    return {
      train: chunkSetFromChunks(tr, bitDepth),
      valid: chunkSetFromChunks(va, bitDepth),
      trainFiles,
      validFiles,
      skipped,
      validSource: 'chunk-holdout',
    };
  }
  return {
    train: chunkSetFromChunks(trainChunks, bitDepth),
    valid: chunkSetFromChunks(validChunks, bitDepth),
    trainFiles,
    validFiles,
    skipped,
    validSource,
  };
}

/** sha256 over the chunk geometry and tokens of both sets: a resumed run must see the same data. */
export function dataFingerprint(train: ChunkSet, valid: ChunkSet): string {
  const h = createHash('sha256');
  for (const s of [train, valid]) {
    h.update(`${s.numChunks}x${s.chunkTokens}/${s.vocabSize};`);
    h.update(new Uint8Array(s.tokens.buffer, s.tokens.byteOffset, s.tokens.byteLength));
  }
  return h.digest('hex');
}
