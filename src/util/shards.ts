/**
 * The one assignment of work items to shards, for every command that runs as independent jobs (Slurm
 * array tasks, Kubernetes Indexed Jobs): shard `i` of `k` takes the contiguous items
 * [floor(i*n/k), floor((i+1)*n/k)) of the sorted list. Contiguous and in order, so the shards' outputs
 * concatenated in shard order are one run's output; the sizes differ by at most one item.
 */
import { ConfigError } from './errors.js';

/** Which part of the work one job does: shard `index` (0-based) of `count`. */
export interface Shard {
  count: number;
  index: number;
}

/** The [start, end) item range of shard `index` of `count` over `n` items. */
export function shardRange(n: number, count: number, index: number): [number, number] {
  checkShard({ count, index });
  return [Math.floor((index * n) / count), Math.floor(((index + 1) * n) / count)];
}

/** The items of `shard` (all of them when no shard is given). */
export function shardItems<T>(items: readonly T[], shard: Shard | undefined): T[] {
  if (!shard) return [...items];
  const [a, b] = shardRange(items.length, shard.count, shard.index);
  return items.slice(a, b);
}

/** Refuses a shard that is not one of `count` (0..count-1). */
export function checkShard(shard: Shard): void {
  if (!Number.isInteger(shard.count) || shard.count < 1)
    throw new ConfigError(`numShards must be a positive integer, got ${shard.count}`, { options: ['numShards'] });
  if (!Number.isInteger(shard.index) || shard.index < 0 || shard.index >= shard.count) {
    throw new ConfigError(
      `shardIndex ${shard.index} is outside 0..${shard.count - 1} (numShards ${shard.count}): give an index below the number ` +
        'of shards',
      { options: ['shardIndex', 'numShards'] },
    );
  }
}
