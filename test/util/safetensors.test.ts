import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSafetensors, readSafetensors, serializeSafetensors } from '../../src/util/safetensors.js';
import { parseNpy, serializeNpy } from '../../src/util/npy.js';
import { FormatError, UnsupportedError } from '../../src/util/errors.js';
import { sharedPath } from '../helpers/shared.js';

test('safetensors round trip keeps names, shapes and values', () => {
  const a = new Float32Array([1, -2.5, 3e-7, 4]);
  const b = new Int16Array([-32768, 0, 32767]);
  const buf = serializeSafetensors({ b: { shape: [3], data: b }, a: { shape: [2, 2], data: a } }, { note: 'x' });
  const f = parseSafetensors(buf);
  assert.deepEqual(f.tensors.get('a')!.shape, [2, 2]);
  assert.deepEqual(Array.from(f.tensors.get('a')!.data as Float32Array), Array.from(a));
  assert.deepEqual(Array.from(f.tensors.get('b')!.data as Int16Array), Array.from(b));
  assert.equal(f.metadata.note, 'x');
});

test('safetensors rejects sizes that do not fit the file', () => {
  const buf = serializeSafetensors({ a: { shape: [4], data: new Float32Array(4) } });
  assert.throws(() => parseSafetensors(buf.subarray(0, buf.length - 1)), FormatError);
  const bad = buf.slice();
  new DataView(bad.buffer).setBigUint64(0, 1n << 40n, true);
  assert.throws(() => parseSafetensors(bad), FormatError);
});

/** A safetensors buffer whose header is exactly `json`, followed by `dataBytes` zero bytes. */
function withHeader(json: string, dataBytes = 0): Uint8Array {
  const h = Buffer.from(json);
  const out = new Uint8Array(8 + h.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  return out;
}

test('safetensors headers that are not an object of tensor objects are format errors naming the file', () => {
  const cases: [string, RegExp][] = [
    ['null', /m\.safetensors: header is null/],
    ['[1,2]', /header is an array/],
    ['7', /header is a number/],
    ['{"a":null}', /tensor a is null/],
    ['{"a":[4]}', /tensor a is an array/],
    ['{"a":"F32"}', /tensor a is a string/],
    ['{"__metadata__":{"step":1}}', /__metadata__ is an object, not an object of strings/],
    ['{"__metadata__":"x"}', /__metadata__ is a string/],
  ];
  for (const [json, message] of cases) {
    assert.throws(
      () => parseSafetensors(withHeader(json), 'm.safetensors'),
      (e: unknown) => e instanceof FormatError && message.test(e.message),
      json,
    );
  }
  // a dtype that only an object's prototype knows is not a dtype
  assert.throws(() => parseSafetensors(withHeader('{"a":{"dtype":"toString","shape":[1],"data_offsets":[0,4]}}', 4)), UnsupportedError);
  // a null __metadata__ is an empty one
  assert.equal(parseSafetensors(withHeader('{"__metadata__":null}')).tensors.size, 0);
});

test('reads a reference fixture', (t) => {
  const p = sharedPath(t, 'fixtures', 'pcm-conversions', 'ramp.safetensors');
  if (!p) return;
  const f = readSafetensors(p);
  assert.ok(f.tensors.size > 0);
});

test('npy round trip', () => {
  const d = new Float32Array([1, 2, 3, 4, 5, 6]);
  const back = parseNpy(serializeNpy(d, [2, 3]));
  assert.deepEqual(back.shape, [2, 3]);
  assert.deepEqual(Array.from(back.data), [1, 2, 3, 4, 5, 6]);
});

test('tensors read from a file own exactly their bytes', (t) => {
  const p = sharedPath(t, 'fixtures', 'lmic-transformer', 'd64', 'params.safetensors');
  if (!p) return;
  const e = readSafetensors(p).tensors.get('embed.embeddings')!;
  assert.equal(e.data.length, 256 * 64);
});

test('npy read from a Buffer owns exactly its elements', () => {
  const buf = Buffer.from(serializeNpy(new Int16Array([5, -6, 7]), [3]));
  const back = parseNpy(buf);
  assert.deepEqual(Array.from(back.data), [5, -6, 7]);
});
