/**
 * Codec models: the starting state of the residual coder's counters and mixers, learned by coding a
 * corpus, so that a short recording is coded by a model that already knows how residuals of audio are
 * distributed instead of one that starts from even odds. Training runs the codec over the corpus with one
 * residual model for every channel and file, and keeps its state (src/compress/lossless/residual-model.ts
 * caps the counters' confidence when a prior is loaded, so they keep adapting).
 *
 * A codec model is a safetensors file (metadata format "wavelm-codec-prior"); an archive records the
 * first 8 bytes of its SHA-256, and decoding with another model is a MismatchError, never wrong output.
 * The package ships one, trained on the CC0 samples it embeds (models/codec-prior.safetensors).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MismatchError, NotFoundError } from '../../util/errors.js';
import { packageRoot } from '../../util/paths.js';
import { silentProgress, type ProgressSink } from '../../util/progress.js';
import { parseSafetensors, serializeSafetensors, type DType } from '../../util/safetensors.js';
import type { BitCoder } from './binary-coder.js';
import { channelCodes, run } from './frame-codec.js';
import { LEVELS, type LevelName } from './levels.js';
import { readPcmImage } from './pcm-image.js';
import { ResidualModel, type ResidualPrior } from './residual-model.js';

export const PRIOR_FORMAT = 'wavelm-codec-prior';
/** Bumped when the residual model's tables change shape or meaning. */
export const PRIOR_VERSION = '1';
/** The id of "no prior" in an archive. */
export const NO_PRIOR_ID = new Uint8Array(8);

export interface CodecPrior {
  /** First 8 bytes of the SHA-256 of the file's bytes. */
  id: Uint8Array;
  tables: ResidualPrior;
  /** For messages: the file it came from. */
  name: string;
  /** What it was trained on, as recorded in its metadata. */
  metadata: Record<string, string>;
}

export function priorId(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest()).subarray(0, 8);
}

export function parseCodecPrior(bytes: Uint8Array, name: string): CodecPrior {
  const file = parseSafetensors(bytes, name);
  const meta = file.metadata ?? {};
  if (meta.format !== PRIOR_FORMAT)
    throw new MismatchError(`${name}: not a wavelm codec model (metadata format '${meta.format ?? ''}', expected '${PRIOR_FORMAT}')`, {
      subject: name,
    });
  if (meta.version !== PRIOR_VERSION)
    throw new MismatchError(
      `${name}: codec model version ${meta.version}; this wavelm reads version ${PRIOR_VERSION} (retrain it with wavelm train --codec)`,
      { subject: name },
    );
  const tables: ResidualPrior = {};
  for (const [key, t] of file.tensors) {
    if (!(t.data instanceof Uint16Array || t.data instanceof Uint8Array || t.data instanceof Float64Array))
      throw new MismatchError(`${name}: table ${key} has type ${t.dtype}; codec models hold U8, U16 and F64`, { subject: name });
    tables[key] = t.data;
  }
  // Every table must fit the residual model: building one checks names, sizes and types.
  new ResidualModel(tables);
  return { id: priorId(bytes), tables, name, metadata: meta };
}

export function readCodecPrior(path: string): CodecPrior {
  if (!existsSync(path)) throw new NotFoundError(`${path}: no such codec model`, { subject: path });
  return parseCodecPrior(new Uint8Array(readFileSync(path)), path);
}

/** True when `path` is a codec model file (rather than a language-model checkpoint). */
export function isCodecPriorFile(path: string): boolean {
  if (!path.endsWith('.safetensors') || !existsSync(path)) return false;
  try {
    return parseSafetensors(new Uint8Array(readFileSync(path)), path).metadata?.format === PRIOR_FORMAT;
  } catch {
    return false;
  }
}

export function serializeCodecPrior(tables: ResidualPrior, metadata: Record<string, string>): Uint8Array {
  const tensors: Record<string, { shape: number[]; data: ResidualPrior[string]; dtype: DType }> = {};
  for (const key of Object.keys(tables).sort()) {
    const data = tables[key]!;
    tensors[key] = { shape: [data.length], data, dtype: data instanceof Float64Array ? 'F64' : data instanceof Uint16Array ? 'U16' : 'U8' };
  }
  return serializeSafetensors(tensors, { ...metadata, format: PRIOR_FORMAT, version: PRIOR_VERSION });
}

/** The path of the codec model the package ships. */
export function defaultPriorPath(): string {
  return join(packageRoot(), 'models', 'codec-prior.safetensors');
}

let defaultPrior: CodecPrior | undefined;

/** The shipped codec model (read once). */
export function defaultCodecPrior(): CodecPrior {
  defaultPrior ??= readCodecPrior(defaultPriorPath());
  return defaultPrior;
}

/** A coder that codes nothing: training needs the model's updates, not the bits. */
const NO_OUTPUT: BitCoder = { code: (_p, bit) => bit };

export interface TrainPriorOptions {
  /** Continue from this model (fine-tuning) instead of even odds. */
  init?: CodecPrior;
  /** The level whose predictor makes the residuals (default normal). */
  level?: LevelName;
  /** Counts files. */
  progress?: ProgressSink;
  /** Called for a file that cannot be read; the others go on. */
  onSkip?: (path: string, error: Error) => void;
}

/** Trains a codec model on WAV, AIFF or FLAC files: one residual model codes every channel of every file, in order. */
export async function trainCodecPrior(
  files: readonly string[],
  opts: TrainPriorOptions = {},
): Promise<{ tables: ResidualPrior; files: number; frames: number }> {
  const level = LEVELS[opts.level ?? 'normal'];
  const model = new ResidualModel(opts.init?.tables);
  const progress = opts.progress ?? silentProgress;
  let used = 0;
  let frames = 0;
  progress.start(files.length, 'train codec');
  try {
    for (const f of files) {
      try {
        const image = await readPcmImage(new Uint8Array(readFileSync(f)), f);
        const samples = image.samples;
        run(
          NO_OUTPUT,
          { samples, channels: image.channels, bitsPerSample: image.bitsPerSample },
          channelCodes(samples, image.channels),
          level,
          level.olsLambdas[level.olsLambdas.length - 1]!,
          false,
          () => model,
        );
        used++;
        frames += image.frames;
      } catch (e) {
        opts.onSkip?.(f, e instanceof Error ? e : new Error(String(e)));
      }
      progress.tick(1);
    }
  } finally {
    progress.stop();
  }
  return { tables: model.exportPrior(), files: used, frames };
}
