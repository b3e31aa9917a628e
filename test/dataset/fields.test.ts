import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { toFloat32Channels } from '../../src/audio/index.js';
import { createField, parseFieldSpecs, type ArrayBatch, type Field } from '../../src/dataset/fields/index.js';
import { floatsToHalf, halfToFloats, toHalf } from '../../src/dataset/fields/half.js';
import { DatasetReader } from '../../src/dataset/reader.js';
import { DatasetWriter } from '../../src/dataset/writer.js';
import { melSpectrogram } from '../../src/features/mel.js';
import { audioToChunks } from '../../src/tokens/index.js';
import { decodedArray } from '../helpers/decoded.js';
import { synth, tmp } from './helpers.js';
import type { AudioData } from '../../src/audio/types.js';

async function roundTrip(fields: Field[], inputs: { audio?: AudioData; values?: Record<string, unknown> }[]): Promise<DatasetReader> {
  const p = join(tmp(), 'f.wlds');
  const w = new DatasetWriter(p, fields, { sync: false });
  for (const [i, inp] of inputs.entries())
    w.add(await Promise.all(fields.map((f) => f.encode({ key: `k${i}`, audio: inp.audio, values: inp.values ?? {} }))));
  w.close();
  return DatasetReader.open(p);
}

function snrDb(ref: Float32Array, x: Float32Array): number {
  let s = 0;
  let e = 0;
  for (let i = 0; i < ref.length; i++) {
    s += ref[i]! ** 2;
    e += (ref[i]! - x[i]!) ** 2;
  }
  return 10 * Math.log10(s / e);
}

test('waveform int16 keeps samples exactly, mono and stereo, planar on decode', async () => {
  const mono = synth(1000, 16000, 1);
  const stereo = synth(777, 16000, 2, 7);
  const r = await roundTrip([createField('a', 'waveform')], [{ audio: mono }, { audio: stereo }]);
  const d0 = await r.get(0);
  const d1 = await r.get(1);
  const a0 = decodedArray(d0, 'a');
  const a1 = decodedArray(d1, 'a');
  assert.deepEqual(a0.shape, [1, 1000]);
  assert.deepEqual(Array.from(a0.data), Array.from(mono.samples));
  assert.deepEqual(a1.shape, [2, 777]);
  for (let i = 0; i < 777; i++) {
    assert.equal(a1.data[i], stereo.samples[2 * i]);
    assert.equal(a1.data[777 + i], stereo.samples[2 * i + 1]);
  }
  assert.deepEqual(r.meta(1, 0), [777, 2, 16000]);
  await r.close();
});

test('waveform options: float32, resampling to a target rate, mono down-mix, peak normalisation', async () => {
  const a = synth(16000, 16000, 2);
  const f = createField('w', 'waveform', { dtype: 'float32', sample_rate: '8000', mono: 'true', normalize: 'true', peak: '0.5' });
  const r = await roundTrip([f], [{ audio: a }]);
  const [frames, ch, rate] = r.meta(0, 0);
  assert.equal(rate, 8000);
  assert.equal(ch, 1);
  assert.equal(frames, 8000);
  const d = await r.get(0);
  const dW = decodedArray(d, 'w');
  let peak = 0;
  for (const x of dW.data) peak = Math.max(peak, Math.abs(x));
  assert.ok(Math.abs(peak - 0.5) < 1e-6, `peak ${peak}`);
  assert.equal(r.schema.fields[0]!.args.sample_rate, 8000);
  await r.close();
});

test('flac field is lossless and returns exactly the stored frames; FLAC sources are kept as they are', async () => {
  const a = synth(4321, 16000, 2);
  const r = await roundTrip([createField('f', 'flac', { dtype: 'int16' })], [{ audio: a }]);
  const d = await r.get(0);
  const dF = decodedArray(d, 'f');
  assert.deepEqual(dF.shape, [2, 4321]);
  for (let i = 0; i < 4321; i++) assert.equal(dF.data[i], a.samples[2 * i]);
  // A FLAC file used unchanged is stored byte for byte.
  const blob = r.readBlob(0, 0);
  const r2 = await (async () => {
    const p = join(tmp(), 'g.wlds');
    const f = createField('f', 'flac');
    const w = new DatasetWriter(p, [f], { sync: false });
    w.add([await f.encode({ key: 'x', audio: a, fileBytes: blob, values: {} })]);
    w.close();
    return DatasetReader.open(p);
  })();
  assert.deepEqual(r2.readBlob(0, 0), blob);
  await r.close();
  await r2.close();
});

test('opus field returns exactly the original frame count at the original rate, with good SNR', async () => {
  for (const rate of [16000, 22050]) {
    const a = synth(rate, rate, 1);
    const r = await roundTrip([createField('o', 'opus', { bitrate: '64000' })], [{ audio: a }]);
    assert.deepEqual(r.meta(0, 0), [rate, 1, rate]);
    const d = await r.get(0);
    const dO = decodedArray(d, 'o');
    assert.deepEqual(dO.shape, [1, rate]);
    const ref = toFloat32Channels(a)[0]!;
    const snr = snrDb(ref.subarray(200, rate - 200), (dO.data as Float32Array).subarray(200, rate - 200));
    assert.ok(snr > 15, `opus SNR at ${rate} Hz is ${snr.toFixed(1)} dB`);
    assert.ok(r.blobLength(0, 0) < (64000 / 8) * 1.2, `opus blob is ${r.blobLength(0, 0)} bytes for 1 s at 64 kbit/s`);
    await r.close();
  }
});

test('mel field equals the features mel spectrogram (float32, log)', async () => {
  const a = synth(8000, 16000, 1);
  const f = createField('m', 'mel', { dtype: 'float32', n_mels: '40', n_fft: '512', hop_length: '128', log: 'ln' });
  const r = await roundTrip([f], [{ audio: a }]);
  const d = await r.get(0);
  const dM = decodedArray(d, 'm');
  const ref = melSpectrogram(toFloat32Channels(a)[0]!, { sr: 16000, nFft: 512, hopLength: 128, nMels: 40, fmin: 0, fmax: 8000, power: 2 });
  assert.deepEqual(dM.shape, ref.shape);
  for (let i = 0; i < ref.data.length; i += 97) assert.ok(Math.abs(dM.data[i]! - Math.log(Math.max(1e-10, ref.data[i]!))) < 1e-5);
  // float16 storage is half the size and within half precision.
  const h = createField('m', 'mel', { n_mels: '40', n_fft: '512', hop_length: '128' });
  const r16 = await roundTrip([h], [{ audio: a }]);
  assert.equal(r16.blobLength(0, 0) * 2, r.blobLength(0, 0));
  const d16 = await r16.get(0);
  const d16M = decodedArray(d16, 'm');
  for (let i = 0; i < d16M.data.length; i += 31) assert.ok(Math.abs(d16M.data[i]! - dM.data[i]!) <= Math.abs(dM.data[i]!) * 1e-3 + 1e-3);
  await r.close();
  await r16.close();
});

test('half-precision conversion rounds to nearest even and round-trips every finite half', () => {
  assert.equal(toHalf(1), 0x3c00);
  assert.equal(toHalf(-2), 0xc000);
  assert.equal(toHalf(65504), 0x7bff);
  assert.equal(toHalf(1e6), 0x7c00);
  assert.equal(toHalf(2 ** -24), 0x0001);
  assert.equal(toHalf(1 + 2 ** -11), 0x3c00); // tie to even
  const all = new Uint16Array(65536).map((_, i) => i);
  const f = halfToFloats(all);
  const back = floatsToHalf(f);
  for (let i = 0; i < 65536; i++) if (((i >> 10) & 0x1f) !== 0x1f) assert.equal(back[i], i, `half ${i.toString(16)}`);
});

test('chunks field stores exactly the token pipeline chunks', async () => {
  const a = synth(9000, 16000, 2);
  const f = createField('c', 'chunks', { bit_depth: '8', chunk_size: '1024', blocking_size: '256' });
  const r = await roundTrip([f], [{ audio: a }]);
  const want = audioToChunks(a, { bitDepth: 8, chunkSizeBytes: 1024, blockingSize: 256 });
  assert.equal(r.meta(0, 0)[0], want.length);
  const d = await r.get(0);
  const dC = decodedArray(d, 'c');
  assert.deepEqual(dC.shape, [want.length, 1024]);
  want.forEach((c, i) => {
    assert.deepEqual(Array.from(dC.data.subarray(i * 1024, (i + 1) * 1024)), Array.from(c));
  });
  await r.close();
});

test('codec_tokens, int, float, string and json fields round-trip; bad values are refused', async () => {
  const toks = { shape: [4, 5], data: Uint16Array.from({ length: 20 }, (_, i) => (i * 51) % 1024) };
  const fields = [
    createField('codes', 'codec_tokens', { n_codebooks: '4', vocab_size: '1024', frame_rate: '75' }),
    createField('n', 'int'),
    createField('x', 'float'),
    createField('s', 'string'),
    createField('j', 'json'),
  ];
  const r = await roundTrip(fields, [{ values: { codes: toks, n: -42, x: 0.125, s: 'héllo', j: { a: [1, 2], b: null } } }]);
  const d = await r.get(0);
  const dCodes = decodedArray(d, 'codes');
  assert.deepEqual(dCodes.shape, [4, 5]);
  assert.deepEqual(Array.from(dCodes.data), Array.from(toks.data));
  assert.deepEqual(d.n, { kind: 'scalar', value: -42 });
  assert.deepEqual(d.x, { kind: 'scalar', value: 0.125 });
  assert.deepEqual(d.s, { kind: 'value', value: 'héllo' });
  assert.deepEqual(d.j, { kind: 'value', value: { a: [1, 2], b: null } });
  assert.equal(r.schema.fields[0]!.args.frame_rate, 75);
  assert.throws(() => fields[1]!.encode({ key: 'k', values: { n: 1.5 } }), /not an integer/);
  assert.throws(() => fields[0]!.encode({ key: 'k', values: { codes: { shape: [4, 1], data: [1, 2, 3, 5000] } } }), /outside/);
  await r.close();
});

test('field specs parse names, types and arguments with nested parentheses', () => {
  const s = parseFieldSpecs('waveform(dtype=float32,sample_rate=16000), label=int(from=regex:^(\\d+)_), flac');
  assert.deepEqual(s, [
    { name: 'waveform', type: 'waveform', args: { dtype: 'float32', sample_rate: '16000' } },
    { name: 'label', type: 'int', args: { from: 'regex:^(\\d+)_' } },
    { name: 'flac', type: 'flac', args: {} },
  ]);
  assert.throws(() => parseFieldSpecs('a=b(c'), /unbalanced/);
  assert.throws(() => createField('x', 'nope'), /unknown field type/);
});

test('window decoding reads only the window of a waveform', async () => {
  const a = synth(1000, 8000, 2);
  const f = createField('w', 'waveform');
  const r = await roundTrip([f], [{ audio: a }]);
  const meta = r.meta(0, 0);
  const [s, e] = f.byteRange!(meta, { start: 100, length: 50 });
  assert.deepEqual([s, e], [400, 600]);
  const out: ArrayBatch = { kind: 'array', dtype: 'int16', shape: [1, 2, 50], data: new Int16Array(100), lengths: new Int32Array(1) };
  const ref = r.blob(0, 0);
  const n = f.decodeInto!(out, 0, r.readRange(ref.offset + s, e - s), meta, { start: 100, length: 50 });
  assert.equal(n, 50);
  for (let i = 0; i < 50; i++) {
    assert.equal(out.data[i], a.samples[(100 + i) * 2]);
    assert.equal(out.data[50 + i], a.samples[(100 + i) * 2 + 1]);
  }
  await r.close();
});

test('flac blobs carry a checked frame index; damaged indexes are refused clearly', async () => {
  const { packFlac, unpackFlac, flacFrameSizes } = await import('../../src/dataset/fields/compressed.js');
  const { encodeFlacAsync } = await import('../../src/audio/encoders/flac.js');
  const a = synth(20000, 16000, 1);
  const file = await encodeFlacAsync(a.samples as Int16Array, { sampleRate: 16000, channels: 1, bitsPerSample: 16 });
  const sizes = await flacFrameSizes(file, 20000);
  assert.ok(sizes.length > 1, 'the frame parser splits this stream');
  const packed = packFlac(file, sizes);
  const { file: back, frames } = unpackFlac(packed);
  assert.deepEqual(back, file);
  assert.ok(frames.length > 1);
  assert.equal(frames.reduce((s, f) => s + f.length, 0) + (file.length - frames.reduce((s, f) => s + f.length, 0)), file.length);
  const bad = packed.slice();
  new DataView(bad.buffer).setUint32(0, 1e6, true);
  assert.throws(() => unpackFlac(bad), /damaged/);
  const bad2 = packed.slice();
  new DataView(bad2.buffer).setUint32(4, 1e8, true);
  assert.throws(() => unpackFlac(bad2), /exceed/);
  // A stream of one frame (the parser alone finds none) is indexed too.
  const one = await encodeFlacAsync(synth(3000, 8000).samples as Int16Array, { sampleRate: 8000, channels: 1, bitsPerSample: 16 });
  assert.equal((await flacFrameSizes(one, 3000)).length, 1);
  assert.deepEqual(await flacFrameSizes(one, 2999), [], 'an index that does not give the stored frame count is dropped');
  // Without an index (n = 0) the blob decodes as a whole file, to the same samples.
  const f = createField('f', 'flac', { dtype: 'int16' });
  const meta = [20000, 1, 16000];
  const viaIndex = await f.decode(packed, meta);
  const whole = await f.decode(packFlac(file, []), meta);
  assert.ok(viaIndex.kind === 'array' && whole.kind === 'array');
  assert.deepEqual(Array.from(viaIndex.data), Array.from(a.samples));
  assert.deepEqual(Array.from(whole.data), Array.from(a.samples));
});

/** A drum-like hit: a noise burst that decays to digital silence, so the last FLAC frame is a few bytes. */
function hitThenSilence(frames: number): AudioData {
  const s = new Int16Array(frames);
  let x = 7;
  for (let i = 0; i < frames; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    s[i] = Math.round(((x >>> 16) - 32768) * Math.exp(-i / 500));
  }
  return { sampleRate: 44100, channels: 1, frames, sampleType: 'int16', bitsPerSample: 16, samples: s };
}

test('flac field keeps a short last frame after a long one, with and without the frame index', async () => {
  const { packFlac, flacFrameSizes } = await import('../../src/dataset/fields/compressed.js');
  const { encodeFlacAsync } = await import('../../src/audio/encoders/flac.js');
  // 10796 = 2 x 4096 + 2604 frames; the last block is silent and encodes to 13 bytes, which the frame
  // parser used to merge into the block before it (and the whole-file decode then dropped).
  const a = hitThenSilence(10796);
  const file = await encodeFlacAsync(a.samples as Int16Array, { sampleRate: 44100, channels: 1, bitsPerSample: 16, compressionLevel: 5 });
  const sizes = await flacFrameSizes(file, a.frames);
  assert.equal(sizes.length, 3, 'one index entry per FLAC frame');
  const f = createField('f', 'flac', { dtype: 'int16' });
  const meta = [a.frames, 1, 44100];
  for (const blob of [packFlac(file, sizes), packFlac(file, [])]) {
    const d = await f.decode(blob, meta);
    assert.ok(d.kind === 'array');
    assert.deepEqual(Array.from(d.data), Array.from(a.samples));
  }
  const r = await roundTrip([f], [{ audio: a }]);
  const d = await r.get(0);
  assert.deepEqual(decodedArray(d, 'f').shape, [1, a.frames]);
  await r.close();
});

test('datasetChunks yields every chunk of every sample, in the loader order', async () => {
  const { datasetChunks } = await import('../../src/dataset/chunk-source.js');
  const f = createField('c', 'chunks', { chunk_size: '512', blocking_size: '256' });
  const audios = [synth(3000, 8000, 1, 1), synth(5000, 8000, 2, 2), synth(100, 8000, 1, 3)];
  const r = await roundTrip(
    [f],
    audios.map((audio) => ({ audio })),
  );
  const got: Uint8Array[] = [];
  for await (const c of datasetChunks(r.path, { order: 'sequential' })) got.push(c);
  const want = audios.flatMap((a) => audioToChunks(a, { chunkSizeBytes: 512, blockingSize: 256 }));
  assert.equal(got.length, want.length);
  got.forEach((c, i) => {
    assert.deepEqual(Array.from(c), Array.from(want[i]!));
  });
  const shuffled: Uint8Array[] = [];
  for await (const c of datasetChunks(r.path, { seed: 3 })) shuffled.push(c);
  assert.equal(shuffled.length, want.length);
  await r.close();
});
