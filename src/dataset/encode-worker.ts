/** Build worker: encodes plan items with the fields named at init and moves the blobs back without copying. */
import { withTransfer, type Transferring } from '../engine/pool.js';
import { encodeItemOutcome, type EncodeWorkerInit, type ItemOutcome, type PlanItem, type ReadPolicy } from './build.js';
import type { Field } from './fields/field.js';
import { createField, type FieldSpec } from './fields/index.js';

let fields: Field[] = [];
let specs: FieldSpec[] = [];
let read: ReadPolicy = {};
let tokenFields: number[] = [];

export function init(data: EncodeWorkerInit): void {
  specs = data.specs;
  read = data.read;
  tokenFields = data.tokenFields;
  fields = specs.map((s) => createField(s.name, s.type, s.args));
}

export async function run(item: PlanItem): Promise<Transferring<ItemOutcome>> {
  const outcome = await encodeItemOutcome(fields, specs, item, read, tokenFields);
  if (!outcome.encoded) return withTransfer(outcome, []);
  const transfer: ArrayBuffer[] = [];
  const own = outcome.encoded.map((e) => {
    // Only whole, unshared buffers can be transferred; anything else is copied into one.
    const b =
      e.bytes.byteOffset === 0 && e.bytes.byteLength === e.bytes.buffer.byteLength && e.bytes.buffer instanceof ArrayBuffer
        ? e.bytes
        : e.bytes.slice();
    if (b.byteLength > 0 && !transfer.includes(b.buffer as ArrayBuffer)) transfer.push(b.buffer as ArrayBuffer);
    return { meta: e.meta, bytes: b };
  });
  return withTransfer({ ...outcome, encoded: own }, transfer);
}
