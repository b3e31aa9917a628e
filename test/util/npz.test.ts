// .npz reading (zip + .npy + pickles) refuses what it must: foreign pickle globals, members whose
// sizes run past the file, corrupt CRCs, unknown compression; and reads back what it writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync } from 'node:zlib';
import { npyHeader, serializeNpy } from '../../src/util/npy.js';
import { parseNpz, toFloat32 } from '../../src/util/npz.js';
import { PickledArray, unpickle } from '../../src/util/pickle.js';
import { readZip, writeZip } from '../../src/util/zip.js';

test('zip: written members read back; deflated members inflate; bad sizes, CRCs and methods are errors', () => {
  const a = new Uint8Array(1000).map((_, i) => i % 7);
  const zip = writeZip([
    ['a.npy', a],
    ['b/c.npy', Uint8Array.of(1, 2, 3)],
  ]);
  const back = readZip(zip, 'x.npz');
  assert.deepEqual([...back.keys()], ['a.npy', 'b/c.npy']);
  assert.deepEqual(new Uint8Array(back.get('a.npy')!), a);

  // A deflated member: patch method 8 and the deflated bytes into a hand-built archive.
  const deflated = deflateRawSync(a);
  const dz = writeZip([['a.npy', deflated]]);
  const dv = new DataView(dz.buffer, dz.byteOffset, dz.byteLength);
  const central = dz.length - 22 - 46 - 5;
  dv.setUint16(central + 10, 8, true);
  dv.setUint32(central + 16, readCrc(zip, 0), true);
  dv.setUint32(central + 24, a.length, true);
  assert.deepEqual(new Uint8Array(readZip(dz, 'd.npz').get('a.npy')!), a);

  const crc = Uint8Array.from(zip);
  crc[30 + 5 + 10] = crc[30 + 5 + 10]! ^ 1; // one data byte of a.npy
  assert.throws(
    () => readZip(crc, 'crc.npz'),
    (e: Error & { code?: string }) => e.code === 'ECHECKSUM' && /crc\.npz: member a\.npy/.test(e.message),
  );

  const big = Uint8Array.from(zip);
  new DataView(big.buffer).setUint32(zip.length - 22 - 46 - 7 - 46 - 5 + 20, 0x7fffffff, true);
  assert.throws(() => readZip(big, 'big.npz'), /declares 2147483647 bytes, more than the file holds/);

  assert.throws(() => readZip(zip.subarray(0, zip.length - 30), 'cut.npz'), /cut\.npz: .*(end-of-central-directory|missing|past)/);
  const method = Uint8Array.from(zip);
  new DataView(method.buffer).setUint16(zip.length - 22 - 46 - 7 - 46 - 5 + 10, 12, true);
  assert.throws(
    () => readZip(method, 'bz.npz'),
    (e: Error & { code?: string }) => e.code === 'EUNSUPPORTED' && /method 12/.test(e.message),
  );
});

function readCrc(zip: Uint8Array, localOffset: number): number {
  return new DataView(zip.buffer, zip.byteOffset, zip.byteLength).getUint32(localOffset + 14, true);
}

test('pickle: a global other than numpy or JAX array reconstruction is refused, not run', () => {
  const evil = Buffer.from('\x80\x03cos\nsystem\nX\x04\x00\x00\x00trueq\x00\x85R.', 'latin1');
  assert.throws(
    () => unpickle(evil, 'evil.npy'),
    (e: Error & { code?: string }) => e.code === 'EUNSUPPORTED' && /os\.system/.test(e.message),
  );
  assert.throws(() => unpickle(Buffer.from('\x80\x03X\xff\x00\x00\x00ab', 'latin1'), 'short'), /ends early/);
});

test('npz: plain float arrays read as float32; a declared shape larger than the data is an error', () => {
  const f64 = serializeNpy(Float64Array.of(1.5, -2, 3), [3]);
  const npz = parseNpz(writeZip([['embed/embeddings.npy', f64]]), 'p.npz');
  const m = npz.get('embed/embeddings')!;
  assert.equal(m.kind, 'array');
  if (m.kind === 'array') assert.deepEqual(toFloat32(m.array, 'x'), { shape: [3], data: Float32Array.of(1.5, -2, 3) });
  const lying = Buffer.concat([npyHeader('<f4', [1000]), new Uint8Array(8)]);
  const l = parseNpz(writeZip([['w.npy', lying]]), 'l.npz').get('w')!;
  assert.ok(l.kind === 'array' && l.array instanceof PickledArray);
  if (l.kind === 'array') assert.throws(() => toFloat32(l.array, 'l.npz: w'), /8 data bytes for shape \[1000\]/);
});
