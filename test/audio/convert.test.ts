import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromFloat32Channels, interleave, mixToMono, toFloat32, toFloat32Channels, type AudioData } from '../../src/audio/index.js';

function int16Audio(channels: number, frames: number): AudioData {
  const samples = Int16Array.from({ length: channels * frames }, (_, i) => ((i * 7919) % 65536) - 32768);
  return { sampleRate: 8000, channels, frames, sampleType: 'int16', bitsPerSample: 16, samples };
}

test('interleave undoes toFloat32Channels, and toFloat32Channels undoes fromFloat32Channels', () => {
  for (const channels of [1, 2, 3, 6]) {
    const audio = int16Audio(channels, 257);
    const planar = toFloat32Channels(audio);
    assert.deepEqual(interleave(planar), toFloat32(audio), `${channels} channel(s)`);
    const again = fromFloat32Channels(planar, audio.sampleRate);
    assert.equal(again.frames, 257);
    assert.equal(again.channels, channels);
    assert.equal(again.sampleType, 'float32');
    assert.deepEqual(toFloat32Channels(again), planar);
  }
});

test('interleave puts frame i of channel c at i * channels + c and takes only the frames asked for', () => {
  const left = Float32Array.from([1, 2, 3, 4]);
  const right = Float32Array.from([-1, -2, -3, -4]);
  assert.deepEqual(interleave([left, right]), Float32Array.from([1, -1, 2, -2, 3, -3, 4, -4]));
  assert.deepEqual(interleave([left, right], 2), Float32Array.from([1, -1, 2, -2]));
  const mono = interleave([left], 3);
  assert.deepEqual(mono, Float32Array.from([1, 2, 3]));
  mono[0] = 9;
  assert.equal(left[0], 1, 'the result shares no memory with the input');
  assert.deepEqual(interleave([]), new Float32Array(0));
});

test('mixToMono averages the channels and passes one channel through', () => {
  const a = Float32Array.from([1, 0.5, -1]);
  const b = Float32Array.from([0, 0.25, 1]);
  const c = Float32Array.from([0.5, 0, 0.3]);
  assert.deepEqual(mixToMono([a, b]), Float32Array.from([0.5, 0.375, 0]));
  assert.deepEqual(mixToMono([a, b, c]), Float32Array.from([(1 + 0 + 0.5) / 3, 0.75 / 3, (-1 + 1 + Math.fround(0.3)) / 3]));
  assert.equal(mixToMono([a]), a);
});
