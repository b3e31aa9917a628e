import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inflateSync } from 'node:zlib';
import { toFloat32Channels, type AudioData } from '../../src/audio/index.js';
import { defaultMelSettings, extractFeature, monoSignal, overrideMelSettings, resample, spectrogramPng } from '../../src/features/index.js';
import { ConfigError } from '../../src/util/errors.js';

function stereo(frames: number, sampleRate = 16000): AudioData {
  const samples = new Int16Array(frames * 2);
  for (let i = 0; i < frames; i++) {
    samples[2 * i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / sampleRate));
    samples[2 * i + 1] = Math.round(6000 * Math.sin((2 * Math.PI * 1250 * i) / sampleRate));
  }
  return { sampleRate, channels: 2, frames, sampleType: 'int16', bitsPerSample: 16, samples };
}

test('monoSignal averages the channels or picks one, and resamples when asked', () => {
  const audio = stereo(4000);
  const [left, right] = toFloat32Channels(audio);
  const mean = monoSignal(audio);
  assert.equal(mean.sampleRate, 16000);
  assert.equal(mean.samples[100], Math.fround((left![100]! + right![100]!) / 2));
  assert.deepEqual(monoSignal(audio, { channel: 1 }).samples, right);
  const at8k = monoSignal(audio, { channel: 0, sampleRate: 8000 });
  assert.equal(at8k.sampleRate, 8000);
  assert.deepEqual(at8k.samples, resample(left!, 16000, 8000));
  assert.throws(
    () => monoSignal(audio, { channel: 2 }),
    (e: unknown) => e instanceof ConfigError && e.subject === 'channel' && /2 channel\(s\)/.test(e.message),
  );
});

test('extractFeature: mel with dB keeps the reference power in its settings; the image has one pixel per value', () => {
  const y = monoSignal(stereo(8000)).samples;
  const f = extractFeature(y, { kind: 'mel', sr: 16000, nFft: 512, nMels: 40, db: true, ref: 'max' });
  assert.equal(f.scale, 'db');
  assert.equal(f.matrix.shape[0], 40);
  assert.equal(f.melSettings?.scale, 'db');
  assert.ok(f.melSettings!.ref > 0 && f.melSettings!.ref !== 1, `the peak power, got ${f.melSettings!.ref}`);
  assert.equal(f.melSettings?.hopLength, 128);
  assert.equal(Math.max(...f.matrix.data), 0, 'ref max puts the peak at 0 dB');
  assert.equal(extractFeature(y, { kind: 'stft', sr: 16000, nFft: 512 }).scale, 'magnitude');
  assert.equal(extractFeature(y, { kind: 'mfcc', sr: 16000, nFft: 512, nMfcc: 13 }).matrix.shape[0], 13);
  const view = Buffer.from(spectrogramPng(f.matrix, { scale: f.scale }));
  const [rows, cols] = f.matrix.shape;
  assert.equal(view.subarray(1, 4).toString('latin1'), 'PNG');
  assert.equal(view.readUInt32BE(16), cols);
  assert.equal(view.readUInt32BE(20), rows);
  assert.equal(inflateSync(view.subarray(41, 41 + view.readUInt32BE(33))).length, rows * (cols * 3 + 1));
  assert.throws(() => spectrogramPng({ data: new Float32Array(0), shape: [0, 5] }, { scale: 'db' }), /0x5, nothing to draw/);
});

test('overrideMelSettings: n_fft brings window and hop with it; dB needs a positive reference; fmax stays below Nyquist', () => {
  const base = defaultMelSettings(22050, 64);
  const s = overrideMelSettings(base, { sampleRate: 8000, nFft: 400, db: true, ref: 2 });
  assert.deepEqual([s.sampleRate, s.nFft, s.winLength, s.hopLength, s.scale, s.ref, s.fmax], [8000, 400, 400, 100, 'db', 2, 4000]);
  assert.equal(base.sampleRate, 22050, 'the input settings are left as they were');
  assert.equal(overrideMelSettings(base, { hopLength: 300, nFft: 400 }).hopLength, 300);
  assert.throws(
    () => overrideMelSettings({ ...base, ref: 0 }, { db: true }),
    (e: unknown) => e instanceof ConfigError && e.subject === 'ref',
  );
});
