import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrainingRng } from '../../src/model/training/rng.js';
import {
  BatchSampler,
  checkSeqLen,
  chunkSetFromChunks,
  chunkSetFromTokens,
  evalBatches,
  int16BytesToTokens,
  unigramEntropyBits,
} from '../../src/model/batches.js';
import { syntheticTokens } from './train-bigram.js';

test('xoshiro128** matches the reference outputs for state {1, 2, 3, 4}', () => {
  const r = TrainingRng.fromState([1, 2, 3, 4]);
  // Hand-checked against the C reference's next(): rotl(s[1] * 5, 7) * 9 and its state update.
  assert.deepEqual([r.nextU32(), r.nextU32(), r.nextU32()], [11520, 0, 5927040]);
});

test('TrainingRng state round-trips and continues the same sequence', () => {
  const a = new TrainingRng(12345);
  for (let i = 0; i < 100; i++) a.nextU32();
  const b = TrainingRng.fromState(JSON.parse(JSON.stringify(a.getState())) as [number, number, number, number]);
  for (let i = 0; i < 1000; i++) assert.equal(b.nextU32(), a.nextU32());
  assert.notDeepEqual(new TrainingRng(1).getState(), new TrainingRng(2).getState());
  assert.throws(() => a.setState([0, 0, 0, 0]), /not all zero/);
});

test('TrainingRng.int is in range and roughly uniform', () => {
  const r = new TrainingRng(7);
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < 20000; i++) {
    const x = r.int(10);
    assert.ok(x >= 0 && x < 10 && Number.isInteger(x));
    counts[x]!++;
  }
  for (const c of counts) assert.ok(c > 1800 && c < 2200, `count ${c}`);
});

test('batches: seeded, reproducible, cut from chunks at valid offsets', () => {
  const tokens = syntheticTokens(40 * 64, 3);
  const set = chunkSetFromTokens(tokens, 64);
  const s1 = new BatchSampler(set, 4, 16, new TrainingRng(9));
  const s2 = new BatchSampler(set, 4, 16, new TrainingRng(9));
  const s3 = new BatchSampler(set, 4, 16, new TrainingRng(10));
  let differs = false;
  for (let i = 0; i < 20; i++) {
    const a = s1.next();
    const b = s2.next();
    const c = s3.next();
    assert.deepEqual(a.tokens, b.tokens);
    if (Buffer.compare(Buffer.from(a.tokens), Buffer.from(c.tokens)) !== 0) differs = true;
    for (let row = 0; row < 4; row++) {
      const seq = a.tokens.subarray(row * 16, row * 16 + 16);
      // Every row must occur inside one chunk (never straddling two).
      let found = false;
      for (let ch = 0; ch < set.numChunks && !found; ch++) {
        const chunk = tokens.subarray(ch * 64, ch * 64 + 64);
        for (let off = 0; off + 16 <= 64 && !found; off++)
          if (Buffer.compare(Buffer.from(chunk.subarray(off, off + 16)), Buffer.from(seq)) === 0) found = true;
      }
      assert.ok(found, `row ${row} of batch ${i} is not a slice of one chunk`);
    }
  }
  assert.ok(differs, 'different seeds should give different batches');
});

test('batches: whole chunks when seqLen equals the chunk length (LMIC)', () => {
  const tokens = syntheticTokens(10 * 32, 4);
  const set = chunkSetFromTokens(tokens, 32);
  const rng = new TrainingRng(5);
  const twin = new TrainingRng(5);
  const b = new BatchSampler(set, 3, 32, rng).next();
  for (let row = 0; row < 3; row++) {
    const ch = twin.int(10); // one draw per row, no offset draw
    assert.deepEqual(b.tokens.subarray(row * 32, row * 32 + 32), tokens.subarray(ch * 32, ch * 32 + 32));
  }
  assert.throws(
    () => new BatchSampler(set, 3, 33, new TrainingRng(1)),
    /^ConfigError: seqLen 33 is longer than a chunk \(32 tokens\); lower seqLen or raise chunkSizeBytes$/,
  );
  assert.throws(() => new BatchSampler(set, 0, 32, new TrainingRng(1)), /^ConfigError: batchSize must be a positive integer, got 0$/);
  const flags: Record<string, string> = { seqLen: '--seq-len', chunkSizeBytes: '--chunk-size' };
  assert.throws(
    () => checkSeqLen(set, 33, (o) => flags[o] ?? o),
    /^ConfigError: --seq-len 33 is longer than a chunk \(32 tokens\); lower --seq-len or raise --chunk-size$/,
  );
});

test('16-bit tokens are offset binary of little-endian int16', () => {
  const s = new Int16Array([-32768, -1, 0, 1, 32767]);
  const t = int16BytesToTokens(new Uint8Array(s.buffer));
  assert.deepEqual([...t], [0, 32767, 32768, 32769, 65535]);
  const set = chunkSetFromChunks([new Uint8Array(s.buffer.slice(0, 4)), new Uint8Array(s.buffer.slice(4, 8))], 16);
  assert.equal(set.vocabSize, 65536);
  assert.equal(set.chunkTokens, 2);
  assert.deepEqual([...set.tokens], [0, 32767, 32768, 32769]);
});

test('eval batches are fixed, spread over the set, and cover min(n, chunks) sequences', () => {
  const set = chunkSetFromTokens(syntheticTokens(100 * 8, 1), 8);
  const a = evalBatches(set, 4, 8, 10);
  assert.equal(
    a.reduce((s, b) => s + b.batchSize, 0),
    10,
  );
  assert.deepEqual(a, evalBatches(set, 4, 8, 10));
  assert.deepEqual(a[0]!.tokens.subarray(8, 16), set.tokens.subarray(10 * 8, 11 * 8));
  assert.equal(
    evalBatches(set, 4, 8, 1000).reduce((s, b) => s + b.batchSize, 0),
    100,
  );
});

test('unigram entropy', () => {
  const u = new Uint8Array(256 * 4).map((_, i) => i % 256);
  assert.ok(Math.abs(unigramEntropyBits(u) - 8) < 1e-12);
  assert.equal(unigramEntropyBits(new Uint8Array(100).fill(7)), 0);
});
