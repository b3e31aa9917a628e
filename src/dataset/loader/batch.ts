/** What the loader yields: one batch of decoded fields and the position to resume right after it. */
import { DTYPE_BYTES, type FieldBatch } from '../fields/field.js';

export interface Position {
  seed: number;
  epoch: number;
  cursor: number;
}

export interface Batch {
  /** Global sample indices (across all files, in the order given). */
  indices: number[];
  size: number;
  fields: Record<string, FieldBatch>;
  /** The position after this batch: pass it back as {seed, epoch, cursor} to resume right after it. */
  position: Position;
}

/** Bytes of decoded output in a batch, counting valid lengths only (for throughput accounting). */
export function batchBytes(b: Batch): number {
  let n = 0;
  for (const f of Object.values(b.fields)) {
    if (f.kind === 'array') {
      const inner = f.shape.slice(1, -1).reduce((a, c) => a * c, 1);
      for (let j = 0; j < f.lengths.length; j++) n += f.lengths[j]! * inner * DTYPE_BYTES[f.dtype];
    } else if (f.kind === 'scalar') n += f.data.byteLength;
  }
  return n;
}
