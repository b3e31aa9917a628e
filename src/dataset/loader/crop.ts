/**
 * Crops: one time span per sample, measured on one field's time axis (the crop field) and carried over
 * to every other croppable field in its own units. Random starts are a hash of seed, epoch and global
 * index, so a crop is reproducible and independent of batch composition.
 */
import { ConfigError } from '../../util/errors.js';
import type { Field, Window } from '../fields/field.js';
import { hash32 } from '../orders/index.js';
import type { DatasetReader } from '../reader.js';
import type { CropOptions } from './options.js';
import type { FieldSelection } from './selection.js';

/** One sample's window for each selected field (undefined for fields without a time axis). */
export type SampleWindows = (Window | undefined)[];

/** 'CROP' in ASCII: keeps crop starts apart from other hashes of the same seed and epoch (the permutation keys). */
const CROP_HASH_SALT = 0x43524f50;

export class Cropper {
  private readonly mode: 'random' | 'start' | 'center';
  private readonly cropField: Field;

  private constructor(
    private readonly crop: CropOptions,
    private readonly cropFieldIndex: number,
    private readonly selection: FieldSelection,
    private readonly seed: number,
  ) {
    this.cropField = selection.fields[cropFieldIndex]!;
    this.mode = crop.mode ?? 'random';
  }

  /** A cropper for `crop`, or undefined without one; throws ConfigError for a bad length or field. */
  static forOptions(crop: CropOptions | undefined, selection: FieldSelection, seed: number): Cropper | undefined {
    if (!crop) return undefined;
    if (!Number.isInteger(crop.length) || crop.length < 1)
      throw new ConfigError(`crop length must be a positive integer, got ${crop.length}`);
    const index = crop.field ? selection.names.indexOf(crop.field) : selection.fields.findIndex((f) => f.croppable === true);
    if (index < 0 || !selection.fields[index]!.croppable)
      throw new ConfigError(
        `crop: ${crop.field ? `field '${crop.field}' is not a loaded array field` : 'no loaded field has a time axis'}`,
      );
    return new Cropper(crop, index, selection, seed);
  }

  /** Seconds of a sample's `seconds` that its crop keeps. */
  croppedSeconds(seconds: number, reader: DatasetReader, index: number): number {
    const length = this.cropAxisLength(reader, index);
    return length > this.crop.length ? (seconds * this.crop.length) / length : seconds;
  }

  /** The window of every selected field for sample `index` of `reader` (global index `globalIndex`) in `epoch`. */
  windows(reader: DatasetReader, index: number, globalIndex: number, epoch: number): SampleWindows {
    const axisLength = this.cropAxisLength(reader, index);
    const start = this.cropStart(axisLength, globalIndex, epoch);
    return this.selection.fields.map((field, fieldIndex) => {
      if (!field.croppable || !field.timeLength) return undefined;
      if (fieldIndex === this.cropFieldIndex) return { start, length: this.crop.length };
      const ownLength = field.timeLength(reader.meta(index, this.selection.schemaIndex[fieldIndex]!));
      const ratio = axisLength > 0 ? ownLength / axisLength : 1;
      return { start: Math.floor(start * ratio), length: Math.ceil(this.crop.length * ratio) };
    });
  }

  private cropAxisLength(reader: DatasetReader, index: number): number {
    return this.cropField.timeLength!(reader.meta(index, this.selection.schemaIndex[this.cropFieldIndex]!));
  }

  /** Where the crop starts on the crop field's axis; samples no longer than the crop start at 0. */
  private cropStart(axisLength: number, globalIndex: number, epoch: number): number {
    if (axisLength <= this.crop.length) return 0;
    if (this.mode === 'center') return Math.floor((axisLength - this.crop.length) / 2);
    if (this.mode === 'random') return hash32(this.seed, epoch, globalIndex, CROP_HASH_SALT) % (axisLength - this.crop.length + 1);
    return 0;
  }
}
