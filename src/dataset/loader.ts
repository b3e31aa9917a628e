/**
 * The loader: shuffled (or sequential, or quasi-random) batches from one or more dataset files, as an
 * async iterable. It composes the roles FFCV's loader keeps apart (https://docs.ffcv.io), one file each
 * under ./loader/: the traversal order (./orders/) cut into batches (batching.ts), the memory manager
 * that reads a batch's blobs (memory.ts), checksum checks (checksums.ts), collation into zero-padded
 * batch arrays (collate.ts), field decoding in this thread or worker threads (decode.ts), and the
 * prefetching that runs `batchesAhead` batches ahead of the consumer (prefetch.ts). The position
 * {seed, epoch, cursor} resumes an epoch in O(1).
 */
import { ConfigError } from '../util/errors.js';
import type { FieldBatch } from './fields/field.js';
import { makeOrder, RankPart, type Order } from './orders/index.js';
import type { DatasetReader } from './reader.js';
import type { Batch, Position } from './loader/batch.js';
import { BatchBoundaries, BatchSchedule, sampleSeconds, type BatchSpan } from './loader/batching.js';
import { BlobChecker } from './loader/checksums.js';
import { collateScalars, collateValues, OutputArrays, paddedLayout } from './loader/collate.js';
import { Cropper } from './loader/crop.js';
import { decodeInThread, WorkerDecoders } from './loader/decode.js';
import { MemoryManager, type BatchBlobs } from './loader/memory.js';
import { resolveLoaderOptions, type LoaderOptions, type ResolvedLoaderOptions } from './loader/options.js';
import { onNextTurn, Prefetcher } from './loader/prefetch.js';
import { describeSamples, type BatchSamples } from './loader/samples.js';
import { FieldSelection } from './loader/selection.js';
import { ShardSet } from './loader/shards.js';

export { batchBytes, type Batch, type Position } from './loader/batch.js';
export type { CropOptions, LoaderOptions } from './loader/options.js';

/** A field's batch; for a field the worker threads decode, also their filling it (awaited once every field is started). */
interface CollatedField {
  batch: FieldBatch;
  workerDecoding?: Promise<void>;
}

export class Loader implements AsyncIterable<Batch> {
  readonly readers: DatasetReader[];
  readonly numSamples: number;
  readonly fieldNames: string[];
  private readonly shards: ShardSet;
  private readonly selection: FieldSelection;
  private readonly options: ResolvedLoaderOptions;
  private readonly cropper: Cropper | undefined;
  private readonly boundaries: BatchBoundaries;
  private readonly decoders: WorkerDecoders;
  private readonly memory: MemoryManager;
  private readonly checker: BlobChecker;
  private readonly outputs: OutputArrays;
  private epoch: number;
  private cursor: number;
  private order: Order;

  constructor(paths: string | string[], opts: LoaderOptions = {}) {
    this.shards = ShardSet.open(paths);
    this.readers = this.shards.readers;
    this.numSamples = this.shards.numSamples;
    this.selection = new FieldSelection(this.readers[0]!, opts.fields);
    this.fieldNames = this.selection.names;
    const options = resolveLoaderOptions(opts);
    this.options = options;
    this.cropper = Cropper.forOptions(options.crop, this.selection, options.seed);
    this.boundaries = new BatchBoundaries(options, (globalIndex) => sampleSeconds(this.shards, this.cropper, globalIndex));
    this.decoders = new WorkerDecoders(options.workers);
    const sharedMemory = this.selection.fields.some((f) => this.decoders.decodes(f));
    this.memory = new MemoryManager(this.shards, this.selection, { mergeGap: options.mergeGap, io: options.io, sharedMemory });
    this.checker = new BlobChecker(options.verify, this.shards, this.selection);
    this.outputs = new OutputArrays(options.reuseBuffers, options.batchesAhead + 2);
    this.epoch = opts.epoch ?? 0;
    this.cursor = opts.cursor ?? 0;
    this.order = this.orderFor(this.epoch);
    if (this.cursor < 0 || this.cursor > this.order.length)
      throw new ConfigError(`cursor ${this.cursor} is outside this rank's epoch (0..${this.order.length})`);
  }

  /** Samples in this rank's part of an epoch. */
  get samplesPerEpoch(): number {
    return this.order.length;
  }

  /** Batches per epoch with a fixed batch size (undefined with duration batching). */
  get length(): number | undefined {
    return this.boundaries.perEpoch(this.order.length);
  }

  position(): Position {
    return { seed: this.options.seed, epoch: this.epoch, cursor: this.cursor };
  }

  /** Moves to the start of another epoch (its own shuffle). */
  setEpoch(epoch: number): void {
    this.epoch = epoch;
    this.cursor = 0;
    this.order = this.orderFor(epoch);
  }

  /** The global sample indices of this rank's epoch, in order (for tests and tools). */
  epochIndices(): number[] {
    return Array.from({ length: this.order.length }, (_, p) => this.order.at(p));
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Batch> {
    const start = { order: this.order, epoch: this.epoch, cursor: this.cursor };
    const schedule = new BatchSchedule(start, Math.max(1, this.options.epochs ?? 1), this.boundaries, (epoch) => this.orderFor(epoch));
    const prefetcher = new Prefetcher(schedule, this.options.batchesAhead + 1, (span) => this.startBatch(span));
    prefetcher.fill();
    for (let next = prefetcher.take(); next; next = prefetcher.take()) {
      const batch = await next;
      this.moveTo(batch.position);
      prefetcher.fill();
      yield batch;
    }
  }

  async close(): Promise<void> {
    await this.decoders.close();
    await this.shards.close();
  }

  private orderFor(epoch: number): Order {
    return new RankPart(
      makeOrder(this.options.order, this.numSamples, this.options.seed, epoch),
      this.options.rank,
      this.options.worldSize,
    );
  }

  /** Where `position()` stands once the consumer has taken the batch that ends at `to`. */
  private moveTo(to: Position): void {
    if (to.epoch !== this.epoch) {
      this.epoch = to.epoch;
      this.order = this.orderFor(this.epoch);
    }
    this.cursor = to.cursor;
  }

  /** Claims the batch's output set now, in schedule order, and loads the batch on a later turn. */
  private startBatch(span: BatchSpan): Promise<Batch> {
    const outputSet = this.outputs.claimSet();
    return onNextTurn(() => this.loadBatch(span, outputSet));
  }

  private async loadBatch(span: BatchSpan, outputSet: number): Promise<Batch> {
    const samples = describeSamples(span, this.shards, this.selection, this.cropper);
    const blobs = await this.memory.read(samples);
    const fields: Record<string, FieldBatch> = {};
    const workerDecoding: Promise<void>[] = [];
    for (let fieldIndex = 0; fieldIndex < this.selection.count; fieldIndex++) {
      this.checker.checkField(fieldIndex, samples, blobs);
      const collated = await this.collateField(fieldIndex, samples, blobs, outputSet);
      fields[this.selection.names[fieldIndex]!] = collated.batch;
      if (collated.workerDecoding) workerDecoding.push(collated.workerDecoding);
    }
    await Promise.all(workerDecoding);
    return {
      indices: samples.globalIndices,
      size: span.to - span.from,
      fields,
      position: { seed: this.options.seed, epoch: span.epoch, cursor: span.to },
    };
  }

  private async collateField(fieldIndex: number, samples: BatchSamples, blobs: BatchBlobs, outputSet: number): Promise<CollatedField> {
    const field = this.selection.fields[fieldIndex]!;
    if (field.kind === 'scalar') return { batch: collateScalars(samples, fieldIndex) };
    if (field.kind === 'value') return { batch: await collateValues(field, fieldIndex, samples, blobs) };
    const inWorkers = this.decoders.decodes(field);
    const { dtype, shape } = paddedLayout(field, fieldIndex, samples);
    const batch = this.outputs.arrayBatch(this.selection.names[fieldIndex]!, dtype, shape, inWorkers, outputSet);
    if (inWorkers) {
      const workerDecoding = this.decoders.decode(this.selection.schemaField(fieldIndex), fieldIndex, batch, samples, blobs);
      // Awaited in loadBatch after the later fields; marked handled now so that a failure meanwhile (or a
      // later field's error abandoning it) is not an unhandled rejection, which ends the process.
      workerDecoding.catch(() => undefined);
      return { batch, workerDecoding };
    }
    await decodeInThread(field, fieldIndex, batch, samples, blobs);
    return { batch };
  }
}
