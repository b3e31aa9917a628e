/**
 * Worker-thread side of the loader's heavy-field decoding: blobs arrive as views of a shared read
 * buffer, decoded samples are written straight into the batch's shared output array.
 */
import { arrayOn, type ArrayBatch, type ArrayDType, type Field, type Window } from './fields/field.js';
import { fieldFromSchema } from './fields/index.js';
import type { SchemaField } from './format.js';

export interface DecodeTask {
  field: SchemaField;
  out: { buffer: SharedArrayBuffer; byteOffset: number; dtype: ArrayDType; shape: number[] };
  items: { j: number; buffer: SharedArrayBuffer; byteOffset: number; byteLength: number; meta: number[]; window?: Window }[];
}

export interface DecodeResult {
  lengths: [number, number][];
}

const fields = new Map<string, Field>();

export async function run(task: DecodeTask): Promise<DecodeResult> {
  const key = JSON.stringify(task.field);
  let f = fields.get(key);
  if (!f) {
    f = fieldFromSchema(task.field, 'worker');
    fields.set(key, f);
  }
  const n = task.out.shape.reduce((a, b) => a * b, 1);
  const out: ArrayBatch = {
    kind: 'array',
    dtype: task.out.dtype,
    shape: task.out.shape,
    data: arrayOn(task.out.dtype, task.out.buffer, task.out.byteOffset, n),
    lengths: new Int32Array(task.out.shape[0]!),
  };
  const lengths: [number, number][] = [];
  for (const it of task.items) {
    const bytes = new Uint8Array(it.buffer, it.byteOffset, it.byteLength);
    lengths.push([it.j, await f.decodeInto!(out, it.j, bytes, it.meta, it.window)]);
  }
  return { lengths };
}
