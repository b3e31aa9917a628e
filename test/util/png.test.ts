import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { colormapTable, crc32, encodePng, type PngFilter } from '../../src/util/png.js';

/** A minimal PNG reader for the subset encodePng writes: checks signature, chunk CRCs, IHDR, and unfilters. */
function decode(png: Uint8Array): { width: number; height: number; channels: number; data: Uint8Array; filters: Set<number> } {
  assert.deepEqual(Array.from(png.subarray(0, 8)), [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let p = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Uint8Array[] = [];
  const types: string[] = [];
  while (p < png.length) {
    const len = dv.getUint32(p);
    const type = String.fromCharCode(...png.subarray(p + 4, p + 8));
    const body = png.subarray(p + 8, p + 8 + len);
    assert.equal(dv.getUint32(p + 8 + len), crc32(png.subarray(p + 4, p + 8 + len)), `${type} CRC`);
    types.push(type);
    if (type === 'IHDR') {
      const h = new DataView(body.buffer, body.byteOffset, body.byteLength);
      width = h.getUint32(0);
      height = h.getUint32(4);
      assert.equal(body[8], 8);
      channels = { 0: 1, 2: 3, 6: 4 }[body[9]!] ?? 0;
      assert.deepEqual([body[10], body[11], body[12]], [0, 0, 0]);
    } else if (type === 'IDAT') idat.push(body);
    p += 12 + len;
  }
  assert.deepEqual(types, ['IHDR', 'IDAT', 'IEND']);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  assert.equal(raw.length, (stride + 1) * height);
  const data = new Uint8Array(stride * height);
  const filters = new Set<number>();
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!;
    filters.add(f);
    for (let i = 0; i < stride; i++) {
      const x = raw[y * (stride + 1) + 1 + i]!;
      const a = i >= channels ? data[y * stride + i - channels]! : 0;
      const b = y > 0 ? data[(y - 1) * stride + i]! : 0;
      const c = y > 0 && i >= channels ? data[(y - 1) * stride + i - channels]! : 0;
      let pred = 0;
      if (f === 1) pred = a;
      else if (f === 2) pred = b;
      else if (f === 3) pred = (a + b) >> 1;
      else if (f === 4) {
        const pp = a + b - c;
        const pa = Math.abs(pp - a);
        const pb = Math.abs(pp - b);
        const pc = Math.abs(pp - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else assert.equal(f, 0);
      data[y * stride + i] = (x + pred) & 0xff;
    }
  }
  return { width, height, channels, data, filters };
}

test('crc32 check value', () => {
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
});

test('PNG round-trips through inflate for every filter and channel count', () => {
  for (const channels of [1, 3, 4] as const) {
    const width = 37;
    const height = 23;
    const data = Uint8Array.from({ length: width * height * channels }, (_, i) => (i * 31 + ((i / 7) | 0) * 3) & 0xff);
    for (const filter of ['none', 'sub', 'up', 'average', 'paeth', 'adaptive'] as PngFilter[]) {
      const png = encodePng({ width, height, channels, data, filter, level: 6 });
      const d = decode(png);
      assert.equal(d.width, width);
      assert.equal(d.height, height);
      assert.equal(d.channels, channels);
      assert.deepEqual(d.data, data, `${channels}ch ${filter}`);
      if (filter === 'none') assert.deepEqual([...d.filters], [0]);
    }
  }
});

test('grayscale, no filters, level 9 (the compression baseline) is deterministic and smaller than raw for smooth data', () => {
  const width = 2048;
  const height = 16;
  const data = Uint8Array.from({ length: width * height }, (_, i) => 128 + Math.round(60 * Math.sin(i / 50)));
  const a = encodePng({ width, height, channels: 1, data, filter: 'none', level: 9 });
  const b = encodePng({ width, height, channels: 1, data, filter: 'none', level: 9 });
  assert.deepEqual(a, b);
  assert.ok(a.length < data.length);
  assert.deepEqual(decode(a).data, data);
});

test('bad images are rejected with messages that name the problem', () => {
  assert.throws(() => encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array(3) }), /needs 4 bytes/);
  assert.throws(() => encodePng({ width: 0, height: 2, channels: 1, data: new Uint8Array(0) }), /width and height/);
  assert.throws(() => encodePng({ width: 1, height: 1, channels: 2 as 1, data: new Uint8Array(2) }), /channels/);
  assert.throws(() => encodePng({ width: 1, height: 1, channels: 1, data: new Uint8Array(1), level: 12 }), /level/);
});

test('colormaps have 256 RGB entries and run dark to light', () => {
  for (const name of ['viridis', 'magma', 'gray'] as const) {
    const t = colormapTable(name);
    assert.equal(t.length, 768);
    const lum = (i: number): number => t[i * 3]! * 0.3 + t[i * 3 + 1]! * 0.59 + t[i * 3 + 2]! * 0.11;
    assert.ok(lum(255) > lum(0));
  }
});
