import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32c } from '../../src/util/crc32c.js';
import { ChecksumError } from '../../src/util/errors.js';
import { decodeEvent, encodeEvent, EventFileWriter, readEventFile, readTfRecords, tfRecord } from '../../src/model/tensorboard.js';
import { RunLog, readMetrics, type MetricsSink } from '../../src/model/logging.js';
import { lossCurveSvg, niceTicks } from '../../src/model/plot.js';

function tmp(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'wavelm-log-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test('CRC-32C check value (the TFRecord framing depends on it)', () => {
  assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
});

test('Event encoding: known protobuf bytes for a file_version event', () => {
  const b = encodeEvent({ wallTime: 1.5, step: 0, fileVersion: 'brain.Event:2' });
  // 0x09 + double 1.5 LE, 0x10 0x00, 0x1a len "brain.Event:2"
  assert.deepEqual([...b.subarray(0, 9)], [0x09, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f]);
  assert.deepEqual([...b.subarray(9, 11)], [0x10, 0x00]);
  assert.equal(b[11], 0x1a);
  assert.equal(b[12], 13);
  assert.equal(new TextDecoder().decode(b.subarray(13)), 'brain.Event:2');
  const big = decodeEvent(encodeEvent({ wallTime: 2, step: 3_000_000_000, scalars: { 'a/b': 0.25, c: -1e-3 } }));
  assert.equal(big.step, 3_000_000_000);
  assert.deepEqual(big.scalars, { 'a/b': 0.25, c: Math.fround(-1e-3) });
});

test('TensorBoard event file: file_version first, scalars and session start round-trip, CRCs checked', (t) => {
  const dir = tmp(t);
  const w = new EventFileWriter(dir, { wallTime: 1700000000.25, host: 'testhost' });
  assert.equal(w.path, join(dir, 'events.out.tfevents.1700000000.testhost'));
  w.scalars(10, { 'train/loss': 123.456, 'train/bits_per_byte': 5.5 }, 1700000001);
  w.sessionStart(11, 1700000002);
  w.scalars(20, { 'valid/loss': 99 }, 1700000003);
  const ev = readEventFile(w.path);
  assert.equal(ev.length, 4);
  assert.equal(ev[0]!.fileVersion, 'brain.Event:2');
  assert.equal(ev[0]!.wallTime, 1700000000.25);
  assert.equal(ev[1]!.step, 10);
  assert.equal(ev[1]!.scalars['train/loss'], Math.fround(123.456));
  assert.equal(ev[1]!.scalars['train/bits_per_byte'], 5.5);
  assert.equal(ev[2]!.sessionStatus, 1);
  assert.equal(ev[2]!.step, 11);
  assert.deepEqual(ev[3]!.scalars, { 'valid/loss': 99 });
  // Any flipped bit must be caught by one of the two CRCs.
  const bytes = readFileSync(w.path);
  for (const pos of [3, 10, 20, bytes.length - 2]) {
    const bad = Uint8Array.from(bytes);
    bad[pos]! ^= 0x10;
    assert.throws(
      () => readTfRecords(bad, 'bad'),
      (e: unknown) => e instanceof ChecksumError || (e as Error).name === 'FormatError',
    );
  }
  // Framing: length, masked CRC of length, payload, masked CRC of payload.
  const rec = tfRecord(new Uint8Array([1, 2, 3]));
  assert.equal(rec.length, 8 + 4 + 3 + 4);
  assert.deepEqual(readTfRecords(rec)[0], new Uint8Array([1, 2, 3]));
});

class RecordingSink implements MetricsSink {
  configs: Record<string, unknown>[] = [];
  logs: { values: Record<string, number>; step: number }[] = [];
  summaries: Record<string, number>[] = [];
  finished = 0;
  config(v: Record<string, unknown>) {
    this.configs.push(v);
  }
  log(values: Record<string, number>, step: number) {
    this.logs.push({ values, step });
  }
  summary(v: Record<string, number>) {
    this.summaries.push(v);
  }
  async finish() {
    this.finished++;
  }
}

test('RunLog writes metrics.jsonl, event file, plot and forwards to the sink; resume cuts later points', async (t) => {
  const dir = tmp(t);
  const sink = new RecordingSink();
  const log = new RunLog(dir, { sink });
  for (let s = 1; s <= 5; s++) log.log(s, { 'train/loss': 10 - s, 'train/bits_per_byte': (10 - s) / 10 });
  log.log(5, { 'valid/loss': 6, 'valid/bits_per_byte': 0.6 });
  await log.close();
  assert.equal(sink.logs.length, 6);
  assert.equal(sink.finished, 1);
  const m = readMetrics(join(dir, 'metrics.jsonl'));
  assert.deepEqual(
    m.map((p) => p.step),
    [1, 2, 3, 4, 5, 5],
  );
  assert.equal(m[2]!['train/loss'], 7);
  const html = readFileSync(join(dir, 'loss.html'), 'utf8');
  assert.match(html, /<svg[^>]*>/);
  assert.match(html, /<path d="M/);
  assert.doesNotMatch(html, /<script/);
  // Resume at step 3: points after 3 are dropped, and a new event file starts with a session START.
  const log2 = new RunLog(dir, { resumeStep: 3 });
  assert.deepEqual(
    readMetrics(join(dir, 'metrics.jsonl')).map((p) => p.step),
    [1, 2, 3],
  );
  log2.log(4, { 'train/loss': 1 });
  await log2.close();
  const files = readdirSync(dir).filter((f) => f.startsWith('events.out.tfevents.'));
  assert.equal(files.length, 2);
  const ev = readEventFile(log2.events.path);
  assert.equal(ev[1]!.sessionStatus, 1);
  assert.equal(ev[1]!.step, 4);
  // A torn last line (killed mid-write) is skipped, not fatal.
  writeFileSync(join(dir, 'metrics.jsonl'), `${readFileSync(join(dir, 'metrics.jsonl'), 'utf8')}{"step": 9, "trai`);
  assert.equal(readMetrics(join(dir, 'metrics.jsonl')).length, 4);
});

test('plot ticks and empty chart', () => {
  assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(3, 47), [10, 20, 30, 40]);
  assert.deepEqual(niceTicks(3, 47, 4), [20, 40]);
  assert.match(lossCurveSvg([]), /no data yet/);
});
