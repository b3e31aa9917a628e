/**
 * The loader's execution: up to `depth` batches in flight ahead of the consumer. Each batch's load
 * starts on a later turn of the event loop (setImmediate), so synchronous reads and decoding run while
 * the consumer awaits its own work rather than inside its call to next().
 */
import type { Batch } from './batch.js';
import type { BatchSchedule, BatchSpan } from './batching.js';

export class Prefetcher {
  private readonly inFlight: Promise<Batch>[] = [];

  constructor(
    private readonly schedule: BatchSchedule,
    private readonly depth: number,
    private readonly start: (span: BatchSpan) => Promise<Batch>,
  ) {}

  /** Starts scheduled batches until `depth` are in flight or the schedule is done. */
  fill(): void {
    while (this.inFlight.length < this.depth) {
      const span = this.schedule.next();
      if (!span) return;
      const batch = this.start(span);
      batch.catch(() => undefined); // a failed load is reported when its batch is taken
      this.inFlight.push(batch);
    }
  }

  /** The oldest batch in flight, or undefined when none is. */
  take(): Promise<Batch> | undefined {
    return this.inFlight.shift();
  }
}

/** Runs `work` on a later turn of the event loop. */
export function onNextTurn<T>(work: () => Promise<T>): Promise<T> {
  return new Promise<void>((resolve) => setImmediate(resolve)).then(work);
}
