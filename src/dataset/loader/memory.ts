/**
 * The loader's memory manager (the role FFCV's memory managers play, https://docs.ffcv.io): which bytes
 * of which file a batch needs, and how they are read. A batch's blobs are sorted by file and offset,
 * neighbours closer than `mergeGap` are merged into one positional read, and every run lands in one
 * buffer per batch, each blob a view of it. With `io: 'sync'` reads come from the OS page cache with
 * readSync; with 'async' through the libuv thread pool. The buffer is shared memory when worker
 * threads decode from it.
 */
import type { Field, Window } from '../fields/field.js';
import type { DatasetReader } from '../reader.js';
import { sampleMeta, sampleWindow, type BatchSamples } from './samples.js';
import type { FieldSelection } from './selection.js';
import type { ShardSet } from './shards.js';

/** One field of one sample: where its bytes are, and (once read) the bytes. */
export interface BlobRead {
  shard: number;
  offset: number;
  length: number;
  /** True when a crop reads only part of the blob, whose checksum then cannot be checked. */
  partial: boolean;
  bytes?: Uint8Array;
}

/** A batch's blobs, one per sample and selected field. */
export class BatchBlobs {
  constructor(
    readonly reads: BlobRead[],
    private readonly fieldCount: number,
  ) {}

  at(sample: number, fieldIndex: number): BlobRead {
    return this.reads[sample * this.fieldCount + fieldIndex]!;
  }

  bytes(sample: number, fieldIndex: number): Uint8Array {
    return this.at(sample, fieldIndex).bytes!;
  }
}

export interface MemoryOptions {
  mergeGap: number;
  io: 'sync' | 'async';
  /** Read into a SharedArrayBuffer (worker threads decode from it). */
  sharedMemory: boolean;
}

/** A contiguous byte range of one file covering one or more blobs. */
interface ReadRun {
  shard: number;
  start: number;
  end: number;
  blobs: number[];
}

export class MemoryManager {
  constructor(
    private readonly shards: ShardSet,
    private readonly selection: FieldSelection,
    private readonly options: MemoryOptions,
  ) {}

  /** Reads every selected field's blob (or its crop's byte range) of a batch's samples. */
  async read(samples: BatchSamples): Promise<BatchBlobs> {
    const blobs = this.plan(samples);
    await this.readInto(blobs.reads);
    return blobs;
  }

  private plan(samples: BatchSamples): BatchBlobs {
    const reads: BlobRead[] = [];
    for (let j = 0; j < samples.locations.length; j++) {
      const { shard, index } = samples.locations[j]!;
      const reader = this.shards.reader(shard);
      for (let fieldIndex = 0; fieldIndex < this.selection.count; fieldIndex++) {
        const field = this.selection.fields[fieldIndex]!;
        const schemaIndex = this.selection.schemaIndex[fieldIndex]!;
        reads.push(
          blobRange(reader, shard, index, schemaIndex, field, sampleMeta(samples, j, fieldIndex), sampleWindow(samples, j, fieldIndex)),
        );
      }
    }
    return new BatchBlobs(reads, this.selection.count);
  }

  private async readInto(reads: BlobRead[]): Promise<void> {
    const runs = mergeIntoRuns(reads, this.options.mergeGap);
    const total = runs.reduce((a, r) => a + r.end - r.start, 0);
    const buffer = this.options.sharedMemory ? new Uint8Array(new SharedArrayBuffer(total)) : new Uint8Array(total);
    let at = 0;
    const pending: Promise<void>[] = [];
    for (const run of runs) {
      const reader = this.shards.reader(run.shard);
      const length = run.end - run.start;
      if (this.options.io === 'sync') reader.readIntoSync(buffer, at, run.start, length);
      else pending.push(reader.readInto(buffer, at, run.start, length));
      for (const x of run.blobs) {
        const start = at + reads[x]!.offset - run.start;
        reads[x]!.bytes = buffer.subarray(start, start + reads[x]!.length);
      }
      at += length;
    }
    for (const read of reads) if (read.length === 0) read.bytes = new Uint8Array(0);
    await Promise.all(pending);
  }
}

/** The byte range of a blob a sample needs: all of it, or the part that holds its crop window. */
function blobRange(
  reader: DatasetReader,
  shard: number,
  index: number,
  schemaIndex: number,
  field: Field,
  meta: number[],
  window: Window | undefined,
): BlobRead {
  const offset = reader.blobOffset(index, schemaIndex);
  const length = reader.blobLength(index, schemaIndex);
  if (!window || !field.byteRange) return { shard, offset, length, partial: false };
  const [a, b] = field.byteRange(meta, window);
  // A window covering the whole blob is a whole read, and still checksum-checked.
  return { shard, offset: offset + a, length: b - a, partial: b - a !== length };
}

/** Non-empty reads sorted by file and offset, neighbours within `mergeGap` bytes joined into one run. */
function mergeIntoRuns(reads: BlobRead[], mergeGap: number): ReadRun[] {
  const sorted = reads
    .map((_, x) => x)
    .filter((x) => reads[x]!.length > 0)
    .sort((a, b) => reads[a]!.shard - reads[b]!.shard || reads[a]!.offset - reads[b]!.offset);
  const runs: ReadRun[] = [];
  for (const x of sorted) {
    const read = reads[x]!;
    const last = runs[runs.length - 1];
    if (last && last.shard === read.shard && read.offset <= last.end + mergeGap) {
      last.end = Math.max(last.end, read.offset + read.length);
      last.blobs.push(x);
    } else runs.push({ shard: read.shard, start: read.offset, end: read.offset + read.length, blobs: [x] });
  }
  return runs;
}
