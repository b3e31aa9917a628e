import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseNpy } from '../../src/util/npy.js';
import { NpyRowWriter } from '../../src/util/npy-rows.js';

const dir = mkdtempSync(join(tmpdir(), 'wavelm-npy-rows-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('rows appended in pieces become one [rows, ...] array; the header keeps its length and 64-byte alignment', () => {
  const p = join(dir, 'rows.npy');
  const w = new NpyRowWriter(p, 'int16', [3]);
  const rows = Int16Array.from({ length: 12 }, (_, i) => i * 1000 - 6000);
  const bytes = new Uint8Array(rows.buffer);
  w.append([bytes.subarray(0, 6)]);
  w.append([bytes.subarray(6, 12), bytes.subarray(12, 24)]);
  assert.equal(w.rows, 4);
  w.close();
  w.close();
  const file = readFileSync(p);
  const a = parseNpy(file, p);
  assert.deepEqual(a.shape, [4, 3]);
  assert.deepEqual(Array.from(a.data), Array.from(rows));
  const headerEnd = file.length - bytes.length;
  assert.equal(headerEnd % 64, 0, 'data starts on a 64-byte boundary');

  const empty = join(dir, 'empty.npy');
  new NpyRowWriter(empty, 'int16', [3]).close();
  assert.equal(readFileSync(empty).length, headerEnd, 'the same header length with 0 rows as with 4');
  assert.deepEqual(parseNpy(readFileSync(empty)).shape, [0, 3]);
});

test('partial rows are refused and an unwritable path is a missing-file error', () => {
  const w = new NpyRowWriter(join(dir, 'partial.npy'), 'uint8', [4]);
  assert.throws(() => w.append([new Uint8Array(6)]), /6 bytes are not whole rows of 4 bytes/);
  w.close();
  assert.deepEqual(parseNpy(readFileSync(join(dir, 'partial.npy'))).shape, [0, 4], 'still a valid array');
  assert.throws(
    () => new NpyRowWriter(join(dir, 'no', 'such', 'dir.npy'), 'uint8', [4]),
    (e: Error & { code?: string }) => e.code === 'ENOENT' && /dir\.npy/.test(e.message),
  );
});
