import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeEvalRuns, parseShardRun, type EvalShardRun } from '../../src/compress/eval-merge.js';
import { ConfigError, FormatError, MismatchError } from '../../src/util/errors.js';

/** A shard's run with one classical compressor whose header is 10 bytes. */
function run(
  index: number,
  count: number,
  chunks: number,
  compressedBytes: number,
  pipeline: Record<string, unknown> = { bitDepth: 8 },
): EvalShardRun {
  return {
    shard: { count, index },
    files: chunks > 0 ? 1 : 0,
    chunks,
    sampleRate: 8000,
    channels: 1,
    pipeline,
    results: [
      {
        compressor: 'gzip',
        kind: 'classical',
        chunks,
        rawBytes: 100 * chunks,
        headerBytes: chunks > 0 ? 10 : 0,
        chunked: { rate: 0, compressedBytes, seconds: 1 },
        unchunked: { rate: 0.5, compressedBytes: 1, seconds: 1 },
      },
    ],
  };
}

test('mergeEvalRuns: sizes summed less one header per non-empty shard after the first; an empty shard adds nothing', () => {
  // One run over 5 chunks of 30 bytes each plus a 10-byte header counted once: 5*30 + 10 = 160.
  // Shards of 2, 0 and 3 chunks measure 2*30+10 = 70, 0 and 3*30+10 = 100.
  const names = ['a.json', 'b.json', 'c.json'];
  const m = mergeEvalRuns([run(2, 3, 3, 100), run(0, 3, 2, 70), run(1, 3, 0, 0)], names);
  const r = m.results[0]!;
  assert.equal(r.chunked.compressedBytes, 160);
  assert.equal(r.rawBytes, 500);
  assert.equal(r.chunked.rate, 160 / 500);
  assert.equal(r.headerBytes, 10);
  assert.equal(r.unchunked, undefined);
  assert.equal(m.chunks, 5);
  assert.equal(m.shards, 3);
});

test('mergeEvalRuns refuses a missing or repeated shard, another N, or another pipeline', () => {
  assert.throws(
    () => mergeEvalRuns([run(0, 3, 1, 40), run(2, 3, 1, 40)], ['a', 'c']),
    (e: unknown) => e instanceof ConfigError && /shard\(s\) 1 of 3 missing/.test(e.message),
  );
  assert.throws(
    () => mergeEvalRuns([run(0, 2, 1, 40), run(0, 2, 1, 40)], ['a', 'b']),
    (e: unknown) => e instanceof ConfigError && /a and b are both shard 0/.test(e.message),
  );
  assert.throws(() => mergeEvalRuns([run(0, 2, 1, 40), run(1, 3, 1, 40)], ['a', 'b']), MismatchError);
  assert.throws(
    () => mergeEvalRuns([run(0, 2, 1, 40), run(1, 2, 1, 40, { bitDepth: 16 })], ['a', 'b']),
    (e: unknown) => e instanceof MismatchError && /b's pipeline/.test(e.message),
  );
});

test('parseShardRun: not JSON, or JSON without a shard, is a FormatError naming the file', () => {
  assert.throws(
    () => parseShardRun('{', 'x.json'),
    (e: unknown) => e instanceof FormatError && e.message.startsWith('x.json: not JSON'),
  );
  assert.throws(
    () => parseShardRun('{"files": 1, "results": []}', 'y.json'),
    (e: unknown) => e instanceof FormatError && e.message.startsWith('y.json: not the JSON of one eval shard'),
  );
  assert.equal(parseShardRun(JSON.stringify(run(0, 1, 1, 40)), 'z.json').shard.count, 1);
});
