import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BufferedWriter } from '../../src/util/buffered-writer.js';

test('BufferedWriter: small and large pieces land in order, nothing before flush is lost', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wavelm-bw-'));
  try {
    const path = join(dir, 'out.bin');
    const fd = openSync(path, 'w');
    const w = new BufferedWriter(fd, 16);
    const pieces = [3, 5, 16, 1, 40, 7, 9, 0, 15].map((n, k) => Uint8Array.from({ length: n }, (_, i) => (k * 31 + i) & 255));
    w.writeAll(pieces.slice(0, 4));
    w.write(pieces[4]!);
    w.writeAll(pieces.slice(5));
    assert.ok(readFileSync(path).length < pieces.reduce((a, p) => a + p.length, 0), 'some bytes are still staged');
    w.flush();
    closeSync(fd);
    assert.deepEqual(new Uint8Array(readFileSync(path)), Uint8Array.from(pieces.flatMap((p) => [...p])));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
