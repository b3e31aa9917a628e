/**
 * The loader: shuffled (or sequential, or quasi-random) batches from one or more dataset files, as an
 * async iterable. Per batch, the blobs it needs are sorted by file and offset and read with merged
 * positional reads; light fields are decoded in this thread, heavy ones (compressed audio) in worker
 * threads into shared, zero-padded outputs. `batchesAhead` batches are read and decoded while the
 * consumer works. The position {seed, epoch, cursor} resumes an epoch in O(1).
 */
import { ConfigError, MismatchError } from '../util/errors.js';
import type { WorkerPool } from '../engine/pool.js';
import { allocArray, arrayOn, DTYPE_BYTES, type ArrayBatch, type ArrayDType, type Field, type FieldBatch, type TypedArr, type Window } from './fields/field.js';
import { hash32, makeOrder, RankPart, type Order, type OrderName } from './orders/index.js';
import { DatasetReader } from './reader.js';
import { resolveDatasetPaths } from './paths.js';
import type { DecodeTask, DecodeResult } from './decode-worker.js';

export interface CropOptions {
  /** Length of the crop in samples of the crop field (frames for mel and codec tokens). */
  length: number;
  /** 'random' (per sample, keyed by seed, epoch and index), 'start' or 'center'. Default 'random'. */
  mode?: 'random' | 'start' | 'center';
  /** Field whose time axis the crop is measured on (default: the first array field). Other array fields get the same span in their own units. */
  field?: string;
}

export interface LoaderOptions {
  batchSize?: number;
  /** Batches filled up to this many seconds of audio (with batchSize as an upper bound on samples, if given). */
  maxBatchDuration?: number;
  order?: OrderName;
  seed?: number;
  epoch?: number;
  /** Samples of this rank's epoch already consumed (from `position().cursor`). */
  cursor?: number;
  rank?: number;
  worldSize?: number;
  /**
   * Epochs one iteration runs through (default 1), the next epoch's batches read ahead before this one
   * ends; batches carry their epoch in `position`.
   */
  epochs?: number;
  /** Drop a last batch smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Batches read and decoded ahead of the consumer (default 2). */
  batchesAhead?: number;
  /** Worker threads for heavy fields (compressed audio). 0 decodes in this thread (default). */
  workers?: number;
  /** Fields to load (default: all). */
  fields?: string[];
  crop?: CropOptions;
  /**
   * Blob CRC-32C checks: 'once' (default) checks each blob the first time this loader reads it, so
   * damage is caught in the first epoch at no cost later; true checks every read; false never.
   * Crops of raw fields read partial blobs, which cannot be checked.
   */
  verify?: boolean | 'once';
  /**
   * Reuse output arrays from a ring of batchesAhead + 2 sets: no allocation per batch, but a batch's
   * arrays are overwritten once that many newer batches have been taken. Default false.
   */
  reuseBuffers?: boolean;
  /** Reads closer than this many bytes are merged into one (default 64 KiB). */
  mergeGap?: number;
  /**
   * 'sync' (default) reads with positional readSync, run between the consumer's steps (setImmediate):
   * from the page cache this costs microseconds per read, where a thread-pool round trip costs tens.
   * 'async' uses the libuv thread pool: better for cold data on slow or network disks.
   */
  io?: 'sync' | 'async';
}

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

interface Source {
  reader: DatasetReader;
  base: number;
}

interface Request {
  src: number;
  offset: number;
  length: number;
  view?: Uint8Array;
  partial: boolean;
}

/** Schemas of shards read together must agree field by field. */
function checkCompatible(readers: DatasetReader[]): void {
  const key = (r: DatasetReader) => JSON.stringify(r.schema.fields.map((f) => [f.name, f.type, f.args]));
  const first = key(readers[0]!);
  for (const r of readers.slice(1)) {
    if (key(r) !== first) throw new MismatchError(`${r.path}: its fields differ from ${readers[0]!.path}'s; shards read together must share a schema`, { subject: r.path });
  }
}

export class Loader implements AsyncIterable<Batch> {
  readonly readers: DatasetReader[];
  readonly numSamples: number;
  readonly fieldNames: string[];
  private readonly sources: Source[];
  private readonly fieldIdx: number[];
  private readonly fields: Field[];
  private readonly o: Required<Pick<LoaderOptions, 'order' | 'seed' | 'rank' | 'worldSize' | 'dropLast' | 'batchesAhead' | 'workers' | 'verify' | 'reuseBuffers' | 'mergeGap' | 'io'>> & LoaderOptions;
  private epoch: number;
  private cursor: number;
  private order!: Order;
  private pool: Promise<WorkerPool<DecodeTask, DecodeResult>> | undefined;
  private ring = new Map<string, TypedArr[]>();
  private batchNo = 0;
  private cropField = -1;

  constructor(paths: string | string[], opts: LoaderOptions = {}) {
    const files = resolveDatasetPaths(Array.isArray(paths) ? paths : [paths]);
    this.readers = files.map((p) => DatasetReader.open(p));
    checkCompatible(this.readers);
    let base = 0;
    this.sources = this.readers.map((reader) => {
      const s = { reader, base };
      base += reader.numSamples;
      return s;
    });
    this.numSamples = base;
    const r0 = this.readers[0]!;
    this.fieldNames = opts.fields ?? r0.fields.map((f) => f.name);
    this.fieldIdx = this.fieldNames.map((n) => r0.fieldIndex(n));
    this.fields = this.fieldIdx.map((k) => r0.fields[k]!);
    this.o = {
      order: 'random', seed: 0, rank: 0, worldSize: 1, dropLast: false, batchesAhead: 2, workers: 0, verify: 'once', reuseBuffers: false, mergeGap: 64 << 10, io: 'sync',
      ...opts,
    };
    if (this.o.verify === undefined) this.o.verify = 'once';
    const bs = this.o.batchSize;
    if (bs === undefined && this.o.maxBatchDuration === undefined) this.o.batchSize = 32;
    if (this.o.batchSize !== undefined && (!Number.isInteger(this.o.batchSize) || this.o.batchSize < 1)) throw new ConfigError(`batchSize must be a positive integer, got ${this.o.batchSize}`);
    if (this.o.maxBatchDuration !== undefined && !(this.o.maxBatchDuration > 0)) throw new ConfigError(`maxBatchDuration must be positive seconds, got ${this.o.maxBatchDuration}`);
    if (!Number.isInteger(this.o.batchesAhead) || this.o.batchesAhead < 0) throw new ConfigError(`batchesAhead must be a non-negative integer`);
    if (!Number.isInteger(this.o.workers) || this.o.workers < 0) throw new ConfigError(`workers must be a non-negative integer`);
    if (this.o.crop) {
      const c = this.o.crop;
      if (!Number.isInteger(c.length) || c.length < 1) throw new ConfigError(`crop length must be a positive integer, got ${c.length}`);
      this.cropField = c.field ? this.fieldNames.indexOf(c.field) : this.fields.findIndex((f) => f.croppable === true);
      if (this.cropField < 0 || !this.fields[this.cropField]!.croppable) throw new ConfigError(`crop: ${c.field ? `field '${c.field}' is not a loaded array field` : 'no loaded field has a time axis'}`);
    }
    this.epoch = opts.epoch ?? 0;
    this.cursor = opts.cursor ?? 0;
    this.makeOrder();
    if (this.cursor < 0 || this.cursor > this.order.length) throw new ConfigError(`cursor ${this.cursor} is outside this rank's epoch (0..${this.order.length})`);
  }

  private makeOrder(): void {
    this.order = this.orderFor(this.epoch);
  }

  private orderFor(epoch: number): Order {
    return new RankPart(makeOrder(this.o.order, this.numSamples, this.o.seed, epoch), this.o.rank, this.o.worldSize);
  }

  /** Samples in this rank's part of an epoch. */
  get samplesPerEpoch(): number {
    return this.order.length;
  }

  /** Batches per epoch with a fixed batch size (undefined with duration batching). */
  get length(): number | undefined {
    if (this.o.maxBatchDuration !== undefined) return undefined;
    const n = this.order.length;
    const b = this.o.batchSize!;
    return this.o.dropLast ? Math.floor(n / b) : Math.ceil(n / b);
  }

  position(): Position {
    return { seed: this.o.seed, epoch: this.epoch, cursor: this.cursor };
  }

  /** Moves to the start of another epoch (its own shuffle). */
  setEpoch(epoch: number): void {
    this.epoch = epoch;
    this.cursor = 0;
    this.makeOrder();
  }

  /** The global sample indices of this rank's epoch, in order (for tests and tools). */
  epochIndices(): number[] {
    return Array.from({ length: this.order.length }, (_, p) => this.order.at(p));
  }

  private locate(g: number): [number, number] {
    // Binary search over shard bases.
    let lo = 0;
    let hi = this.sources.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.sources[mid]!.base <= g) lo = mid;
      else hi = mid - 1;
    }
    return [lo, g - this.sources[lo]!.base];
  }

  private sampleDuration(g: number): number {
    const [s, i] = this.locate(g);
    const d = this.sources[s]!.reader.duration(i);
    if (d === undefined) throw new ConfigError('maxBatchDuration needs a field that knows durations (waveform, compressed, mel, codec_tokens)');
    const c = this.o.crop;
    if (c && this.cropField >= 0) {
      const k = this.fieldIdx[this.cropField]!;
      const f = this.fields[this.cropField]!;
      const len = f.timeLength!(this.sources[s]!.reader.meta(i, k));
      if (len > c.length) return (d * c.length) / len;
    }
    return d;
  }

  /** Positions [from, to) of the next batch after `from`, or undefined at the end of the epoch. */
  private nextSpan(order: Order, from: number): [number, number] | undefined {
    const n = order.length;
    if (from >= n) return undefined;
    const cap = this.o.batchSize ?? Infinity;
    if (this.o.maxBatchDuration === undefined) {
      const to = Math.min(n, from + cap);
      if (to - from < cap && this.o.dropLast) return undefined;
      return [from, to];
    }
    let to = from;
    let total = 0;
    while (to < n && to - from < cap) {
      const d = this.sampleDuration(order.at(to));
      if (to > from && total + d > this.o.maxBatchDuration) break;
      total += d;
      to++;
    }
    return [from, to];
  }

  private windowFor(g: number, s: number, i: number, epoch: number): (Window | undefined)[] | undefined {
    const c = this.o.crop;
    if (!c) return undefined;
    const r = this.sources[s]!.reader;
    const ck = this.fieldIdx[this.cropField]!;
    const cf = this.fields[this.cropField]!;
    const len = cf.timeLength!(r.meta(i, ck));
    let start = 0;
    if (len > c.length) {
      const mode = c.mode ?? 'random';
      if (mode === 'center') start = Math.floor((len - c.length) / 2);
      else if (mode === 'random') start = hash32(this.o.seed, epoch, g, 0x43524f50) % (len - c.length + 1);
    }
    return this.fields.map((f, fi) => {
      if (!f.croppable || !f.timeLength) return undefined;
      if (fi === this.cropField) return { start, length: c.length };
      const fl = f.timeLength(r.meta(i, this.fieldIdx[fi]!));
      const ratio = len > 0 ? fl / len : 1;
      return { start: Math.floor(start * ratio), length: Math.ceil(c.length * ratio) };
    });
  }

  private getPool(): Promise<WorkerPool<DecodeTask, DecodeResult>> {
    this.pool ??= (async () => {
      const { WorkerPool } = await import('../engine/pool.js');
      return WorkerPool.create<DecodeTask, DecodeResult>(new URL('./decode-worker.js', import.meta.url), { size: this.o.workers });
    })();
    return this.pool;
  }

  private allocOut(name: string, dtype: ArrayDType, n: number, shared: boolean, slot: number): TypedArr {
    if (!this.o.reuseBuffers) return allocArray(dtype, n, shared);
    const key = `${name}/${slot}`;
    const have = this.ring.get(key);
    let buf = have?.[0];
    if (!buf || buf.length < n || (shared && !(buf.buffer instanceof SharedArrayBuffer))) {
      buf = allocArray(dtype, Math.ceil(n * 1.25), shared);
      this.ring.set(key, [buf]);
    }
    const out = arrayOn(dtype, buf.buffer, buf.byteOffset, n);
    out.fill(0);
    return out;
  }

  /** Reads and decodes the batch at positions [from, to). */
  private async load(order: Order, epoch: number, from: number, to: number, batchNo: number): Promise<Batch> {
    const B = to - from;
    const globals: number[] = [];
    const locs: [number, number][] = [];
    for (let p = from; p < to; p++) {
      const g = order.at(p);
      globals.push(g);
      locs.push(this.locate(g));
    }
    const F = this.fields.length;
    const windows: ((Window | undefined)[] | undefined)[] = locs.map(([s, i], j) => this.windowFor(globals[j]!, s, i, epoch));
    const metas: number[][][] = locs.map(([s, i]) => this.fieldIdx.map((k) => this.sources[s]!.reader.meta(i, k)));
    // 1. Byte ranges, sorted by file and offset, merged, read into one buffer.
    const reqs: Request[] = [];
    for (let j = 0; j < B; j++) {
      const [s, i] = locs[j]!;
      const r = this.sources[s]!.reader;
      for (let fi = 0; fi < F; fi++) {
        const k = this.fieldIdx[fi]!;
        const f = this.fields[fi]!;
        let off = r.blobOffset(i, k);
        let len = r.blobLength(i, k);
        let partial = false;
        const w = windows[j]?.[fi];
        if (w && f.byteRange) {
          const [a, b] = f.byteRange(metas[j]![fi]!, w);
          // A window covering the whole blob is a whole read, and still checksum-checked.
          partial = b - a !== len;
          off += a;
          len = b - a;
        }
        reqs.push({ src: s, offset: off, length: len, partial });
      }
    }
    const useWorkers = this.o.workers > 0 && this.fields.some((f) => f.heavy);
    await this.readAll(reqs, useWorkers);
    // 2. Outputs.
    const slot = batchNo % (this.o.batchesAhead + 2);
    const out: Record<string, FieldBatch> = {};
    const tasks: Promise<void>[] = [];
    for (let fi = 0; fi < F; fi++) {
      const f = this.fields[fi]!;
      const name = this.fieldNames[fi]!;
      if (this.o.verify) {
        for (let j = 0; j < B; j++) {
          const q = reqs[j * F + fi]!;
          if (q.partial) continue;
          const rd = this.sources[locs[j]![0]]!.reader;
          if (this.o.verify === 'once') rd.checkBlobOnce(locs[j]![1], this.fieldIdx[fi]!, q.view!);
          else rd.checkBlob(locs[j]![1], this.fieldIdx[fi]!, q.view!);
        }
      }
      if (f.kind === 'scalar') {
        const data = new Float64Array(B);
        for (let j = 0; j < B; j++) data[j] = metas[j]![fi]![0]!;
        out[name] = { kind: 'scalar', data };
        continue;
      }
      if (f.kind === 'value') {
        const values: unknown[] = [];
        for (let j = 0; j < B; j++) {
          const d = await f.decode(reqs[j * F + fi]!.view!, metas[j]![fi]!);
          values.push(d.kind === 'value' ? d.value : d.kind === 'scalar' ? d.value : d.data);
        }
        out[name] = { kind: 'value', values };
        continue;
      }
      // Array field: shape [B, max inner..., max T].
      let dtype: ArrayDType | undefined;
      let inner: number[] = [];
      let T = 0;
      for (let j = 0; j < B; j++) {
        const l = f.layout!(metas[j]![fi]!);
        dtype = l.dtype;
        inner = inner.length === 0 ? l.inner.slice() : inner.map((d, x) => Math.max(d, l.inner[x]!));
        const full = f.timeLength!(metas[j]![fi]!);
        const w = windows[j]?.[fi];
        T = Math.max(T, w ? Math.min(w.length, full) : full);
        if (w) T = Math.max(T, w.length);
      }
      if (!dtype) dtype = 'float32';
      const shape = [B, ...inner, T];
      const total = shape.reduce((a, b) => a * b, 1);
      const shared = useWorkers && f.heavy;
      const data = this.allocOut(name, dtype, total, shared, slot);
      const batch: ArrayBatch = { kind: 'array', dtype, shape, data, lengths: new Int32Array(B) };
      out[name] = batch;
      if (shared) tasks.push(this.decodeInWorkers(fi, batch, reqs, metas, windows, F));
      else {
        for (let j = 0; j < B; j++) batch.lengths[j] = await f.decodeInto!(batch, j, reqs[j * F + fi]!.view!, metas[j]![fi]!, windows[j]?.[fi]);
      }
    }
    await Promise.all(tasks);
    return { indices: globals, size: B, fields: out, position: { seed: this.o.seed, epoch, cursor: to } };
  }

  private async decodeInWorkers(fi: number, batch: ArrayBatch, reqs: Request[], metas: number[][][], windows: ((Window | undefined)[] | undefined)[], F: number): Promise<void> {
    const pool = await this.getPool();
    const B = batch.shape[0]!;
    const W = Math.min(this.o.workers, B);
    const per = Math.ceil(B / W);
    const field = this.readers[0]!.schema.fields[this.fieldIdx[fi]!]!;
    const jobs: Promise<DecodeResult>[] = [];
    for (let w = 0; w < W; w++) {
      const items = [];
      for (let j = w * per; j < Math.min(B, (w + 1) * per); j++) {
        const v = reqs[j * F + fi]!.view!;
        items.push({ j, buffer: v.buffer as SharedArrayBuffer, byteOffset: v.byteOffset, byteLength: v.byteLength, meta: metas[j]![fi]!, window: windows[j]?.[fi] });
      }
      if (items.length === 0) continue;
      jobs.push(pool.run({ field, out: { buffer: batch.data.buffer as SharedArrayBuffer, byteOffset: batch.data.byteOffset, dtype: batch.dtype, shape: batch.shape }, items }));
    }
    for (const r of await Promise.all(jobs)) for (const [j, len] of r.lengths) batch.lengths[j] = len;
  }

  private async readAll(reqs: Request[], shared: boolean): Promise<void> {
    const order = reqs.map((_, x) => x).filter((x) => reqs[x]!.length > 0).sort((a, b) => reqs[a]!.src - reqs[b]!.src || reqs[a]!.offset - reqs[b]!.offset);
    // Merge neighbouring ranges of the same file.
    const runs: { src: number; start: number; end: number; members: number[] }[] = [];
    for (const x of order) {
      const q = reqs[x]!;
      const last = runs[runs.length - 1];
      if (last && last.src === q.src && q.offset <= last.end + this.o.mergeGap) {
        last.end = Math.max(last.end, q.offset + q.length);
        last.members.push(x);
      } else runs.push({ src: q.src, start: q.offset, end: q.offset + q.length, members: [x] });
    }
    const total = runs.reduce((a, r) => a + r.end - r.start, 0);
    const buf = shared ? new Uint8Array(new SharedArrayBuffer(total)) : new Uint8Array(total);
    let at = 0;
    const reads: Promise<void>[] = [];
    for (const run of runs) {
      const len = run.end - run.start;
      if (this.o.io === 'sync') this.sources[run.src]!.reader.readIntoSync(buf, at, run.start, len);
      else reads.push(this.sources[run.src]!.reader.readInto(buf, at, run.start, len));
      for (const x of run.members) reqs[x]!.view = buf.subarray(at + reqs[x]!.offset - run.start, at + reqs[x]!.offset - run.start + reqs[x]!.length);
      at += len;
    }
    for (const q of reqs) if (q.length === 0) q.view = new Uint8Array(0);
    await Promise.all(reads);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Batch> {
    const ahead: Promise<Batch>[] = [];
    let order = this.order;
    let epoch = this.epoch;
    let next = this.cursor;
    let more = Math.max(1, this.o.epochs ?? 1) - 1;
    const schedule = () => {
      while (ahead.length < this.o.batchesAhead + 1) {
        let span = this.nextSpan(order, next);
        if (!span) {
          // With `epochs`, the next epoch's first batches are read ahead too: no stall at the boundary.
          if (more === 0) return;
          more--;
          epoch++;
          order = this.orderFor(epoch);
          next = 0;
          span = this.nextSpan(order, next);
          if (!span) return;
        }
        next = span[1];
        const no = this.batchNo++;
        const [o, e, a, b] = [order, epoch, span[0], span[1]];
        // Deferred to the next turn of the event loop, so a batch is read while the consumer awaits its own work.
        const p = new Promise<void>((r) => setImmediate(r)).then(() => this.load(o, e, a, b, no));
        p.catch(() => undefined); // handled when awaited
        ahead.push(p);
      }
    };
    schedule();
    while (ahead.length > 0) {
      const b = await ahead.shift()!;
      if (b.position.epoch !== this.epoch) {
        this.epoch = b.position.epoch;
        this.order = this.orderFor(this.epoch);
      }
      this.cursor = b.position.cursor;
      schedule();
      yield b;
    }
  }

  async close(): Promise<void> {
    if (this.pool) {
      const p = await this.pool.catch(() => undefined);
      await p?.close();
    }
    await Promise.all(this.readers.map((r) => r.close()));
  }
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
