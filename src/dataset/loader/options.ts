/** The loader's options, their defaults, and the checks that need no dataset. */
import { ConfigError } from '../../util/errors.js';
import type { OrderName } from '../orders/index.js';

export interface CropOptions {
  /** Length of the crop in samples of the crop field (frames for mel and codec tokens). */
  length: number;
  /** 'random' (per sample, keyed by seed, epoch and index), 'start' or 'center'. Default 'random'. */
  mode?: 'random' | 'start' | 'center';
  /**
   * Field whose time axis the crop is measured on (default: the first array field). Other array fields get the same span
   * in their own units.
   */
  field?: string;
}

/** Blob CRC-32C checks: on the first read of each blob ('once'), on every read (true), or never (false). */
export type VerifyMode = boolean | 'once';

export interface LoaderOptions {
  batchSize?: number;
  /** Batches filled up to this many seconds of audio (with batchSize as an upper bound on samples, if given). */
  maxBatchDuration?: number;
  order?: OrderName;
  seed?: number;
  epoch?: number;
  /** Samples of this rank's epoch already consumed (from `position().cursor`). */
  cursor?: number;
  rank?: number;
  worldSize?: number;
  /**
   * Epochs one iteration runs through (default 1), the next epoch's batches read ahead before this one
   * ends; batches carry their epoch in `position`.
   */
  epochs?: number;
  /** Drop a last batch smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Batches read and decoded ahead of the consumer (default 2). */
  batchesAhead?: number;
  /** Worker threads for heavy fields (compressed audio). 0 decodes in this thread (default). */
  workers?: number;
  /** Fields to load (default: all). */
  fields?: string[];
  crop?: CropOptions;
  /**
   * Blob CRC-32C checks: 'once' (default) checks each blob the first time this loader reads it, so
   * damage is caught in the first epoch at no cost later; true checks every read; false never.
   * Crops of raw fields read partial blobs, which cannot be checked.
   */
  verify?: VerifyMode;
  /**
   * Reuse output arrays from a ring of batchesAhead + 2 sets: no allocation per batch, but a batch's
   * arrays are overwritten once that many newer batches have been taken. Default false.
   */
  reuseBuffers?: boolean;
  /** Reads closer than this many bytes are merged into one (default 64 KiB). */
  mergeGap?: number;
  /**
   * 'sync' (default) reads with positional readSync, run between the consumer's steps (setImmediate):
   * from the page cache this costs microseconds per read, where a thread-pool round trip costs tens.
   * 'async' uses the libuv thread pool: better for cold data on slow or network disks.
   */
  io?: 'sync' | 'async';
}

type Defaulted =
  | 'order'
  | 'seed'
  | 'rank'
  | 'worldSize'
  | 'dropLast'
  | 'batchesAhead'
  | 'workers'
  | 'verify'
  | 'reuseBuffers'
  | 'mergeGap'
  | 'io';

/** Options with their defaults filled in; a batch size is set unless batches are capped by duration only. */
export type ResolvedLoaderOptions = Required<Pick<LoaderOptions, Defaulted>> & LoaderOptions;

const DEFAULTS: Required<Pick<LoaderOptions, Defaulted>> = {
  order: 'random',
  seed: 0,
  rank: 0,
  worldSize: 1,
  dropLast: false,
  batchesAhead: 2,
  workers: 0,
  verify: 'once',
  reuseBuffers: false,
  mergeGap: 64 << 10,
  io: 'sync',
};

/** Fills in the defaults and checks the batch and thread counts. */
export function resolveLoaderOptions(opts: LoaderOptions): ResolvedLoaderOptions {
  const resolved: ResolvedLoaderOptions = { ...DEFAULTS, ...opts };
  if (resolved.verify === undefined) resolved.verify = 'once';
  if (resolved.batchSize === undefined && resolved.maxBatchDuration === undefined) resolved.batchSize = 32;
  checkBatchOptions(resolved);
  return resolved;
}

function checkBatchOptions(o: ResolvedLoaderOptions): void {
  if (o.batchSize !== undefined && (!Number.isInteger(o.batchSize) || o.batchSize < 1))
    throw new ConfigError(`batchSize must be a positive integer, got ${o.batchSize}`);
  if (o.maxBatchDuration !== undefined && !(o.maxBatchDuration > 0))
    throw new ConfigError(`maxBatchDuration must be positive seconds, got ${o.maxBatchDuration}`);
  if (!Number.isInteger(o.batchesAhead) || o.batchesAhead < 0) throw new ConfigError(`batchesAhead must be a non-negative integer`);
  if (!Number.isInteger(o.workers) || o.workers < 0) throw new ConfigError(`workers must be a non-negative integer`);
}
