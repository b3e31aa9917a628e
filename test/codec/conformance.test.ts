import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSafetensors, toFloat64, type Tensor } from '../../src/util/safetensors.js';
import { EncodecModel, jsOps, loadEncodecWeights, type CodecOps } from '../../src/codec/index.js';
import { wasmOps } from '../../src/codec/ops-wasm.js';
import { sharedPath } from '../helpers/shared.js';

/** Decoded audio must match the PyTorch reference within this absolute float32 tolerance (observed: < 1e-6). */
const DECODE_TOL = 1e-5;
/** Encoder embeddings (magnitudes up to ~5) within this absolute tolerance (observed: < 6e-6). */
const EMBED_TOL = 1e-4;

function io(dir: string): Map<string, Tensor> {
  return parseSafetensors(new Uint8Array(readFileSync(join(dir, 'io.safetensors'))), 'io.safetensors').tensors;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const backends: [string, () => CodecOps][] = [
  ['wasm', () => wasmOps()],
  ['js', () => jsOps],
];

for (const [backend, makeOps] of backends) {
  test(`24 kHz tiny model (${backend}): embeddings, codes at 1.5 and 6 kbps exactly, quantized and decoded audio`, (t) => {
    const dir = sharedPath(t, 'fixtures', 'encodec', 'encodec_24khz_tiny');
    if (!dir) return;
    const ref = io(dir);
    const model = new EncodecModel(loadEncodecWeights(dir), makeOps());
    const inp = ref.get('input_f32')!;
    const x = { data: inp.data as Float32Array, channels: 1, length: 48000 };
    const emb = model.embed(x);
    assert.equal(emb.length, 150);
    assert.ok(maxAbsDiff(emb.data, ref.get('encoder_output')!.data as Float32Array) < EMBED_TOL);
    for (const bw of [1.5, 6]) {
      const key = `bw${bw.toFixed(1)}`;
      const enc = model.encode(x, bw);
      assert.equal(enc.chunks.length, 1);
      const c = enc.chunks[0]!;
      assert.equal(c.scale, null);
      const want = ref.get(`${key}.codes`)!;
      assert.deepEqual([1, c.codebooks, c.frames], want.shape);
      assert.deepEqual(Array.from(c.codes), Array.from(toFloat64(want)), `${key} codes`);
      const q = model.dequantize(c.codes, c.codebooks, c.frames);
      assert.ok(maxAbsDiff(q.data, ref.get(`${key}.quantized`)!.data as Float32Array) < 1e-6);
      const dec = model.decode(enc);
      assert.equal(dec.length, 48000);
      const d = maxAbsDiff(dec.data, ref.get(`${key}.decoded`)!.data as Float32Array);
      assert.ok(d < DECODE_TOL, `${key} decoded max abs diff ${d}`);
    }
  });

  test(`48 kHz tiny stereo model (${backend}): 1 s segments, scales, codes at 3 and 12 kbps exactly, overlap-added audio`, (t) => {
    const dir = sharedPath(t, 'fixtures', 'encodec', 'encodec_48khz_tiny');
    if (!dir) return;
    const ref = io(dir);
    const model = new EncodecModel(loadEncodecWeights(dir), makeOps());
    const inp = ref.get('input_f32')!;
    const x = { data: inp.data as Float32Array, channels: 2, length: 120000 };
    assert.deepEqual(model.segments(120000), [
      { offset: 0, length: 48000 },
      { offset: 47520, length: 48000 },
      { offset: 95040, length: 24960 },
    ]);
    for (const bw of [3, 12]) {
      const key = `bw${bw.toFixed(1)}`;
      const enc = model.encode(x, bw);
      assert.equal(enc.chunks.length, 3);
      enc.chunks.forEach((c, k) => {
        const want = ref.get(`${key}.chunk${k}.codes`)!;
        assert.deepEqual([1, c.codebooks, c.frames], want.shape);
        assert.deepEqual(Array.from(c.codes), Array.from(toFloat64(want)), `${key} chunk ${k} codes`);
        const s = (ref.get(`${key}.chunk${k}.scale`)!.data as Float32Array)[0]!;
        assert.ok(Math.abs(c.scale! - s) <= 1e-6 * s, `scale ${c.scale} vs ${s}`);
      });
      const dec = model.decode(enc);
      assert.equal(dec.length, 120000);
      const d = maxAbsDiff(dec.data, ref.get(`${key}.decoded`)!.data as Float32Array);
      assert.ok(d < DECODE_TOL, `${key} decoded max abs diff ${d}`);
    }
  });
}
