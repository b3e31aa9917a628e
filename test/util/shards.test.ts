import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shardRanges } from '../../src/dataset/index.js';
import { ConfigError } from '../../src/util/errors.js';
import { checkShard, shardItems, shardRange } from '../../src/util/shards.js';

test('shardRange: the shards of any n cover 0..n once, in order, sizes within one', () => {
  for (const n of [0, 1, 5, 7, 100, 101]) {
    for (const k of [1, 2, 3, 7, 12]) {
      const ranges = Array.from({ length: k }, (_, i) => shardRange(n, k, i));
      assert.equal(ranges[0]![0], 0);
      assert.equal(ranges[k - 1]![1], n);
      for (let i = 1; i < k; i++) assert.equal(ranges[i]![0], ranges[i - 1]![1], `n=${n} k=${k} shard ${i} starts where ${i - 1} ends`);
      const sizes = ranges.map(([a, b]) => b - a);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `n=${n} k=${k} sizes ${sizes.join(',')}`);
    }
  }
  assert.deepEqual(shardRange(5, 3, 1), [1, 3]);
});

test('shardRange is the assignment dataset build cuts its plan with', () => {
  for (const [n, k] of [
    [10, 3],
    [5, 7],
    [64, 8],
  ] as const) {
    assert.deepEqual(
      shardRanges(n, { numShards: k }),
      Array.from({ length: k }, (_, i) => shardRange(n, k, i)),
    );
  }
});

test('shardItems: no shard gives all items; the shards concatenated give them back', () => {
  const items = ['a', 'b', 'c', 'd', 'e'];
  assert.deepEqual(shardItems(items, undefined), items);
  assert.deepEqual(
    [0, 1, 2].flatMap((index) => shardItems(items, { count: 3, index })),
    items,
  );
  assert.deepEqual(shardItems(items, { count: 3, index: 0 }), ['a']);
});

test('checkShard refuses an index outside 0..count-1 and a count below 1, naming the values and the options, not flags', () => {
  assert.throws(
    () => checkShard({ count: 3, index: 3 }),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.message === 'shardIndex 3 is outside 0..2 (numShards 3): give an index below the number of shards' &&
      e.options?.join() === 'shardIndex,numShards',
  );
  assert.throws(() => checkShard({ count: 3, index: -1 }), ConfigError);
  assert.throws(
    () => checkShard({ count: 0, index: 0 }),
    (e: unknown) =>
      e instanceof ConfigError && e.message === 'numShards must be a positive integer, got 0' && e.options?.join() === 'numShards',
  );
  assert.throws(() => shardRange(4, 2, 2), ConfigError);
});
