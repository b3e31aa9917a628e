import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EncodecModel,
  ENCODEC_48KHZ,
  ParallelEncodec,
  randomTensors,
  wasmOps,
  weightsFromTensors,
  type EncodecConfig,
} from '../../src/codec/index.js';
import { loadEncodecWeights } from '../../src/codec/weights.js';
import { sharedPath } from '../helpers/shared.js';

function signal(n: number, channels: number): Float32Array {
  const x = new Float32Array(n * channels);
  for (let i = 0; i < x.length; i++) x[i] = 0.4 * Math.sin(i * 0.011) + 0.1 * Math.sin(i * 0.37 + (i % 5));
  return x;
}

test('48 kHz segments spread over 2 workers: codes, scales and decoded audio identical to one thread', async (t) => {
  const dir = sharedPath(t, 'fixtures', 'encodec', 'encodec_48khz_tiny');
  if (!dir) return;
  const single = new EncodecModel(loadEncodecWeights(dir), wasmOps());
  const par = await ParallelEncodec.create({ modelDir: dir }, 2);
  try {
    const n = 47520 * 3 + 1000;
    const x = { data: signal(n, 2), channels: 2, length: n };
    const a = single.encode(x, 6);
    const b = await par.encode(x, 6);
    assert.equal(b.chunks.length, 4);
    b.chunks.forEach((c, k) => {
      assert.deepEqual(Array.from(c.codes), Array.from(a.chunks[k]!.codes));
      assert.equal(c.scale, a.chunks[k]!.scale);
    });
    const da = single.decode(a);
    const db = await par.decode(b);
    assert.equal(db.length, n);
    assert.deepEqual(Array.from(db.data), Array.from(da.data));
  } finally {
    await par.close();
  }
});

test('random-weight sources build the same model in workers as in this thread', async () => {
  const cfg: EncodecConfig = { ...ENCODEC_48KHZ, numFilters: 4, hiddenSize: 16, codebookDim: 16, codebookSize: 64 };
  const single = new EncodecModel(weightsFromTensors(cfg, randomTensors(cfg, 9)), wasmOps());
  const par = await ParallelEncodec.create({ random: { config: cfg, seed: 9 } }, 2);
  try {
    const x = { data: signal(60000, 2), channels: 2, length: 60000 };
    const a = single.encode(x, 3);
    const b = await par.encode(x, 3);
    assert.deepEqual(
      b.chunks.map((c) => Array.from(c.codes)),
      a.chunks.map((c) => Array.from(c.codes)),
    );
  } finally {
    await par.close();
  }
});
