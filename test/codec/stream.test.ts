import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav, loadAudio, toInt16, type AudioData } from '../../src/audio/index.js';
import {
  AudioProcessor,
  codePieces,
  CodesCollector,
  decodeToWavFile,
  encodeFileStreaming,
  EncodecModel,
  jsOps,
  loadEncodecWeights,
  prepareAudio,
  sliceTime,
  streamingDecoder,
  streamingEncoder,
  toPlanarAudio,
  type CodecOps,
  type EncodedAudio,
  type Planar,
} from '../../src/codec/index.js';
import { wasmOps } from '../../src/codec/ops-wasm.js';
import { sharedPath } from '../helpers/shared.js';

/** Block sizes from a seeded generator (1 to maxSize samples), so boundaries fall at every phase of the hop. */
function blockSizes(seed: number, maxSize: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return 1 + (s % maxSize);
  };
}

function encodeInBlocks(model: EncodecModel, x: Planar, bandwidth: number, nextSize: () => number): EncodedAudio {
  const enc = streamingEncoder(model, bandwidth);
  const codes = new CodesCollector();
  for (let at = 0; at < x.length; ) {
    const n = Math.min(nextSize(), x.length - at);
    codes.add(enc.push(sliceTime(x, at, at + n)));
    at += n;
  }
  codes.add(enc.end());
  return codes.result(enc.length, bandwidth);
}

function decodeInBlocks(model: EncodecModel, enc: EncodedAudio, framesPerPiece: number): Planar {
  const dec = streamingDecoder(model, enc.length);
  const parts: Planar[] = [];
  for (const piece of codePieces(model, enc.chunks, framesPerPiece)) parts.push(dec.push(piece));
  parts.push(dec.end());
  const length = parts.reduce((n, p) => n + p.length, 0);
  const data = new Float32Array(model.channels * length);
  let at = 0;
  for (const p of parts) {
    for (let ch = 0; ch < model.channels; ch++) data.set(p.data.subarray(ch * p.length, (ch + 1) * p.length), ch * length + at);
    at += p.length;
  }
  return { data, channels: model.channels, length };
}

function sameBits(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: lengths`);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  const i = ua.findIndex((v, k) => v !== ub[k]);
  assert.equal(i, -1, `${what}: first difference at ${i} (${a[i]} vs ${b[i]})`);
}

async function clip(path: string, model: EncodecModel, seconds: number): Promise<Planar> {
  return prepareAudio(model.config, toPlanarAudio(await loadAudio(path)), seconds);
}

for (const [label, backend] of [
  ['wasm', () => wasmOps()],
  ['js', () => jsOps],
] as [string, () => CodecOps][]) {
  test(`24 kHz causal model (${label}): codes and audio streamed in odd blocks equal the whole-signal pass bit for bit`, async (t) => {
    const dir = sharedPath(t, 'fixtures', 'encodec', 'encodec_24khz_tiny');
    const wav = sharedPath(t, 'data', 'music', 'encodec', 'test_24k.wav');
    if (!dir || !wav) return;
    const model = new EncodecModel(loadEncodecWeights(dir), backend());
    const x = await clip(wav, model, label === 'js' ? 0.4 : 1.5);
    // 17 samples past a whole number of hops: the last frame is partial, so the end-of-signal padding is exercised.
    const y = sliceTime(x, 0, x.length - (x.length % 320) - 303);
    const whole = model.encode(y, 6);
    const sizes: [string, () => number][] = [
      ['one block', () => y.length],
      ['319-sample blocks', () => 319],
      ['4801-sample blocks', () => 4801],
      ['seeded sizes 1..700', blockSizes(7, 700)],
    ];
    for (const [what, next] of sizes) {
      const streamed = encodeInBlocks(model, y, 6, next);
      assert.equal(streamed.chunks.length, 1, what);
      assert.equal(streamed.length, whole.length, what);
      assert.deepEqual(streamed.chunks[0]!.codes, whole.chunks[0]!.codes, `${what}: codes`);
    }
    const audio = model.decode(whole);
    for (const frames of [1, 7, 75, 10_000])
      sameBits(decodeInBlocks(model, whole, frames).data, audio.data, `decoded ${frames} frames at a time`);
  });
}

test('48 kHz segmented stereo model: segments cut from odd blocks, overlap-added as they come, equal the whole signal', async (t) => {
  const dir = sharedPath(t, 'fixtures', 'encodec', 'encodec_48khz_tiny');
  const wav = sharedPath(t, 'data', 'music', 'encodec', 'test_48k.wav');
  if (!dir || !wav) return;
  const model = new EncodecModel(loadEncodecWeights(dir), wasmOps());
  const x = await clip(wav, model, 2.7);
  const whole = model.encode(x, 6);
  const streamed = encodeInBlocks(model, x, 6, blockSizes(3, 9000));
  assert.equal(streamed.chunks.length, whole.chunks.length);
  streamed.chunks.forEach((c, k) => {
    assert.deepEqual(c.codes, whole.chunks[k]!.codes, `segment ${k} codes`);
    assert.equal(c.scale, whole.chunks[k]!.scale, `segment ${k} scale`);
  });
  sameBits(decodeInBlocks(model, whole, 1).data, model.decode(whole).data, 'overlap-added audio');
});

test('a signal shorter than the padding streams like the whole pass, and an empty one is refused', async (t) => {
  const dir = sharedPath(t, 'fixtures', 'encodec', 'encodec_24khz_tiny');
  if (!dir) return;
  const model = new EncodecModel(loadEncodecWeights(dir), wasmOps());
  for (const n of [1, 2, 5, 9]) {
    const x: Planar = { data: Float32Array.from({ length: n }, (_, i) => 0.1 * (i + 1)), channels: 1, length: n };
    const streamed = encodeInBlocks(model, x, 1.5, () => 1);
    assert.deepEqual(streamed.chunks[0]!.codes, model.encode(x, 1.5).chunks[0]!.codes, `${n} samples`);
    sameBits(decodeInBlocks(model, streamed, 1).data, model.decode(streamed).data, `${n} samples decoded`);
  }
  assert.throws(() => streamingEncoder(model, 1.5).end(), /cannot encode an empty signal/);
});

test('files: a WAV read in windows of 999 frames encodes as the loaded file does, grouped windows included', async (t) => {
  const dir = sharedPath(t, 'fixtures', 'encodec', 'encodec_24khz_tiny');
  const wav = sharedPath(t, 'data', 'music', 'encodec', 'test_24k.wav');
  if (!dir || !wav) return;
  const proc = AudioProcessor.load(dir);
  const opts = { bandwidth: 6, maxSeconds: 3.3, groupSeconds: 1 };
  const whole = proc.audioToFeatures(await loadAudio(wav), opts, { path: wav, sha256: 'x' });
  const streamed = await encodeFileStreaming(proc.model, wav, { ...opts, windowFrames: 999 }, 'x');
  assert.deepEqual(streamed.sidecar, whole.sidecar);
  assert.deepEqual(streamed.codes, whole.codes);
});

test('files: streamed encode (small windows, resampled, mixed) equals audioToFeatures; streamed WAV equals encodeWav', async (t) => {
  const dir = sharedPath(t, 'fixtures', 'encodec', 'encodec_24khz_tiny');
  const flac = sharedPath(t, 'data', 'encoded', 'test_48k_stereo.flac');
  if (!dir || !flac) return;
  const proc = AudioProcessor.load(dir);
  const whole = proc.audioToFeatures(await loadAudio(flac), { bandwidth: 3, maxSeconds: 2.03 }, { path: flac });
  const streamed = await encodeFileStreaming(proc.model, flac, { bandwidth: 3, maxSeconds: 2.03, windowFrames: 3001 });
  assert.deepEqual(streamed.sidecar, whole.sidecar);
  assert.deepEqual(streamed.codes, whole.codes);
  const out = mkdtempSync(join(tmpdir(), 'wavelm-codec-stream-'));
  try {
    const audio = proc.featuresToAudio(whole);
    const n = audio.channels[0]!.length;
    const data: AudioData = {
      sampleRate: audio.sampleRate,
      channels: 1,
      frames: n,
      sampleType: 'float32',
      bitsPerSample: 32,
      samples: audio.channels[0]!,
    };
    for (const float of [false, true]) {
      const path = join(out, float ? 'f.wav' : 'i.wav');
      decodeToWavFile(proc.model, streamed, path, { float, framesPerBlock: 13 });
      const expected = encodeWav(float ? data : { ...data, sampleType: 'int16', bitsPerSample: 16, samples: toInt16(data) });
      assert.deepEqual(new Uint8Array(readFileSync(path)), expected, float ? 'float WAV' : '16-bit WAV');
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
