/** What the loader knows of a batch's samples before reading any blob: where they live, their metadata, their crops. */
import type { Window } from '../fields/field.js';
import type { BatchSpan } from './batching.js';
import type { Cropper, SampleWindows } from './crop.js';
import type { FieldSelection } from './selection.js';
import type { SampleLocation, ShardSet } from './shards.js';

export interface BatchSamples {
  /** Global sample indices, in batch order. */
  readonly globalIndices: number[];
  readonly locations: SampleLocation[];
  /** metas[sample][field]: each selected field's metadata row. */
  readonly metas: number[][][];
  /** windows[sample]: each selected field's crop window (undefined without crops). */
  readonly windows: (SampleWindows | undefined)[];
}

export function describeSamples(span: BatchSpan, shards: ShardSet, selection: FieldSelection, cropper: Cropper | undefined): BatchSamples {
  const globalIndices: number[] = [];
  const locations: SampleLocation[] = [];
  for (let p = span.from; p < span.to; p++) {
    const globalIndex = span.order.at(p);
    globalIndices.push(globalIndex);
    locations.push(shards.locate(globalIndex));
  }
  const windows = locations.map(({ shard, index }, j) => cropper?.windows(shards.reader(shard), index, globalIndices[j]!, span.epoch));
  const metas = locations.map(({ shard, index }) => selection.schemaIndex.map((k) => shards.reader(shard).meta(index, k)));
  return { globalIndices, locations, metas, windows };
}

export function sampleMeta(samples: BatchSamples, sample: number, fieldIndex: number): number[] {
  return samples.metas[sample]![fieldIndex]!;
}

export function sampleWindow(samples: BatchSamples, sample: number, fieldIndex: number): Window | undefined {
  return samples.windows[sample]?.[fieldIndex];
}
