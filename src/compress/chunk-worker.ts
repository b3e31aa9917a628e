/** WorkerPool task module for runChunkJobs: one predictor per worker, one chunk per task. */
import type { IncrementalPredictor } from '../model/api.js';
import { withTransfer, type Transferring } from '../engine/pool.js';
import { WavelmError } from '../util/errors.js';
import { makePredictor, runJob, type ChunkJob, type PredictorSpec, type WorkerReply } from './parallel.js';

let predictor: IncrementalPredictor | undefined;

export async function init(spec: PredictorSpec): Promise<void> {
  predictor = await makePredictor(spec);
}

export function run(job: ChunkJob): Transferring<WorkerReply> | WorkerReply {
  try {
    const r = runJob(predictor!, job);
    const buffers = 'data' in r ? [r.data.buffer] : [r.tokens.buffer, ...(r.low ? [r.low.buffer] : [])];
    return withTransfer<WorkerReply>({ ok: r }, buffers as ArrayBuffer[]);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    return { error: { name: err.name, code: e instanceof WavelmError ? e.code : undefined, message: err.message } };
  }
}
