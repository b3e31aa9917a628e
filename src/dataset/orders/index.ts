/** Traversal orders and the distributed split of an epoch into rank parts. */
import { ConfigError } from '../../util/errors.js';
import { QuasiRandomOrder } from './quasi-random.js';
import { RandomOrder } from './random.js';
import { SequentialOrder } from './sequential.js';
import type { Order } from './types.js';

export type { Order, OrderOptions } from './types.js';
export { SequentialOrder } from './sequential.js';
export { RandomOrder } from './random.js';
export { QuasiRandomOrder, type QuasiRandomOptions } from './quasi-random.js';
export { Permutation, hash32 } from './permutation.js';

export type OrderName = 'sequential' | 'random' | 'quasi-random';

export function makeOrder(name: OrderName, n: number, seed: number, epoch: number): Order {
  switch (name) {
    case 'sequential':
      return new SequentialOrder(n);
    case 'random':
      return new RandomOrder(n, { seed, epoch });
    case 'quasi-random':
      return new QuasiRandomOrder(n, { seed, epoch });
    default:
      throw new ConfigError(`unknown order '${String(name)}' (sequential, random, quasi-random)`);
  }
}

/**
 * Rank r of worldSize gets the contiguous part [r*per, (r+1)*per) of the epoch's order, per =
 * floor(n / worldSize): parts are disjoint and equal-sized; the n mod worldSize positions at the end
 * (different samples each shuffled epoch) are left out so every rank runs the same number of steps.
 */
export class RankPart implements Order {
  readonly length: number;
  private readonly start: number;
  constructor(
    private readonly inner: Order,
    rank: number,
    worldSize: number,
  ) {
    if (!Number.isInteger(worldSize) || worldSize < 1) throw new ConfigError(`worldSize must be a positive integer, got ${worldSize}`);
    if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize) throw new ConfigError(`rank must be in 0..${worldSize - 1}, got ${rank}`);
    this.length = Math.floor(inner.length / worldSize);
    this.start = rank * this.length;
  }
  at(p: number): number {
    return this.inner.at(this.start + p);
  }
}
