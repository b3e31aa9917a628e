/**
 * Decoding array fields into their collated batch: in this thread, sample by sample, or (heavy fields,
 * `workers` > 0) in worker threads that each decode a contiguous share of the batch from the shared
 * read buffer straight into the shared output (../decode-worker.ts).
 */
import type { WorkerPool } from '../../engine/pool.js';
import type { ArrayBatch, Field } from '../fields/field.js';
import type { SchemaField } from '../format.js';
import type { DecodeResult, DecodeTask } from '../decode-worker.js';
import type { BatchBlobs } from './memory.js';
import { sampleMeta, sampleWindow, type BatchSamples } from './samples.js';

export async function decodeInThread(
  field: Field,
  fieldIndex: number,
  batch: ArrayBatch,
  samples: BatchSamples,
  blobs: BatchBlobs,
): Promise<void> {
  for (let j = 0; j < samples.locations.length; j++) {
    batch.lengths[j] = await field.decodeInto!(
      batch,
      j,
      blobs.bytes(j, fieldIndex),
      sampleMeta(samples, j, fieldIndex),
      sampleWindow(samples, j, fieldIndex),
    );
  }
}

/** A pool of `workers` decode threads, started on first use. */
export class WorkerDecoders {
  private pool: Promise<WorkerPool<DecodeTask, DecodeResult>> | undefined;

  constructor(readonly workers: number) {}

  /** Whether `field` is decoded in the worker threads (and so needs shared memory for its blobs and output). */
  decodes(field: Field): boolean {
    return this.workers > 0 && field.heavy;
  }

  /** Decodes the selected field at `fieldIndex` (schema entry `schemaField`) of every sample into `batch`. */
  async decode(schemaField: SchemaField, fieldIndex: number, batch: ArrayBatch, samples: BatchSamples, blobs: BatchBlobs): Promise<void> {
    const pool = await this.startedPool();
    const shares = shareRanges(batch.shape[0]!, this.workers);
    const output = {
      buffer: batch.data.buffer as SharedArrayBuffer,
      byteOffset: batch.data.byteOffset,
      dtype: batch.dtype,
      shape: batch.shape,
    };
    const results = await Promise.all(
      shares.map(([from, to]) => pool.run({ field: schemaField, out: output, items: decodeItems(fieldIndex, from, to, samples, blobs) })),
    );
    for (const r of results) for (const [j, length] of r.lengths) batch.lengths[j] = length;
  }

  async close(): Promise<void> {
    if (!this.pool) return;
    const pool = await this.pool.catch(() => undefined);
    await pool?.close();
  }

  private startedPool(): Promise<WorkerPool<DecodeTask, DecodeResult>> {
    this.pool ??= (async () => {
      const { WorkerPool } = await import('../../engine/pool.js');
      return WorkerPool.create<DecodeTask, DecodeResult>(new URL('../decode-worker.js', import.meta.url), { size: this.workers });
    })();
    return this.pool;
  }
}

/** Samples [from, to) of a batch split into at most `threads` contiguous, non-empty shares of near-equal size. */
function shareRanges(batchSize: number, threads: number): [number, number][] {
  const per = Math.ceil(batchSize / Math.min(threads, batchSize));
  const shares: [number, number][] = [];
  for (let from = 0; from < batchSize; from += per) shares.push([from, Math.min(batchSize, from + per)]);
  return shares;
}

function decodeItems(fieldIndex: number, from: number, to: number, samples: BatchSamples, blobs: BatchBlobs): DecodeTask['items'] {
  const items: DecodeTask['items'] = [];
  for (let j = from; j < to; j++) {
    const bytes = blobs.bytes(j, fieldIndex);
    items.push({
      j,
      buffer: bytes.buffer as SharedArrayBuffer,
      byteOffset: bytes.byteOffset,
      byteLength: bytes.byteLength,
      meta: sampleMeta(samples, j, fieldIndex),
      window: sampleWindow(samples, j, fieldIndex),
    });
  }
  return items;
}
