/** A fresh uniform permutation each epoch, keyed by (seed, epoch), computed per position in O(1). */
import { Permutation } from './permutation.js';
import type { Order, OrderOptions } from './types.js';

export class RandomOrder implements Order {
  private readonly perm: Permutation;
  constructor(
    readonly length: number,
    o: OrderOptions,
  ) {
    this.perm = new Permutation(length, o.seed, o.epoch, 0x52414e44);
  }
  at(p: number): number {
    return this.perm.at(p);
  }
}
