import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  ARCHIVE_HEADER_BYTES,
  ARCHIVE_HEADER_FIELDS,
  ARCHIVE_HEADER_OFFSETS,
  readArchiveHeader,
  writeArchiveHeader,
  type ArchiveHeader,
} from '../../src/compress/archive-header.js';
import { FormatError } from '../../src/util/errors.js';

const sample: ArchiveHeader = {
  magic: Uint8Array.from([0x57, 0x4c, 0x4d, 0x1a]),
  version: 3,
  weightsSha256: new Uint8Array(32).fill(1),
  configSha256: new Uint8Array(32).fill(2),
  originalSha256: new Uint8Array(32).fill(3),
  originalSize: 2 ** 40 + 7,
  inputKind: 1,
  tokenMode: 2,
  coder: 0,
  bitsPerSample: 16,
  vocabSize: 65536,
  chunkLength: 2048,
  channels: 2,
  sampleRate: 44100,
  codedFrames: 2 ** 33 + 5,
  dataOffset: 44,
  suffixLength: 3,
};

test('archive header: every field written is read back, reserved bytes stay zero', () => {
  const out = new Uint8Array(ARCHIVE_HEADER_BYTES + 10).fill(0xee);
  writeArchiveHeader(out, sample);
  assert.deepEqual(readArchiveHeader(out, 'x'), sample);
  assert.equal(out[ARCHIVE_HEADER_OFFSETS.flags], 0);
  assert.equal(out[ARCHIVE_HEADER_OFFSETS.reserved + 1], 0);
  assert.equal(out[ARCHIVE_HEADER_BYTES], 0xee, 'nothing written past the header');
});

test('archive header: a short buffer is a FormatError naming the file', () => {
  assert.throws(
    () => readArchiveHeader(new Uint8Array(100), 'short.wlm'),
    (e: unknown) => e instanceof FormatError && /short\.wlm/.test(e.message),
  );
});

test('archive header: the table in docs/compression.md has the code table offsets and sizes', () => {
  const doc = readFileSync(new URL('../../docs/compression.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## `.wlm` format'));
  const rows = [...section.matchAll(/^\| (\d+) \| (\d+) \|/gm)].map((m) => [Number(m[1]), Number(m[2])]);
  const fixedRows = rows.filter(([offset]) => offset! < ARCHIVE_HEADER_BYTES);
  const sizes: Record<string, number> = { u8: 1, u16: 2, u32: 4, u64: 8, bytes4: 4, sha256: 32 };
  assert.deepEqual(
    fixedRows,
    ARCHIVE_HEADER_FIELDS.map((f) => [ARCHIVE_HEADER_OFFSETS[f.name], sizes[f.kind]]),
  );
  assert.equal(ARCHIVE_HEADER_BYTES, 148);
});
