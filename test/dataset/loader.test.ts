import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Loader, type Batch } from '../../src/dataset/loader.js';
import { Permutation, QuasiRandomOrder, RandomOrder } from '../../src/dataset/orders/index.js';
import { smallDataset, tmp } from './helpers.js';

async function collect(l: Loader, max = Infinity): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of l) {
    out.push(b);
    if (out.length >= max) break;
  }
  return out;
}

const isPerm = (xs: number[], n: number) =>
  xs.length === n && new Set(xs).size === n && xs.every((x) => Number.isInteger(x) && x >= 0 && x < n);

test('permutations are bijections for many sizes, keyed by seed and epoch', () => {
  for (const n of [0, 1, 2, 3, 5, 16, 17, 100, 1000, 4097]) {
    const p = new Permutation(n, 7, 0);
    assert.ok(
      isPerm(
        Array.from({ length: n }, (_, i) => p.at(i)),
        n,
      ),
      `n=${n}`,
    );
  }
  const a = Array.from({ length: 100 }, (_, i) => new RandomOrder(100, { seed: 1, epoch: 0 }).at(i));
  const b = Array.from({ length: 100 }, (_, i) => new RandomOrder(100, { seed: 1, epoch: 1 }).at(i));
  const c = Array.from({ length: 100 }, (_, i) => new RandomOrder(100, { seed: 2, epoch: 0 }).at(i));
  assert.notDeepEqual(a, b);
  assert.notDeepEqual(a, c);
  for (const n of [1, 63, 64, 65, 1000, 1031]) {
    const q = new QuasiRandomOrder(n, { seed: 3, epoch: 2, blockSize: 8, blocksPerWindow: 4 });
    assert.ok(
      isPerm(
        Array.from({ length: n }, (_, i) => q.at(i)),
        n,
      ),
      `quasi-random n=${n}`,
    );
  }
});

test('random-order epochs are reproducible permutations; sequential is file order', async () => {
  const path = join(tmp(), 'a.wlds');
  await smallDataset(path, 23);
  const run = async (o: object) => (await collect(new Loader(path, { batchSize: 5, ...o }))).flatMap((b) => b.indices);
  const e0 = await run({ seed: 3, epoch: 0 });
  assert.ok(isPerm(e0, 23));
  assert.deepEqual(await run({ seed: 3, epoch: 0 }), e0);
  assert.notDeepEqual(await run({ seed: 3, epoch: 1 }), e0);
  assert.deepEqual(
    await run({ order: 'sequential' }),
    Array.from({ length: 23 }, (_, i) => i),
  );
  assert.ok(isPerm(await run({ order: 'quasi-random', seed: 1 }), 23));
  const dropped = await collect(new Loader(path, { batchSize: 5, dropLast: true }));
  assert.equal(dropped.length, 4);
  assert.ok(dropped.every((b) => b.size === 5));
});

test('batches hold the right samples: zero-padded arrays, per-sample lengths, labels', async () => {
  const path = join(tmp(), 'a.wlds');
  await smallDataset(path, 7);
  const { DatasetReader } = await import('../../src/dataset/reader.js');
  const r = DatasetReader.open(path);
  const batches = await collect(new Loader(path, { batchSize: 3, seed: 9, batchesAhead: 1 }));
  // Every sample is checked below exactly once.
  assert.ok(
    isPerm(
      batches.flatMap((b) => b.indices),
      7,
    ),
  );
  for (const b of batches) {
    const a = b.fields.audio!;
    assert.ok(a.kind === 'array', `batch audio is ${a.kind}`);
    const T = a.shape[2]!;
    assert.equal(T, Math.max(...b.indices.map((g) => 300 + 97 * g)));
    for (const [j, g] of b.indices.entries()) {
      const ref = await r.get(g);
      const d = ref.audio!;
      assert.ok(d.kind === 'array', `sample ${g} audio is ${d.kind}`);
      assert.equal(a.lengths[j], 300 + 97 * g);
      assert.deepEqual(Array.from(a.data.subarray(j * T, j * T + a.lengths[j]!)), Array.from(d.data));
      assert.ok(
        a.data.subarray(j * T + a.lengths[j]!, (j + 1) * T).every((x) => x === 0),
        'zero padding',
      );
      assert.equal(b.fields.label!.kind === 'scalar' ? b.fields.label!.data[j] : -1, g % 3);
      assert.equal(b.fields.text!.kind === 'value' ? b.fields.text!.values[j] : '', `sample ${g}`);
    }
  }
  await r.close();
});

test('resuming from a position equals continuing', async () => {
  const path = join(tmp(), 'a.wlds');
  await smallDataset(path, 19);
  const full = await collect(new Loader(path, { batchSize: 4, seed: 5, epoch: 2 }));
  const l = new Loader(path, { batchSize: 4, seed: 5, epoch: 2 });
  const first = await collect(l, 2);
  const pos = l.position();
  assert.deepEqual(pos, { seed: 5, epoch: 2, cursor: 8 });
  assert.deepEqual(first[1]!.position, pos);
  const rest = await collect(new Loader(path, { batchSize: 4, ...pos }));
  assert.deepEqual(
    [...first, ...rest].map((b) => b.indices),
    full.map((b) => b.indices),
  );
  const a = rest[0]!.fields.audio!;
  const f = full[2]!.fields.audio!;
  assert.ok(
    a.kind === 'array' &&
      f.kind === 'array' &&
      Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(
        Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength),
      ),
  );
});

test('distributed ranks get disjoint, equal-sized parts that cover the epoch', async () => {
  const path = join(tmp(), 'a.wlds');
  await smallDataset(path, 22);
  for (const world of [1, 2, 3, 4]) {
    const parts: number[][] = [];
    for (let rank = 0; rank < world; rank++) {
      const l = new Loader(path, { batchSize: 4, seed: 11, epoch: 1, rank, worldSize: world });
      parts.push((await collect(l)).flatMap((b) => b.indices));
    }
    const per = Math.floor(22 / world);
    assert.ok(
      parts.every((p) => p.length === per),
      `world ${world}: equal parts`,
    );
    const all = parts.flat();
    assert.equal(new Set(all).size, all.length, `world ${world}: disjoint`);
    // With the n mod world remainder, the union is the whole epoch but for that remainder.
    const epoch = new Loader(path, { seed: 11, epoch: 1 }).epochIndices();
    assert.deepEqual(all, epoch.slice(0, per * world));
  }
});

test('duration batching, crops, workers and several shards', async () => {
  const dir = tmp();
  const a = join(dir, 'x-00000-of-00002.wlds');
  const b = join(dir, 'x-00001-of-00002.wlds');
  await smallDataset(a, 5, [
    ['audio', 'waveform'],
    ['op', 'opus'],
    ['label', 'int'],
  ]);
  await smallDataset(b, 4, [
    ['audio', 'waveform'],
    ['op', 'opus'],
    ['label', 'int'],
  ]);
  // Shards read together by their shared name: 9 samples.
  const seq = await collect(new Loader(join(dir, 'x.wlds'), { order: 'sequential', batchSize: 100 }));
  assert.deepEqual(seq[0]!.indices, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(Array.from(seq[0]!.fields.label!.kind === 'scalar' ? seq[0]!.fields.label!.data : []), [0, 1, 2, 0, 1, 0, 1, 2, 0]);
  // Batches of at most 0.2 s of audio.
  const dur = await collect(new Loader(dir, { maxBatchDuration: 0.2, seed: 1, fields: ['audio'] }));
  assert.ok(
    isPerm(
      dur.flatMap((x) => x.indices),
      9,
    ),
  );
  for (const x of dur) {
    const audio = x.fields.audio!;
    assert.ok(audio.kind === 'array', `batch audio is ${audio.kind}`);
    const s = Array.from(audio.lengths).reduce((p, q) => p + q, 0) / 8000;
    assert.ok(s <= 0.2 || x.size === 1, `batch of ${s} s`);
  }
  // Random crops of 256 samples: all outputs 256 long (samples are longer), reproducible, different per epoch.
  const crop = async (epoch: number) =>
    collect(new Loader(dir, { batchSize: 9, seed: 4, epoch, crop: { length: 256 }, fields: ['audio', 'label'] }));
  const c0 = await crop(0);
  const au = c0[0]!.fields.audio!;
  assert.ok(au.kind === 'array' && au.shape[2] === 256 && au.lengths.every((n) => n === 256));
  assert.deepEqual((await crop(0))[0]!.fields.audio, au);
  const c1 = (await crop(1))[0]!.fields.audio!;
  assert.ok(c1.kind === 'array' && au.kind === 'array');
  assert.notDeepEqual(Array.from(c1.data), Array.from(au.data), 'another epoch crops elsewhere');
  // Fixed crops take the start; the crop's samples equal the sample's first 256.
  const fixed = await collect(
    new Loader(dir, { batchSize: 9, order: 'sequential', crop: { length: 256, mode: 'start' }, fields: ['audio'] }),
  );
  const f0 = fixed[0]!.fields.audio!;
  const whole = seq[0]!.fields.audio!;
  assert.ok(f0.kind === 'array' && whole.kind === 'array');
  assert.deepEqual(Array.from(f0.data.subarray(0, 256)), Array.from(whole.data.subarray(0, 256)));
  // Decoding in 2 workers gives the same bytes as in this thread.
  const inline = await collect(new Loader(dir, { batchSize: 4, seed: 2, fields: ['op'] }));
  const lw = new Loader(dir, { batchSize: 4, seed: 2, fields: ['op'], workers: 2 });
  const threaded = await collect(lw);
  await lw.close();
  assert.equal(inline.length, threaded.length);
  for (let i = 0; i < inline.length; i++) {
    const x = inline[i]!.fields.op!;
    const y = threaded[i]!.fields.op!;
    assert.ok(x.kind === 'array' && y.kind === 'array');
    assert.deepEqual(Array.from(x.data), Array.from(y.data));
    assert.deepEqual(x.lengths, y.lengths);
  }
});

test('the loader refuses a damaged blob with a checksum error (checked once by default, or on every read)', async () => {
  const { readFileSync, writeFileSync } = await import('node:fs');
  const { DatasetReader } = await import('../../src/dataset/reader.js');
  const path = join(tmp(), 'a.wlds');
  await smallDataset(path, 6);
  const r = DatasetReader.open(path);
  const at = r.blob(3, 0).offset + 10;
  await r.close();
  const b = readFileSync(path);
  b[at] = b[at]! ^ 0x10;
  writeFileSync(path, b);
  for (const verify of [undefined, true] as const) {
    await assert.rejects(
      collect(new Loader(path, { batchSize: 2, verify })),
      (e: unknown) => e instanceof Error && 'code' in e && (e as { code: string }).code === 'ECHECKSUM' && /sample 3/.test(e.message),
    );
  }
  // Unchecked reads are an explicit choice.
  assert.equal((await collect(new Loader(path, { batchSize: 2, verify: false }))).length, 3);
});

test('epochs: one iteration through several epochs equals epoch by epoch, positions carry the epoch', async () => {
  const path = join(tmp(), 'a.wlds');
  await smallDataset(path, 10);
  const l = new Loader(path, { batchSize: 4, seed: 8 });
  const byEpoch: number[][] = [];
  for (let e = 0; e < 3; e++) {
    l.setEpoch(e);
    byEpoch.push(...(await collect(l)).map((b) => b.indices));
  }
  const all = await collect(new Loader(path, { batchSize: 4, seed: 8, epochs: 3 }));
  assert.deepEqual(
    all.map((b) => b.indices),
    byEpoch,
  );
  assert.deepEqual(
    all.map((b) => b.position.epoch),
    [0, 0, 0, 1, 1, 1, 2, 2, 2],
  );
  assert.deepEqual(all[4]!.position, { seed: 8, epoch: 1, cursor: 8 });
});
