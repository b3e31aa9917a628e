/**
 * Runs segment jobs in this thread (one worker) or on the engine's WorkerPool. Open one per run and share
 * it across files: as many segments as workers are in flight, from one file or several.
 */
import { WorkerPool } from '../../engine/pool.js';
import { rebuildError } from '../parallel.js';
import type { SegmentReply } from './segment-worker.js';
import { runSegmentJob, type SegmentJob } from './segment-jobs.js';

export class SegmentRunner {
  private constructor(
    readonly workers: number,
    private readonly pool: WorkerPool<SegmentJob, SegmentReply> | undefined,
  ) {}

  static async open(workers: number): Promise<SegmentRunner> {
    const n = Math.max(1, Math.floor(workers));
    if (n <= 1) return new SegmentRunner(1, undefined);
    return new SegmentRunner(
      n,
      await WorkerPool.create<SegmentJob, SegmentReply>(new URL('./segment-worker.js', import.meta.url), { size: n }),
    );
  }

  async run(job: SegmentJob): Promise<Uint8Array | Int32Array> {
    if (!this.pool) {
      // Let progress bars and signals run between segments.
      await new Promise((r) => setImmediate(r));
      return runSegmentJob(job);
    }
    const reply = await this.pool.run(job);
    if ('error' in reply) throw rebuildError(reply.error);
    return reply.ok;
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}
