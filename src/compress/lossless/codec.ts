/**
 * wavelm's lossless audio codec, file in, archive out: read the samples (pcm-image), find each channel's
 * wasted bits, let the encoder pick the level's best OLS forgetting factor on the first frames, code
 * fixed-length segments (on as many threads as the runner has), and keep the bytes around the samples
 * verbatim. A file the codec cannot shrink is stored. Decoding checks the original's checksum, so a
 * damaged archive is an error, never wrong output.
 */
import { crc32c } from '../../util/crc32c.js';
import { ChecksumError, MismatchError } from '../../util/errors.js';
import { silentProgress, type ProgressSink } from '../../util/progress.js';
import { isLosslessArchive, readLossless, segmentCount, STORED_OVERHEAD, writeCoded, writeStored, type CodedArchive } from './container.js';
import { channelCodes } from './frame-codec.js';
import { LEVELS, type LevelName } from './levels.js';
import { canonicalWavHeader, pcmMd5, readPcmImage, writePcmImage, type ContainerKind, type PcmImage } from './pcm-image.js';
import { defaultCodecPrior, NO_PRIOR_ID, type CodecPrior } from './prior.js';
import { SegmentRunner } from './segment-runner.js';
import type { SegmentFormat } from './segment-jobs.js';

/** Frames per segment: long enough that a fresh model's warm-up costs little, short enough to spread a file over threads. */
export const SEGMENT_FRAMES = 1 << 18;
/** Frames the encoder codes with each OLS factor candidate to choose one. */
export const TRIAL_FRAMES = 1 << 15;

export interface LosslessOptions {
  /** Preset (default 'normal'); recorded in the archive. */
  level?: LevelName;
  /** Worker threads (default 1); the archive is the same for any number. */
  workers?: number;
  /** An open runner shared across files; `workers` is then ignored. */
  runner?: SegmentRunner;
  /** Counts frames. */
  progress?: ProgressSink;
  /** For messages. */
  name?: string;
  /** The codec model the residual coder starts from (default: the shipped one; null: none). */
  prior?: CodecPrior | null;
}

export interface LosslessStats {
  originalBytes: number;
  archiveBytes: number;
  /** archiveBytes / originalBytes. */
  rate: number;
  /** 'stored' when the codec could not shrink the file. */
  kind: ContainerKind | 'stored';
  level: LevelName;
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  frames: number;
  seconds: number;
}

/** Compresses a WAV, AIFF or FLAC file. */
export async function compressLossless(
  original: Uint8Array,
  opts: LosslessOptions = {},
): Promise<{ archive: Uint8Array; stats: LosslessStats }> {
  const t0 = performance.now();
  const name = opts.name ?? 'input';
  const level = opts.level ?? 'normal';
  const image = await readPcmImage(original, name);
  const runner =
    opts.runner ?? (await SegmentRunner.open(Math.min(opts.workers ?? 1, Math.max(1, segmentCount(image.frames, SEGMENT_FRAMES)))));
  let archive: Uint8Array;
  try {
    archive = await codeImage(image, level, priorOf(opts), runner, opts.progress ?? silentProgress);
  } finally {
    if (!opts.runner) await runner.close();
  }
  let kind: LosslessStats['kind'] = image.kind;
  if (archive.length >= original.length + STORED_OVERHEAD && image.kind !== 'flac') {
    archive = writeStored(original);
    kind = 'stored';
  }
  const stats: LosslessStats = {
    originalBytes: original.length,
    archiveBytes: archive.length,
    rate: archive.length / Math.max(1, original.length),
    kind,
    level,
    sampleRate: image.sampleRate,
    channels: image.channels,
    bitsPerSample: image.bitsPerSample,
    frames: image.frames,
    seconds: (performance.now() - t0) / 1000,
  };
  return { archive, stats };
}

function priorOf(opts: LosslessOptions): CodecPrior | undefined {
  return opts.prior === null ? undefined : (opts.prior ?? defaultCodecPrior());
}

async function codeImage(
  image: PcmImage,
  level: LevelName,
  prior: CodecPrior | undefined,
  runner: SegmentRunner,
  progress: ProgressSink,
): Promise<Uint8Array> {
  const { channels, frames } = image;
  const codes = channelCodes(image.samples, channels);
  const format = { channels, bitsPerSample: image.bitsPerSample, codes, level, prior: prior?.tables };
  const lambdaIndex = await chooseLambda(image, format, runner);
  const count = segmentCount(frames, SEGMENT_FRAMES);
  progress.start(frames, 'compress');
  let segments: Uint8Array[];
  try {
    segments = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const f0 = i * SEGMENT_FRAMES;
        const f1 = Math.min(frames, f0 + SEGMENT_FRAMES);
        const out = (await runner.run({
          kind: 'encode',
          ...format,
          lambdaIndex,
          samples: image.samples.slice(f0 * channels, f1 * channels),
        })) as Uint8Array;
        progress.tick(f1 - f0);
        return out;
      }),
    );
  } finally {
    progress.stop();
  }
  const canonical = image.kind === 'wav' && equalBytes(image.prefix, canonicalWavHeader(image));
  const archive: CodedArchive = {
    kind: image.kind,
    level,
    lambdaIndex,
    priorId: prior?.id ?? NO_PRIOR_ID,
    sampleRate: image.sampleRate,
    channels,
    bitsPerSample: image.bitsPerSample,
    bigEndian: image.bigEndian,
    codes,
    frames,
    segmentFrames: SEGMENT_FRAMES,
    prefix: canonical ? undefined : image.prefix,
    suffix: image.suffix,
    checksum: image.kind === 'flac' ? pcmMd5(image) : u32le(crc32c(writePcmImage(image))),
    segments,
  };
  return writeCoded(archive);
}

/** The candidate forgetting factor that codes the first TRIAL_FRAMES frames smallest (the first when there is one). */
async function chooseLambda(image: PcmImage, format: Omit<SegmentFormat, 'lambdaIndex'>, runner: SegmentRunner): Promise<number> {
  const candidates = LEVELS[format.level].olsLambdas;
  if (candidates.length === 1 || image.frames === 0) return 0;
  const head = image.samples.subarray(0, Math.min(image.frames, TRIAL_FRAMES) * image.channels);
  const sizes = await Promise.all(
    candidates.map(async (_, lambdaIndex) => (await runner.run({ kind: 'encode', ...format, lambdaIndex, samples: head.slice() })).length),
  );
  let best = 0;
  for (let i = 1; i < sizes.length; i++) if (sizes[i]! < sizes[best]!) best = i;
  return best;
}

export interface RestoredFile {
  bytes: Uint8Array;
  /** What the archive held: a WAV or AIFF file (restored byte for byte), FLAC's samples (restored as WAV), or a stored file. */
  kind: ContainerKind | 'stored';
  frames: number;
  seconds: number;
}

/** The codec model an archive was made with: none, the shipped one, or the one given (which must match). */
function priorFor(id: Uint8Array, opts: Omit<LosslessOptions, 'level'>, name: string): CodecPrior | undefined {
  if (equalBytes(id, NO_PRIOR_ID)) return undefined;
  const candidates = [opts.prior, defaultCodecPrior()].filter((p): p is CodecPrior => !!p);
  const match = candidates.find((p) => equalBytes(p.id, id));
  if (!match) {
    const hex = Buffer.from(id).toString('hex');
    throw new MismatchError(
      `${name} was made with codec model ${hex}` +
        `${opts.prior ? `, not ${opts.prior.name} (${Buffer.from(opts.prior.id).toString('hex')})` : ''}: pass that model with -m`,
      { subject: name },
    );
  }
  return match;
}

/** Restores the original file (WAV, AIFF, stored) or a WAV of FLAC's samples, checking its checksum. */
export async function decompressLossless(archiveBytes: Uint8Array, opts: Omit<LosslessOptions, 'level'> = {}): Promise<RestoredFile> {
  const t0 = performance.now();
  const name = opts.name ?? 'archive';
  const a = readLossless(archiveBytes, name);
  if (a.kind === 'stored') return { bytes: a.original.slice(), kind: 'stored', frames: 0, seconds: (performance.now() - t0) / 1000 };
  const prior = priorFor(a.priorId, opts, name);
  const runner = opts.runner ?? (await SegmentRunner.open(Math.min(opts.workers ?? 1, Math.max(1, a.segments.length))));
  const samples = new Int32Array(a.frames * a.channels);
  const progress = opts.progress ?? silentProgress;
  progress.start(a.frames, 'decompress');
  try {
    await Promise.all(
      a.segments.map(async (payload, i) => {
        const f0 = i * a.segmentFrames;
        const frames = Math.min(a.segmentFrames, a.frames - f0);
        const out = (await runner.run({
          kind: 'decode',
          channels: a.channels,
          bitsPerSample: a.bitsPerSample,
          codes: a.codes,
          level: a.level,
          lambdaIndex: a.lambdaIndex,
          prior: prior?.tables,
          payload: payload.slice(),
          frames,
          name,
        })) as Int32Array;
        samples.set(out, f0 * a.channels);
        progress.tick(frames);
      }),
    );
  } finally {
    progress.stop();
    if (!opts.runner) await runner.close();
  }
  const image: PcmImage = {
    kind: a.kind,
    sampleRate: a.sampleRate,
    channels: a.channels,
    bitsPerSample: a.bitsPerSample,
    bigEndian: a.bigEndian,
    samples,
    frames: a.frames,
    prefix:
      a.prefix ?? canonicalWavHeader({ sampleRate: a.sampleRate, channels: a.channels, bitsPerSample: a.bitsPerSample, frames: a.frames }),
    suffix: a.suffix,
  };
  const bytes = writePcmImage(image);
  const ok = a.kind === 'flac' ? equalBytes(pcmMd5(image), a.checksum) : equalBytes(u32le(crc32c(bytes)), a.checksum);
  if (!ok)
    throw new ChecksumError(
      `${name}: the restored ${a.kind === 'flac' ? "samples' MD5" : "file's checksum"} does not match the archive's; the archive ` +
        'is damaged',
      { subject: name },
    );
  return { bytes, kind: a.kind, frames: a.frames, seconds: (performance.now() - t0) / 1000 };
}

export { isLosslessArchive };

function u32le(v: number): Uint8Array {
  return Uint8Array.of(v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
