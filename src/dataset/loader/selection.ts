/**
 * The fields a loader decodes, in the order asked for. A field is addressed by its position in this
 * selection; `schemaIndex` maps that position to the field's column in the files.
 */
import type { Field } from '../fields/field.js';
import type { SchemaField } from '../format.js';
import type { DatasetReader } from '../reader.js';

export class FieldSelection {
  readonly names: string[];
  /** Each selected field's index in the files' schema (what the reader's blob and meta accessors take). */
  readonly schemaIndex: number[];
  readonly fields: Field[];

  /** `names` default to all of the file's fields; an unknown name is a NotFoundError from the reader. */
  constructor(
    private readonly reader: DatasetReader,
    names?: string[],
  ) {
    this.names = names ?? reader.fields.map((f) => f.name);
    this.schemaIndex = this.names.map((n) => reader.fieldIndex(n));
    this.fields = this.schemaIndex.map((k) => reader.fields[k]!);
  }

  get count(): number {
    return this.fields.length;
  }

  /** The schema entry of a selected field: what a worker thread builds its own Field from. */
  schemaField(fieldIndex: number): SchemaField {
    return this.reader.schema.fields[this.schemaIndex[fieldIndex]!]!;
  }
}
