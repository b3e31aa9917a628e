import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  adaptChannels,
  AudioProcessor,
  CodesCache,
  ENCODEC_24KHZ,
  EncodecModel,
  groupFrames,
  jsOps,
  randomTensors,
  ungroupFrames,
  weightsFromTensors,
  type EncodecConfig,
} from '../../src/codec/index.js';
import { readEncodecConfig } from '../../src/codec/config.js';
import { groupFeatures } from '../../src/codec/processor.js';
import { ConfigError, NotFoundError } from '../../src/util/errors.js';

const tiny: EncodecConfig = { ...ENCODEC_24KHZ, numFilters: 4, hiddenSize: 16, codebookDim: 16, codebookSize: 64 };

test('channel adaptation follows encodec convert_audio: mean to mono, duplicate to stereo, keep the first channels', () => {
  const a = Float32Array.from([1, 2, 3]);
  const b = Float32Array.from([3, 4, 5]);
  assert.deepEqual(Array.from(adaptChannels([a, b], 1)[0]!), [2, 3, 4]);
  const st = adaptChannels([a], 2);
  assert.equal(st.length, 2);
  assert.deepEqual(Array.from(st[1]!), [1, 2, 3]);
  assert.equal(adaptChannels([a, b, a], 2).length, 2);
});

test('grouping into windows pads the last window with -1 and ungroups exactly', () => {
  const codes = Int32Array.from({ length: 2 * 7 }, (_, i) => i);
  const g = groupFrames(codes, 2, 7, 3);
  assert.equal(g.windows, 3);
  assert.deepEqual(Array.from(g.data.subarray(0, 6)), [0, 1, 2, 7, 8, 9]);
  assert.deepEqual(Array.from(g.data.subarray(12)), [6, -1, -1, 13, -1, -1]);
  assert.deepEqual(Array.from(ungroupFrames(g.data, 3, 2, 3, 7)), Array.from(codes));
});

test('AudioProcessor: resampled, channel-adapted input; features round-trip to the input length; cache keys and damaged entries', () => {
  const proc = new AudioProcessor(new EncodecModel(weightsFromTensors(tiny, randomTensors(tiny, 3)), jsOps));
  const n = 16000;
  const ch = Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin(i * 0.05));
  const f = proc.audioToFeatures({ sampleRate: 16000, channels: [ch, ch] }, { bandwidth: 1.5, maxSeconds: 0.5, groupSeconds: 0.2 });
  assert.equal(f.sidecar.length, 12000); // 0.5 s at 24 kHz
  assert.equal(f.sidecar.frames, 38);
  // 64-entry codebooks carry 6 bits, so 1.5 kbps at 75 frames/s buys floor(1500 / 450) = 3 codebooks
  assert.deepEqual(f.sidecar.shape, [3, 3, 15]);
  assert.equal(f.sidecar.source.channels, 2);
  const back = proc.featuresToAudio(f);
  assert.equal(back.sampleRate, 24000);
  assert.equal(back.channels.length, 1);
  assert.equal(back.channels[0]!.length, 12000);
  // The library names its options (the CLI shows them as --max-seconds, --group-seconds).
  assert.throws(
    () => proc.audioToFeatures({ sampleRate: 16000, channels: [ch] }, { bandwidth: 1.5, maxSeconds: -1 }),
    (e: unknown) => e instanceof ConfigError && e.message === 'maxSeconds must be positive, got -1' && e.options?.join() === 'maxSeconds',
  );
  const ungrouped = proc.audioToFeatures({ sampleRate: 16000, channels: [ch] }, { bandwidth: 1.5, maxSeconds: 0.1 });
  assert.throws(
    () => groupFeatures(ungrouped, 0.001),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.message === 'groupSeconds must give at least one frame per window (frame rate 75/s), got 0.001' &&
      e.options?.join() === 'groupSeconds',
  );

  const dir = mkdtempSync(join(tmpdir(), 'wavelm-cache-'));
  try {
    const cache = new CodesCache(dir);
    const k1 = cache.key('a'.repeat(64), 'm', 1.5);
    assert.notEqual(k1, cache.key('a'.repeat(64), 'm', 3));
    assert.notEqual(k1, cache.key('a'.repeat(64), 'm', 1.5, 10));
    const flat = proc.audioToFeatures({ sampleRate: 24000, channels: [ch] }, { bandwidth: 1.5 });
    cache.put(k1, flat);
    assert.deepEqual(Array.from(cache.get(k1)!.codes), Array.from(flat.codes));
    // A damaged entry reads as a miss (and is recomputed by the caller).
    writeFileSync(join(dir, 'codec', k1.slice(0, 2), `${k1}.npy`), 'garbage');
    assert.equal(cache.get(k1), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a model folder without config.json is a NotFoundError naming the option model, not a flag', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wavelm-nomodel-'));
  try {
    const path = join(dir, 'config.json');
    assert.throws(
      () => readEncodecConfig(path),
      (e: unknown) =>
        e instanceof NotFoundError &&
        e.message === `${path}: cannot read the EnCodec config (give model the folder holding config.json and model.safetensors)` &&
        e.options?.join() === 'model',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
