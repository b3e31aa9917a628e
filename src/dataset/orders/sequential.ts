/** Samples in file order: best locality, for evaluation and export. */
import type { Order } from './types.js';

export class SequentialOrder implements Order {
  constructor(readonly length: number) {}
  at(p: number): number {
    return p;
  }
}
