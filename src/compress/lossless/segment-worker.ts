/** WorkerPool task module for SegmentRunner: one segment per task; typed errors travel as data. */
import { withTransfer, type Transferring } from '../../engine/pool.js';
import { WavelmError } from '../../util/errors.js';
import { runSegmentJob, type SegmentJob } from './segment-jobs.js';

export type SegmentReply = { ok: Uint8Array | Int32Array } | { error: { name: string; code?: string; message: string } };

export function run(job: SegmentJob): Transferring<SegmentReply> | SegmentReply {
  try {
    const out = runSegmentJob(job);
    return withTransfer<SegmentReply>({ ok: out }, [out.buffer as ArrayBuffer]);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    return { error: { name: err.name, code: e instanceof WavelmError ? e.code : undefined, message: err.message } };
  }
}
