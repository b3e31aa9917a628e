/**
 * Which positions of the traversal order form each batch: a fixed number of samples, or as many as fit
 * `maxBatchDuration` seconds; and the run of batches through one or more epochs.
 */
import { ConfigError } from '../../util/errors.js';
import type { Order } from '../orders/index.js';
import type { Cropper } from './crop.js';
import type { ShardSet } from './shards.js';

/** Positions [from, to) of one epoch's order. */
export interface BatchSpan {
  order: Order;
  epoch: number;
  from: number;
  to: number;
}

export interface BatchLimits {
  batchSize?: number;
  maxBatchDuration?: number;
  dropLast: boolean;
}

/** Seconds of audio sample `globalIndex` adds to a duration-capped batch (its crop's, when cropped). */
export function sampleSeconds(shards: ShardSet, cropper: Cropper | undefined, globalIndex: number): number {
  const { shard, index } = shards.locate(globalIndex);
  const reader = shards.reader(shard);
  const seconds = reader.duration(index);
  if (seconds === undefined)
    throw new ConfigError('maxBatchDuration needs a field that knows durations (waveform, compressed, mel, codec_tokens)');
  return cropper ? cropper.croppedSeconds(seconds, reader, index) : seconds;
}

export class BatchBoundaries {
  constructor(
    private readonly limits: BatchLimits,
    private readonly secondsOf: (globalIndex: number) => number,
  ) {}

  /** Batches in an epoch of `samples` positions; undefined when batches are capped by duration. */
  perEpoch(samples: number): number | undefined {
    if (this.limits.maxBatchDuration !== undefined) return undefined;
    const size = this.limits.batchSize!;
    return this.limits.dropLast ? Math.floor(samples / size) : Math.ceil(samples / size);
  }

  /** The end of the batch that starts at position `from`, or undefined when the epoch has no batch left there. */
  end(order: Order, from: number): number | undefined {
    if (from >= order.length) return undefined;
    return this.limits.maxBatchDuration === undefined
      ? this.fixedSizeEnd(order, from)
      : this.durationEnd(order, from, this.limits.maxBatchDuration);
  }

  private fixedSizeEnd(order: Order, from: number): number | undefined {
    const size = this.limits.batchSize ?? Infinity;
    const to = Math.min(order.length, from + size);
    if (to - from < size && this.limits.dropLast) return undefined;
    return to;
  }

  /** Adds samples while they fit `maxSeconds` (the first always does) and the batch size allows. */
  private durationEnd(order: Order, from: number, maxSeconds: number): number {
    const cap = this.limits.batchSize ?? Infinity;
    let to = from;
    let total = 0;
    while (to < order.length && to - from < cap) {
      const seconds = this.secondsOf(order.at(to));
      if (to > from && total + seconds > maxSeconds) break;
      total += seconds;
      to++;
    }
    return to;
  }
}

/** The batches of one iteration, from a position on, into the following epochs while `epochs` allows. */
export class BatchSchedule {
  private order: Order;
  private epoch: number;
  private cursor: number;
  private epochsLeft: number;

  constructor(
    start: { order: Order; epoch: number; cursor: number },
    epochs: number,
    private readonly boundaries: BatchBoundaries,
    private readonly orderFor: (epoch: number) => Order,
  ) {
    this.order = start.order;
    this.epoch = start.epoch;
    this.cursor = start.cursor;
    this.epochsLeft = epochs - 1;
  }

  /** The next batch, or undefined when the last epoch is done. */
  next(): BatchSpan | undefined {
    let to = this.boundaries.end(this.order, this.cursor);
    if (to === undefined) {
      if (this.epochsLeft === 0) return undefined;
      this.startNextEpoch();
      to = this.boundaries.end(this.order, this.cursor);
      if (to === undefined) return undefined;
    }
    const span = { order: this.order, epoch: this.epoch, from: this.cursor, to };
    this.cursor = to;
    return span;
  }

  private startNextEpoch(): void {
    this.epochsLeft--;
    this.epoch++;
    this.order = this.orderFor(this.epoch);
    this.cursor = 0;
  }
}
