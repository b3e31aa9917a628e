/**
 * Batch collation: each field's batch allocated and, for scalar and value fields, filled. Array fields
 * get one zero-padded array shaped [batch, max inner..., max time] (time capped by the crop) with
 * per-sample lengths, which the decoders fill. With `reuseBuffers` the arrays come from a ring of sets.
 */
import {
  allocArray,
  arrayOn,
  type ArrayBatch,
  type ArrayDType,
  type Field,
  type ScalarBatch,
  type TypedArr,
  type ValueBatch,
} from '../fields/field.js';
import type { BatchBlobs } from './memory.js';
import { sampleMeta, sampleWindow, type BatchSamples } from './samples.js';

/** A scalar field's batch: its single metadata value per sample, no blob decoded. */
export function collateScalars(samples: BatchSamples, fieldIndex: number): ScalarBatch {
  const data = new Float64Array(samples.locations.length);
  for (let j = 0; j < data.length; j++) data[j] = sampleMeta(samples, j, fieldIndex)[0]!;
  return { kind: 'scalar', data };
}

/** A string or JSON field's batch: each sample decoded in turn. */
export async function collateValues(field: Field, fieldIndex: number, samples: BatchSamples, blobs: BatchBlobs): Promise<ValueBatch> {
  const values: unknown[] = [];
  for (let j = 0; j < samples.locations.length; j++) {
    const d = await field.decode(blobs.bytes(j, fieldIndex), sampleMeta(samples, j, fieldIndex));
    values.push(d.kind === 'value' ? d.value : d.kind === 'scalar' ? d.value : d.data);
  }
  return { kind: 'value', values };
}

/** The dtype and padded shape of an array field's batch: the largest inner dimensions and time length of its samples. */
export function paddedLayout(field: Field, fieldIndex: number, samples: BatchSamples): { dtype: ArrayDType; shape: number[] } {
  let dtype: ArrayDType | undefined;
  let inner: number[] = [];
  let time = 0;
  for (let j = 0; j < samples.locations.length; j++) {
    const meta = sampleMeta(samples, j, fieldIndex);
    const layout = field.layout!(meta);
    dtype = layout.dtype;
    inner = inner.length === 0 ? layout.inner.slice() : inner.map((d, x) => Math.max(d, layout.inner[x]!));
    const full = field.timeLength!(meta);
    // A cropped sample is padded to the crop's length even when shorter.
    time = Math.max(time, sampleWindow(samples, j, fieldIndex)?.length ?? full);
  }
  return { dtype: dtype ?? 'float32', shape: [samples.locations.length, ...inner, time] };
}

/** Output arrays for array batches: fresh per batch, or reused from a ring of sets. */
export class OutputArrays {
  private readonly ring = new Map<string, TypedArr>();
  private batchesStarted = 0;

  constructor(
    private readonly reuse: boolean,
    private readonly ringSize: number,
  ) {}

  /** The ring set for the next batch started; claimed when a batch is scheduled, so that sets rotate in batch order. */
  claimSet(): number {
    return this.batchesStarted++ % this.ringSize;
  }

  /** A zero-filled array batch of `shape` for field `name` (shared memory when worker threads fill it). */
  arrayBatch(name: string, dtype: ArrayDType, shape: number[], shared: boolean, set: number): ArrayBatch {
    const data = this.zeroed(
      name,
      dtype,
      shape.reduce((a, b) => a * b, 1),
      shared,
      set,
    );
    return { kind: 'array', dtype, shape, data, lengths: new Int32Array(shape[0]!) };
  }

  private zeroed(name: string, dtype: ArrayDType, n: number, shared: boolean, set: number): TypedArr {
    if (!this.reuse) return allocArray(dtype, n, shared);
    const key = `${name}/${set}`;
    let buffer = this.ring.get(key);
    if (!buffer || buffer.length < n || (shared && !(buffer.buffer instanceof SharedArrayBuffer))) {
      // Room to spare, so that slightly longer batches later reuse the set instead of growing it again.
      buffer = allocArray(dtype, Math.ceil(n * 1.25), shared);
      this.ring.set(key, buffer);
    }
    const out = arrayOn(dtype, buffer.buffer, buffer.byteOffset, n);
    out.fill(0);
    return out;
  }
}
