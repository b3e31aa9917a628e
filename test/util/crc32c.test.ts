import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c } from '../../src/util/crc32c.js';

test('crc32c matches the standard check values', () => {
  assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
});

test('crc32c can be computed in pieces', () => {
  const d = new Uint8Array(1000).map((_, i) => (i * 37 + 11) & 0xff);
  assert.equal(crc32c(d.subarray(300), crc32c(d.subarray(0, 300))), crc32c(d));
});
