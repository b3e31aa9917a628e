/**
 * Codes independent chunks on the engine's worker threads, one predictor per worker. Each chunk starts from the
 * predictor's reset(), so the bytes of every chunk are the same whichever worker codes it and however
 * many workers there are; results are returned in job order.
 */
import { pathToFileURL } from 'node:url';
import { WorkerPool } from '../engine/pool.js';
import type { IncrementalPredictor } from '../model/api.js';
import { ConfigError, WavelmError } from '../util/errors.js';
import { decodeChunk, encodeChunk, type TokenMode } from './lm-codec.js';

/**
 * How a worker builds its predictor: `module` (a file: URL or absolute path) exports `exportName`, a
 * function of `args` (structured-cloneable) returning an IncrementalPredictor or a promise of one.
 */
export interface PredictorSpec {
  module: string;
  exportName: string;
  args?: unknown;
}

export type PredictorFactory = (args: unknown) => IncrementalPredictor | Promise<IncrementalPredictor>;

export interface EncodeJob {
  kind: 'encode';
  mode: TokenMode;
  tokens: Uint8Array | Uint16Array;
  low?: Uint8Array;
  /** Also measure LMIC's coder on the same probabilities (evaluation only). */
  lmic?: boolean;
}
export interface DecodeJob {
  kind: 'decode';
  mode: TokenMode;
  data: Uint8Array;
  length: number;
}
export type ChunkJob = EncodeJob | DecodeJob;
export interface EncodeResult {
  data: Uint8Array;
  idealBits: number;
  /** Bytes LMIC's coder needed for the chunk, when the job asked for it. */
  lmicBytes?: number;
}
export interface DecodeResult {
  tokens: Uint8Array | Uint16Array;
  low?: Uint8Array;
}
export type ChunkResult = EncodeResult | DecodeResult;

export async function makePredictor(spec: PredictorSpec): Promise<IncrementalPredictor> {
  const url = spec.module.startsWith('file:') ? spec.module : pathToFileURL(spec.module).href;
  const mod = (await import(url)) as Record<string, unknown>;
  const f = mod[spec.exportName];
  if (typeof f !== 'function') throw new ConfigError(`predictor module ${spec.module} has no function ${spec.exportName}`);
  return (f as PredictorFactory)(spec.args);
}

export function runJob(predictor: IncrementalPredictor, job: ChunkJob): ChunkResult {
  if (job.kind === 'encode') {
    const stats: { idealBits: number; lmicBytes?: number } = { idealBits: 0, lmicBytes: job.lmic ? 0 : undefined };
    const data = encodeChunk(predictor, job.mode, job.tokens, job.low, stats);
    return stats.lmicBytes === undefined
      ? { data, idealBits: stats.idealBits }
      : { data, idealBits: stats.idealBits, lmicBytes: stats.lmicBytes };
  }
  return decodeChunk(predictor, job.mode, job.data, job.length);
}

/** What the worker module returns: typed errors travel as data so their codes survive the thread boundary. */
export type WorkerReply = { ok: ChunkResult } | { error: { name: string; code?: string; message: string } };

/**
 * Codes chunk jobs with one predictor per thread: in this thread (workers <= 1) or on the engine's
 * WorkerPool. Keep one open across many files (eval, batch compression) to build the predictors once;
 * close() releases threads and wasm memory.
 */
export class ChunkRunner {
  private constructor(
    readonly workers: number,
    private readonly local: IncrementalPredictor | undefined,
    private readonly pool: WorkerPool<ChunkJob, WorkerReply, PredictorSpec> | undefined,
  ) {}

  static async open(spec: PredictorSpec, workers: number): Promise<ChunkRunner> {
    const n = Math.max(1, Math.floor(workers));
    if (n <= 1) return new ChunkRunner(1, await makePredictor(spec), undefined);
    const pool = await WorkerPool.create<ChunkJob, WorkerReply, PredictorSpec>(new URL('./chunk-worker.js', import.meta.url), {
      size: n,
      init: spec,
    });
    return new ChunkRunner(n, undefined, pool);
  }

  /** Runs `jobs`, calling `onDone(index)` as each finishes; results in job order. */
  async run(jobs: ChunkJob[], onDone?: (index: number, job: ChunkJob) => void): Promise<ChunkResult[]> {
    const results: ChunkResult[] = new Array<ChunkResult>(jobs.length);
    if (this.local) {
      for (let i = 0; i < jobs.length; i++) {
        results[i] = runJob(this.local, jobs[i]!);
        onDone?.(i, jobs[i]!);
        // Let progress bars and signals run between chunks.
        if (i % 4 === 3) await new Promise((r) => setImmediate(r));
      }
      return results;
    }
    await Promise.all(
      jobs.map(async (job, i) => {
        const reply = await this.pool!.run(job);
        if ('error' in reply) throw rebuildError(reply.error);
        results[i] = reply.ok;
        onDone?.(i, job);
      }),
    );
    return results;
  }

  async close(): Promise<void> {
    (this.local as { dispose?: () => void } | undefined)?.dispose?.();
    await this.pool?.close();
  }
}

/**
 * Runs `jobs` on `workers` threads (1: in this thread) with a runner opened for the call, or on
 * `runner` when given (left open). Results come back in job order.
 */
export async function runChunkJobs(
  spec: PredictorSpec,
  jobs: ChunkJob[],
  workers: number,
  onDone?: (index: number, job: ChunkJob) => void,
  runner?: ChunkRunner,
): Promise<ChunkResult[]> {
  if (runner) return runner.run(jobs, onDone);
  const own = await ChunkRunner.open(spec, Math.min(workers, Math.max(1, jobs.length)));
  try {
    return await own.run(jobs, onDone);
  } finally {
    await own.close();
  }
}

/** A worker's error as data back to an Error, keeping a WavelmError's code (and so its exit code). */
export function rebuildError(e: { name: string; code?: string; message: string }): Error {
  if (e.code) {
    const err = new WavelmError(e.code as WavelmError['code'], e.message);
    err.name = e.name;
    return err;
  }
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}
