import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  encodeWav,
  encodeWavHeader,
  loadAudio,
  parseWavLayout,
  WavWriter,
  type AudioData,
  type Samples,
  type WavWriterOptions,
} from '../../src/audio/index.js';
import { ConfigError, UnsupportedError } from '../../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'wavelm-wav-writer-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let fileNumber = 0;
const nextPath = (): string => join(dir, `out-${fileNumber++}.wav`);

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function noise(type: 'int16' | 'float32' | 'uint8', n: number, seed: number): Samples {
  const r = rng(seed);
  if (type === 'int16') return Int16Array.from({ length: n }, () => Math.floor(r() * 65536) - 32768);
  if (type === 'uint8') return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
  return Float32Array.from({ length: n }, () => r() * 2 - 1);
}

/** Writes `samples` in blocks of the given frame counts (cycled) and returns the file's bytes. */
function writeInBlocks(path: string, options: WavWriterOptions, samples: Samples, blockFrames: number[]): Uint8Array {
  const w = WavWriter.open(path, options);
  const ch = options.channels;
  for (let f = 0, k = 0; f * ch < samples.length; k++) {
    const n = Math.min(blockFrames[k % blockFrames.length]!, samples.length / ch - f);
    w.write(samples.subarray(f * ch, (f + n) * ch));
    f += n;
  }
  const summary = w.close();
  const bytes = new Uint8Array(readFileSync(path));
  assert.equal(summary.bytes, bytes.length);
  assert.equal(summary.frames, samples.length / ch);
  return bytes;
}

function asAudio(samples: Samples, sampleType: AudioData['sampleType'], channels: number): AudioData {
  return {
    sampleRate: 16000,
    channels,
    frames: samples.length / channels,
    sampleType,
    bitsPerSample: sampleType === 'uint8' ? 8 : sampleType === 'int16' ? 16 : 32,
    samples,
  };
}

test('blocks written one by one give the bytes encodeWav gives for the whole, and read back', async () => {
  const cases: Array<{
    type: 'int16' | 'float32' | 'uint8';
    channels: number;
    options: Partial<WavWriterOptions>;
    encode: Parameters<typeof encodeWav>[1];
  }> = [
    { type: 'int16', channels: 2, options: { bits: 16 }, encode: { bits: 16 } },
    { type: 'int16', channels: 1, options: { bits: 24 }, encode: { bits: 24 } },
    { type: 'float32', channels: 2, options: { float: true }, encode: { float: true } },
    { type: 'float32', channels: 3, options: { bits: 16 }, encode: { bits: 16 } },
    { type: 'float32', channels: 1, options: { bits: 32 }, encode: { bits: 32 } },
    // 8-bit mono with an odd frame count: the data chunk needs its pad byte.
    { type: 'uint8', channels: 1, options: { bits: 8 }, encode: { bits: 8 } },
  ];
  for (const [i, c] of cases.entries()) {
    const frames = 1001;
    const samples = noise(c.type, frames * c.channels, i + 1);
    const path = nextPath();
    const got = writeInBlocks(path, { sampleRate: 16000, channels: c.channels, ...c.options }, samples, [1, 300, 0, 77, 512]);
    const whole = encodeWav(asAudio(samples, c.type, c.channels), c.encode);
    assert.deepEqual(got, whole, `${c.type} x${c.channels} ${JSON.stringify(c.options)}`);
    const back = await loadAudio(path);
    assert.equal(back.frames, frames);
    assert.equal(back.channels, c.channels);
    if (c.type === 'int16' && c.options.bits === 16) assert.deepEqual(back.samples, samples);
    if (c.options.float) assert.deepEqual(back.samples, samples);
  }
});

test('close() states the sizes: RIFF size is the file length less 8, data size the samples written', () => {
  const path = nextPath();
  const bytes = writeInBlocks(path, { sampleRate: 8000, channels: 1, bits: 8 }, noise('uint8', 333, 9), [100]);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(dv.getUint32(4, true), bytes.length - 8);
  const layout = parseWavLayout(bytes);
  assert.equal(layout.declaredDataSize, 333);
  assert.equal(layout.frames, 333);
  assert.equal(layout.truncated, false);
  assert.equal(bytes.length, 44 + 333 + 1);
});

test('expectedFrames: a right guess leaves the header as written, a wrong one is patched', () => {
  const samples = noise('int16', 2 * 500, 3);
  const whole = encodeWav(asAudio(samples, 'int16', 2));
  for (const expectedFrames of [500, 0, 499, 10_000]) {
    const got = writeInBlocks(nextPath(), { sampleRate: 16000, channels: 2, expectedFrames }, samples, [128]);
    assert.deepEqual(got, whole, `expectedFrames ${expectedFrames}`);
  }
});

test("rf64 'auto' keeps a small file RIFF (with a JUNK chunk reserved for ds64) and readable", async () => {
  const path = nextPath();
  const samples = noise('int16', 2 * 700, 4);
  // A huge expected length opens the file as RF64; writing fewer frames turns it back into RIFF.
  const bytes = writeInBlocks(path, { sampleRate: 16000, channels: 2, rf64: 'auto', expectedFrames: 2 ** 31 }, samples, [256]);
  const layout = parseWavLayout(bytes);
  assert.equal(layout.container, 'wav');
  assert.deepEqual(
    layout.chunks.map((c) => c.id),
    ['JUNK', 'fmt ', 'data'],
  );
  assert.equal(layout.riffSize, bytes.length - 8);
  assert.deepEqual((await loadAudio(path)).samples, samples);
});

test("rf64 'auto' with expectedFrames that fit RIFF reserves nothing: the file is encodeWav's", () => {
  const samples = noise('int16', 2 * 600, 5);
  const got = writeInBlocks(nextPath(), { sampleRate: 16000, channels: 2, rf64: 'auto', expectedFrames: 600 }, samples, [100]);
  assert.deepEqual(got, encodeWav(asAudio(samples, 'int16', 2)));
});

test('an RF64 header states 64-bit sizes in its ds64 chunk, which the reader takes', () => {
  const frames = 2 ** 31; // 8 GiB of stereo 16-bit
  const enc = { sampleRate: 48000, channels: 2, bits: 16 as const, float: false, extensible: false };
  const header = encodeWavHeader(enc, frames, 'rf64');
  const layout = parseWavLayout(header);
  assert.equal(layout.container, 'rf64');
  assert.equal(layout.riffSize, header.length - 8 + frames * 4);
  assert.equal(layout.declaredDataSize, frames * 4);
  assert.equal(layout.declaredFrames, frames);
  assert.throws(() => encodeWavHeader(enc, frames, 'riff'), ConfigError);
});

test('past 4 GiB without rf64 is refused, and nothing is left behind', () => {
  const path = nextPath();
  assert.throws(
    () => WavWriter.open(path, { sampleRate: 48000, channels: 2, expectedFrames: 2 ** 31 }),
    (e: unknown) => e instanceof UnsupportedError && /4 GiB.*rf64: 'auto'/.test(e.message),
  );
  assert.equal(existsSync(path), false);
});

test('a closed writer refuses writes and a second close; partial frames are refused', () => {
  const path = nextPath();
  const w = WavWriter.open(path, { sampleRate: 16000, channels: 2 });
  assert.throws(
    () => w.write(new Int16Array(3)),
    (e: unknown) => e instanceof ConfigError && /whole frames, got 3 samples for 2 channels/.test(e.message),
  );
  w.write(new Int16Array(4));
  assert.equal(w.frames, 2);
  w.close();
  assert.throws(
    () => w.write(new Int16Array(2)),
    (e: unknown) => e instanceof ConfigError && /already closed/.test(e.message),
  );
  assert.throws(() => w.close(), ConfigError);
  w.abort(); // a no-op once closed: the finished file stays
  assert.equal(parseWavLayout(new Uint8Array(readFileSync(path))).frames, 2);
});

test('abort() deletes an unfinished file', () => {
  const path = nextPath();
  const w = WavWriter.open(path, { sampleRate: 16000, channels: 1 });
  w.write(new Int16Array(10));
  w.abort();
  assert.equal(existsSync(path), false);
  assert.throws(() => w.write(new Int16Array(1)), ConfigError);
});

test('bad formats are refused when the writer opens', () => {
  const path = nextPath();
  assert.throws(() => WavWriter.open(path, { sampleRate: 0, channels: 1 }), /sampleRate must be an integer from 1/);
  assert.throws(() => WavWriter.open(path, { sampleRate: 16000, channels: 0 }), /channels must be an integer from 1/);
  assert.throws(() => WavWriter.open(path, { sampleRate: 16000, channels: 1, bits: 12 as 16 }), /bits must be 8, 16, 24 or 32, got 12/);
  assert.equal(existsSync(path), false);
});
