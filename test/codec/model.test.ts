import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Tensor } from '../../src/util/safetensors.js';
import {
  codebooksForBandwidth,
  ENCODEC_24KHZ,
  ENCODEC_48KHZ,
  EncodecModel,
  expectedTensors,
  frameRate,
  jsOps,
  numQuantizers,
  parseEncodecConfig,
  randomTensors,
  weightsFromTensors,
  type EncodecConfig,
} from '../../src/codec/index.js';
import { wasmOps } from '../../src/codec/ops-wasm.js';

// Small models of both kinds (real structure, narrow widths) with deterministic random weights.
const tiny24: EncodecConfig = { ...ENCODEC_24KHZ, numFilters: 4, hiddenSize: 16, codebookDim: 16, codebookSize: 64 };
const tiny48: EncodecConfig = { ...ENCODEC_48KHZ, numFilters: 4, hiddenSize: 16, codebookDim: 16, codebookSize: 64 };

function signal(n: number, channels: number): Float32Array {
  const x = new Float32Array(n * channels);
  for (let i = 0; i < x.length; i++) x[i] = 0.4 * Math.sin(i * 0.013) + 0.2 * Math.sin(i * 0.21 + (i % 7));
  return x;
}

test('bandwidth selects 2/4/8/16/32 codebooks at 24 kHz and 2/4/8/16 at 48 kHz; others are rejected', () => {
  assert.deepEqual(
    [1.5, 3, 6, 12, 24].map((b) => codebooksForBandwidth(ENCODEC_24KHZ, b)),
    [2, 4, 8, 16, 32],
  );
  assert.deepEqual(
    [3, 6, 12, 24].map((b) => codebooksForBandwidth(ENCODEC_48KHZ, b)),
    [2, 4, 8, 16],
  );
  assert.equal(numQuantizers(ENCODEC_24KHZ), 32);
  assert.equal(numQuantizers(ENCODEC_48KHZ), 16);
  assert.equal(frameRate(ENCODEC_24KHZ), 75);
  assert.equal(frameRate(ENCODEC_48KHZ), 150);
  assert.throws(() => codebooksForBandwidth(ENCODEC_24KHZ, 7), /not one of this model's target bandwidths \(1.5, 3, 6, 12, 24\)/);
});

test('the loader names a missing tensor, and a mismatched one with expected and found shapes', () => {
  const t = randomTensors(tiny24, 1);
  t.delete('encoder.layers.13.lstm.weight_hh_l1');
  assert.throws(() => weightsFromTensors(tiny24, t, 'model.safetensors'), /missing tensors encoder\.layers\.13\.lstm\.weight_hh_l1/);
  const u = randomTensors(tiny24, 1);
  u.set('decoder.layers.3.conv.weight_v', { dtype: 'F32', shape: [64, 32, 15], data: new Float32Array(64 * 32 * 15) } as Tensor);
  assert.throws(
    () => weightsFromTensors(tiny24, u, 'model.safetensors'),
    /decoder\.layers\.3\.conv\.weight_v has shape \[64, 32, 15\], expected \[64, 32, 16\]/,
  );
  // Newer transformers' parametrization names are accepted as weight_g / weight_v.
  const v = randomTensors(tiny24, 1);
  const g = v.get('encoder.layers.0.conv.weight_g')!;
  v.delete('encoder.layers.0.conv.weight_g');
  v.set('encoder.layers.0.conv.parametrizations.weight.original0', g);
  assert.doesNotThrow(() => weightsFromTensors(tiny24, v));
});

test('HF config parsing: fixture-style fields, defaults, and clear errors', () => {
  const c = parseEncodecConfig({
    sampling_rate: 48000,
    audio_channels: 2,
    norm_type: 'time_group_norm',
    chunk_length_s: 1.0,
    overlap: 0.01,
    target_bandwidths: [3, 6, 12, 24],
    normalize: true,
    use_causal_conv: false,
  });
  assert.equal(c.samplingRate, 48000);
  assert.equal(c.chunkLengthS, 1);
  assert.equal(c.codebookDim, 128);
  assert.throws(() => parseEncodecConfig({ norm_type: 'batch_norm' }, 'cfg.json'), /cfg\.json: field "norm_type"/);
  assert.ok(expectedTensors(ENCODEC_48KHZ).has('decoder.layers.3.norm.weight'));
});

for (const [name, cfg] of [
  ['24 kHz causal', tiny24],
  ['48 kHz non-causal stereo', tiny48],
] as const) {
  const model = new EncodecModel(weightsFromTensors(cfg, randomTensors(cfg, 5)), wasmOps());
  const ref = new EncodecModel(weightsFromTensors(cfg, randomTensors(cfg, 5)), jsOps);
  const hop = model.hopLength;
  const C = cfg.audioChannels;
  test(`${name}: odd lengths give ceil(length / hop) frames per segment, decode back to the input length, wasm = js codes`, () => {
    const lengths = [1, 5, hop - 1, hop, hop + 1, 3 * hop + 17];
    if (cfg.chunkLengthS) lengths.push(47520 * 2, 47520 * 2 + 480, 47520 + 1);
    for (const n of lengths) {
      const x = { data: signal(n, C), channels: C, length: n };
      const enc = model.encode(x, cfg.targetBandwidths[1]!);
      const segs = model.segments(n);
      assert.equal(enc.chunks.length, segs.length);
      enc.chunks.forEach((c, k) => {
        assert.equal(c.frames, Math.ceil(segs[k]!.length / hop), `length ${n} chunk ${k}`);
      });
      if (n < 4000)
        assert.deepEqual(
          Array.from(ref.encode(x, cfg.targetBandwidths[1]!).chunks[0]!.codes),
          Array.from(enc.chunks[0]!.codes),
          `length ${n}`,
        );
      const dec = model.decode(enc);
      assert.equal(dec.length, n);
      assert.equal(dec.channels, C);
      assert.ok(dec.data.every(Number.isFinite));
    }
  });
}

test('48 kHz: an input of exactly k strides is cut into k segments, the last one stride long', () => {
  const model = new EncodecModel(weightsFromTensors(tiny48, randomTensors(tiny48, 2)), wasmOps());
  assert.deepEqual(model.segments(47520 * 2), [
    { offset: 0, length: 48000 },
    { offset: 47520, length: 47520 },
  ]);
  assert.deepEqual(model.segments(48000), [
    { offset: 0, length: 48000 },
    { offset: 47520, length: 480 },
  ]);
  assert.deepEqual(model.segments(47520), [{ offset: 0, length: 47520 }]);
});

test('codes out of range and channel mismatches are reported', () => {
  const model = new EncodecModel(weightsFromTensors(tiny24, randomTensors(tiny24, 2)), jsOps);
  assert.throws(
    () => model.decode({ chunks: [{ codes: new Int32Array([0, 64]), codebooks: 2, frames: 1, scale: null }] }),
    /code 64 at codebook 1/,
  );
  assert.throws(() => model.encode({ data: new Float32Array(20), channels: 2, length: 10 }, 1.5), /takes 1 channel/);
});
