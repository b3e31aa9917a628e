import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Loader, type Batch } from '../../src/dataset/loader.js';
import { BatchBoundaries } from '../../src/dataset/loader/batching.js';
import { MemoryManager } from '../../src/dataset/loader/memory.js';
import { describeSamples } from '../../src/dataset/loader/samples.js';
import { FieldSelection } from '../../src/dataset/loader/selection.js';
import { ShardSet } from '../../src/dataset/loader/shards.js';
import { Cropper } from '../../src/dataset/loader/crop.js';
import { SequentialOrder } from '../../src/dataset/orders/index.js';
import { smallDataset, tmp } from './helpers.js';

/** Each batch as plain values, taken when it arrives (reused buffers are overwritten later). */
async function snapshot(l: Loader): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const b of l) out.push(plain(b));
  await l.close();
  return out;
}

function plain(b: Batch): unknown {
  const fields = Object.fromEntries(
    Object.entries(b.fields).map(([name, f]) => {
      if (f.kind === 'array') return [name, { shape: f.shape, lengths: Array.from(f.lengths), data: Array.from(f.data) }];
      if (f.kind === 'scalar') return [name, Array.from(f.data)];
      return [name, f.values];
    }),
  );
  return { indices: b.indices, position: b.position, fields };
}

test('options that change how a batch is read, not what it holds, give the same batches', async () => {
  const path = join(tmp(), 'a.wlds');
  await smallDataset(path, 17);
  const base = { batchSize: 4, seed: 6, crop: { length: 700 } };
  const expected = await snapshot(new Loader(path, base));
  assert.equal(expected.length, 5);
  for (const how of [
    { io: 'async' },
    { mergeGap: 0 },
    { mergeGap: 1 << 30 },
    { batchesAhead: 0 },
    { batchesAhead: 6 },
    { reuseBuffers: true },
    { verify: true },
    { verify: false },
  ] as const) {
    assert.deepEqual(await snapshot(new Loader(path, { ...base, ...how })), expected, JSON.stringify(how));
  }
});

test('reused buffers rotate through batchesAhead + 2 sets', async () => {
  const path = join(tmp(), 'a.wlds');
  await smallDataset(path, 24);
  // Crops make every batch the same size, so each set is allocated once and then reused.
  const l = new Loader(path, { batchSize: 3, crop: { length: 250 }, batchesAhead: 1, reuseBuffers: true });
  const buffers: ArrayBufferLike[] = [];
  for await (const b of l) {
    const audio = b.fields.audio!;
    assert.ok(audio.kind === 'array');
    buffers.push(audio.data.buffer);
  }
  assert.equal(buffers.length, 8);
  assert.equal(new Set(buffers.slice(0, 3)).size, 3, 'the first three batches have their own arrays');
  for (let k = 3; k < 8; k++) assert.equal(buffers[k], buffers[k - 3], `batch ${k} reuses batch ${k - 3}'s set`);
});

test('global indices run on across shards, an empty shard taking none', async () => {
  const dir = tmp();
  await smallDataset(join(dir, 'x-00000-of-00003.wlds'), 5);
  await smallDataset(join(dir, 'x-00001-of-00003.wlds'), 0);
  await smallDataset(join(dir, 'x-00002-of-00003.wlds'), 4);
  const shards = ShardSet.open(join(dir, 'x.wlds'));
  assert.equal(shards.numSamples, 9);
  assert.deepEqual(
    [0, 4, 5, 8].map((g) => shards.locate(g)),
    [
      { shard: 0, index: 0 },
      { shard: 0, index: 4 },
      { shard: 2, index: 0 },
      { shard: 2, index: 3 },
    ],
  );
  await shards.close();
});

test('duration batches: the first sample always fits, later ones while the total allows, batchSize caps the count', () => {
  // Binary fractions: sums are exact, so a batch that reaches the limit exactly still fits.
  const seconds = [0.5, 0.25, 0.25, 0.25, 1, 0.125, 0.125, 0.125];
  const order = new SequentialOrder(seconds.length);
  const cut = (limits: ConstructorParameters<typeof BatchBoundaries>[0]) => {
    const b = new BatchBoundaries(limits, (g) => seconds[g]!);
    const ends: number[] = [];
    for (let from = 0, to = b.end(order, from); to !== undefined; from = to, to = b.end(order, from)) ends.push(to);
    return ends;
  };
  assert.deepEqual(cut({ maxBatchDuration: 0.75, dropLast: false }), [2, 4, 5, 8]);
  assert.deepEqual(cut({ maxBatchDuration: 0.75, batchSize: 2, dropLast: false }), [2, 4, 5, 7, 8]);
  assert.deepEqual(cut({ maxBatchDuration: 0.5, dropLast: false }), [1, 3, 4, 5, 8]);
  assert.deepEqual(cut({ batchSize: 3, dropLast: true }), [3, 6]);
  assert.deepEqual(cut({ batchSize: 3, dropLast: false }), [3, 6, 8]);
  assert.equal(new BatchBoundaries({ batchSize: 3, dropLast: false }, () => 0).perEpoch(8), 3);
  assert.equal(new BatchBoundaries({ maxBatchDuration: 1, dropLast: false }, () => 0).perEpoch(8), undefined);
});

test('the memory manager hands each blob its own bytes, whole or the crop part, in shared memory when asked', async () => {
  const path = join(tmp(), 'a.wlds');
  await smallDataset(path, 9);
  const shards = ShardSet.open(path);
  const reader = shards.reader(0);
  const selection = new FieldSelection(reader, ['text', 'audio']);
  const cropper = Cropper.forOptions({ length: 200, mode: 'start' }, selection, 0);
  const span = { order: new SequentialOrder(9), epoch: 0, from: 2, to: 7 };
  for (const [io, mergeGap, sharedMemory] of [
    ['sync', 0, false],
    ['async', 1 << 20, true],
  ] as const) {
    const samples = describeSamples(span, shards, selection, cropper);
    const blobs = await new MemoryManager(shards, selection, { io, mergeGap, sharedMemory }).read(samples);
    for (let j = 0; j < 5; j++) {
      const i = span.from + j;
      assert.deepEqual(blobs.bytes(j, 0), reader.readBlob(i, reader.fieldIndex('text')), `sample ${i} text`);
      assert.equal(blobs.at(j, 0).partial, false);
      // int16 waveform: the first 200 samples are the blob's first 400 bytes.
      assert.deepEqual(blobs.bytes(j, 1), reader.readBlob(i, reader.fieldIndex('audio')).subarray(0, 400), `sample ${i} audio crop`);
      assert.equal(blobs.at(j, 1).partial, true);
      assert.equal(blobs.bytes(j, 1).buffer instanceof SharedArrayBuffer, sharedMemory);
    }
  }
  await shards.close();
});

test('an error in a later field leaves no worker decoding unhandled: close() after it is safe', async () => {
  const { readFileSync, writeFileSync } = await import('node:fs');
  const { DatasetReader } = await import('../../src/dataset/reader.js');
  const path = join(tmp(), 'a.wlds');
  await smallDataset(path, 6, [
    ['op', 'opus'],
    ['text', 'string'],
  ]);
  const r = DatasetReader.open(path);
  const text = r.blob(4, 1);
  await r.close();
  const bytes = readFileSync(path);
  bytes.fill(0xff, text.offset, text.offset + text.length);
  writeFileSync(path, bytes);
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    // Unchecked, so the damage reaches the text decoder while the opus field is with the workers.
    const l = new Loader(path, { batchSize: 6, workers: 2, verify: false });
    await assert.rejects(snapshot(l), /field 'text': blob is not valid UTF-8/);
    await l.close();
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  assert.deepEqual(unhandled, []);
});
