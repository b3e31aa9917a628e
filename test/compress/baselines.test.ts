import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { gunzipSync, inflateSync, brotliDecompressSync } from 'node:zlib';
import { decodeFlac } from '../../src/audio/decoders.js';
import { CLASSICAL_COMPRESSORS } from '../../src/compress/compressors.js';
import { evalChartHtml, evaluateCompressor, formatEvalCsv, formatEvalTable } from '../../src/compress/evaluate.js';
import type { Compressor } from '../../src/compress/compressor.js';
import { encodeFlacAsync, ffmpegFlacBlockSize, flacStreamBits } from '../../src/audio/encoders/flac.js';
import { toolPath } from '../helpers/tools.js';

function speechLike(n: number, seed = 1): Uint8Array {
  let s = seed;
  return Uint8Array.from({ length: n }, (_, i) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.max(0, Math.min(255, Math.round(128 + 50 * Math.sin(i / 6) * Math.sin(i / 500) + 6 * (s / 2 ** 32 - 0.5))));
  });
}
const ctx = { sampleRate: 8000 };

test('gzip, brotli and PNG outputs decode to the input; lzma and zstd write their stream headers (tools below decode them)', async () => {
  const data = speechLike(5000);
  assert.deepEqual(new Uint8Array(gunzipSync(CLASSICAL_COMPRESSORS.gzip!.compress(data, ctx))), data);
  assert.deepEqual(new Uint8Array(brotliDecompressSync(CLASSICAL_COMPRESSORS.brotli!.compress(data, ctx))), data);
  const lz = CLASSICAL_COMPRESSORS.lzma!;
  await lz.init!();
  const xz = lz.compress(data, ctx);
  assert.deepEqual(Array.from(xz.subarray(0, 6)), [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'xz stream magic');
  assert.equal(xz[7], 0x04, 'CRC-64 check, as Python lzma.compress');
  assert.ok(xz.length < 0.9 * data.length, `lzma must compress speech-like bytes (${xz.length} of ${data.length})`);
  const z = CLASSICAL_COMPRESSORS.zstd!;
  await z.init!();
  const zs = z.compress(data, ctx);
  assert.deepEqual(Array.from(zs.subarray(0, 4)), [0x28, 0xb5, 0x2f, 0xfd], 'zstd frame magic');
  // PNG: 5000 = 50 x 100, the squarest factorisation; rows unfiltered.
  const png = CLASSICAL_COMPRESSORS.png!.compress(data, ctx);
  const dv = new DataView(png.buffer, png.byteOffset);
  assert.equal(String.fromCharCode(...png.subarray(12, 16)), 'IHDR');
  assert.deepEqual([dv.getUint32(16), dv.getUint32(20), png[24], png[25]], [50, 100, 8, 0]);
  const idatLen = dv.getUint32(33);
  const raw = inflateSync(png.subarray(41, 41 + idatLen));
  assert.equal(raw.length, 100 * 51);
  for (let y = 0; y < 100; y++) {
    assert.equal(raw[y * 51], 0, 'filter type none');
    assert.deepEqual(new Uint8Array(raw.subarray(y * 51 + 1, y * 51 + 51)), data.subarray(y * 50, y * 50 + 50));
  }
  // A prime length gives a 1-pixel-wide image.
  const p7 = CLASSICAL_COMPRESSORS.png!.compress(data.subarray(0, 7), ctx);
  assert.deepEqual([new DataView(p7.buffer, p7.byteOffset).getUint32(16), new DataView(p7.buffer, p7.byteOffset).getUint32(20)], [1, 7]);
});

/** Runs a tool with `input` on stdin and returns its stdout, failing the test on any error or non-zero exit. */
function pipeThrough(tool: string, args: string[], input: Uint8Array): Uint8Array {
  const r = spawnSync(tool, args, { input, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `${tool} ${args.join(' ')}: ${r.stderr.toString()}`);
  return new Uint8Array(r.stdout);
}

test('xz (XZ Utils) decodes our lzma output, and writes the same bytes at preset 6', async (t) => {
  const xzTool = toolPath(t, 'xz', 'xz-utils');
  if (!xzTool) return;
  const data = speechLike(5000);
  const lz = CLASSICAL_COMPRESSORS.lzma!;
  await lz.init!();
  const xz = lz.compress(data, ctx);
  assert.deepEqual(pipeThrough(xzTool, ['-d', '-c'], xz), data);
  // liblzma at preset 6 writes exactly what Python's lzma.compress (and xz -6 -T1) writes.
  assert.deepEqual(Array.from(xz), Array.from(pipeThrough(xzTool, ['--format=xz', '--check=crc64', '-6', '-T1', '-c'], data)));
});

test('zstd (the reference CLI) decodes our zstd output', async (t) => {
  const zstdTool = toolPath(t, 'zstd', 'zstd');
  if (!zstdTool) return;
  const data = speechLike(5000);
  const z = CLASSICAL_COMPRESSORS.zstd!;
  await z.init!();
  assert.deepEqual(pipeThrough(zstdTool, ['-d', '-c'], z.compress(data, ctx)), data);
});

test('encodeFlac: 8-bit mono and 16-bit stereo decode back exactly (libFLAC, checked with another decoder)', async () => {
  const u8 = speechLike(9000);
  const f8 = await encodeFlacAsync(u8, { sampleRate: 8000, channels: 1, bitsPerSample: 8, blockSize: ffmpegFlacBlockSize(8000) });
  assert.equal(String.fromCharCode(...f8.subarray(0, 4)), 'fLaC');
  const d8 = (await decodeFlac(f8, 'u8.flac')).audio;
  assert.equal(d8.sampleRate, 8000);
  assert.deepEqual(d8.samples, u8);
  const i16 = Int16Array.from({ length: 6000 }, (_, i) => Math.round(20000 * Math.sin(i / (i % 2 ? 9 : 13))));
  const f16 = await encodeFlacAsync(i16, { sampleRate: 44100, channels: 2, bitsPerSample: 16, compressionLevel: 8 });
  const d16 = (await decodeFlac(f16, 'i16.flac')).audio;
  assert.equal(d16.channels, 2);
  assert.deepEqual(d16.samples, i16);
  await assert.rejects(encodeFlacAsync(i16.subarray(0, 5999), { sampleRate: 8000, channels: 2, bitsPerSample: 16 }), /whole number/);
  assert.equal(ffmpegFlacBlockSize(8000), 576);
  assert.equal(ffmpegFlacBlockSize(16000), 1152);
  assert.equal(ffmpegFlacBlockSize(44100), 4608);
});

test('encodeFlac: every depth from 4 to 24 bits decodes back exactly (written at 8, 16 or 24 bits)', async () => {
  for (let bits = 4; bits <= 24; bits++) {
    const frames = 3000;
    const where = `${bits}-bit`;
    // src/audio's containers: unsigned 8-bit up to 8 bits, int16 up to 16, int32 above; samples left-justified.
    const values = Array.from(
      { length: frames * 2 },
      (_, i) => Math.round((2 ** (bits - 1) - 1) * 0.8 * Math.sin(i / (i % 2 ? 7 : 11))) | 0,
    );
    const samples =
      bits <= 8
        ? Uint8Array.from(values, (v) => (v << (8 - bits)) + 128)
        : bits <= 16
          ? Int16Array.from(values, (v) => v << (16 - bits))
          : Int32Array.from(values, (v) => v << (32 - bits));
    const bytes = await encodeFlacAsync(samples, { sampleRate: 16000, channels: 2, bitsPerSample: bits });
    const back = (await decodeFlac(bytes, `${where}.flac`)).audio;
    assert.equal(back.bitsPerSample, flacStreamBits(bits), where);
    assert.ok([8, 16, 24].includes(back.bitsPerSample), where);
    const decoded = Array.from(back.samples as ArrayLike<number>, (v) =>
      back.sampleType === 'uint8' ? (v - 128) >> (8 - bits) : back.sampleType === 'int16' ? v >> (16 - bits) : v >> (32 - bits),
    );
    assert.deepEqual(decoded, values, where);
  }
});

test('evaluation follows compress.py: a classical header is counted once, LMs pay for every byte', async () => {
  // A toy compressor with a 10-byte header and a 1:2 body.
  const toy: Compressor = {
    name: 'toy',
    kind: 'classical',
    description: 'test',
    compress: (d) => new Uint8Array(10 + Math.ceil(d.length / 2)),
  };
  const chunks = [new Uint8Array(2048), new Uint8Array(2048), new Uint8Array(2048)];
  const r = await evaluateCompressor(toy, chunks, ctx);
  assert.equal(r.headerBytes, 11); // compressing one zero byte: 10 + 1
  assert.equal(r.chunked.compressedBytes, 3 * (10 + 1024) - 11 * 2);
  assert.equal(r.unchunked!.compressedBytes, 10 + 3072);
  const lmToy: Compressor = { ...toy, name: 'lmtoy', kind: 'lm' };
  const r2 = await evaluateCompressor(lmToy, chunks, ctx);
  assert.equal(r2.chunked.compressedBytes, 3 * 1034);
  assert.equal(r2.unchunked, undefined);
  const table = formatEvalTable([r, r2]);
  assert.match(table, /toy\s+3\s+0\.01\s+50\.1/);
  const csv = formatEvalCsv([r, r2]).trim().split('\n');
  assert.equal(csv.length, 3);
  assert.match(csv[1]!, /^toy,classical,3,6144,11,/);
  const html = evalChartHtml([r, r2]);
  assert.match(html, /<svg[^>]*>.*<rect/s);
  assert.ok(!/<script/.test(html));
});
