/** Build worker: encodes plan items with the fields named at init and moves the blobs back without copying. */
import { withTransfer, type Transferring } from '../engine/pool.js';
import { encodeItem, type PlanItem } from './build.js';
import type { Encoded, Field } from './fields/field.js';
import { createField, type FieldSpec } from './fields/index.js';

let fields: Field[] = [];
let specs: FieldSpec[] = [];

export function init(data: FieldSpec[]): void {
  specs = data;
  fields = data.map((s) => createField(s.name, s.type, s.args));
}

export async function run(item: PlanItem): Promise<Transferring<Encoded[]>> {
  const enc = await encodeItem(fields, specs, item);
  const transfer: ArrayBuffer[] = [];
  const own = enc.map((e) => {
    // Only whole, unshared buffers can be transferred; anything else is copied into one.
    const b = e.bytes.byteOffset === 0 && e.bytes.byteLength === e.bytes.buffer.byteLength && e.bytes.buffer instanceof ArrayBuffer ? e.bytes : e.bytes.slice();
    if (b.byteLength > 0 && !transfer.includes(b.buffer as ArrayBuffer)) transfer.push(b.buffer as ArrayBuffer);
    return { meta: e.meta, bytes: b };
  });
  return withTransfer(own, transfer);
}
