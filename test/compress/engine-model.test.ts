/** The archive path with the engine's real KV-cache transformer, loaded from a checkpoint file. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressAudio, decompressAudio, readArchiveInfo } from '../../src/compress/archive.js';
import { loadCompressionModel } from '../../src/compress/model.js';
import { createAudioTransformerConfig, initParams } from '../../src/model/transformer.js';
import { writeSafetensors } from '../../src/util/safetensors.js';
import { WavelmError } from '../../src/util/errors.js';

function writeModel(dir: string, name: string, seed: number, bitDepth: 8 | 16 = 8): string {
  const config = createAudioTransformerConfig({ bitDepth, embeddingDim: 16, numLayers: 1, numHeads: 2, wideningFactor: 2 });
  const params = initParams(config, seed);
  const path = join(dir, name);
  writeSafetensors(path, Object.fromEntries(Object.entries(params).map(([k, t]) => [k, { shape: t.shape, data: t.data }])), {
    config: JSON.stringify(config),
    step: String(seed),
  });
  return path;
}

function wav16(frames: number, channels: number): Uint8Array {
  const out = new Uint8Array(44 + frames * channels * 2);
  const dv = new DataView(out.buffer);
  const ascii = (o: number, s: string): void => {
    for (let i = 0; i < s.length; i++) out[o + i] = s.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  dv.setUint32(4, out.length - 8, true);
  ascii(8, 'WAVEfmt ');
  dv.setUint32(16, 16, true);
  dv.setUint16(20, 1, true);
  dv.setUint16(22, channels, true);
  dv.setUint32(24, 8000, true);
  dv.setUint32(28, 8000 * channels * 2, true);
  dv.setUint16(32, channels * 2, true);
  dv.setUint16(34, 16, true);
  ascii(36, 'data');
  dv.setUint32(40, frames * channels * 2, true);
  for (let i = 0; i < frames * channels; i++) dv.setInt16(44 + 2 * i, Math.round(9000 * Math.sin(i / 13) + 50 * Math.sin(i * 1.7)), true);
  return out;
}

test('engine predictor from a checkpoint: 16-bit stereo through the 8-bit model, 1 and 2 workers, wrong model refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wavelm-compress-'));
  try {
    const a = loadCompressionModel(writeModel(dir, 'a.safetensors', 1));
    const b = loadCompressionModel(writeModel(dir, 'b.safetensors', 2));
    const input = wav16(700, 2);
    const one = await compressAudio(input, a, { chunkLength: 128, workers: 1 });
    const two = await compressAudio(input, a, { chunkLength: 128, workers: 2 });
    assert.deepEqual(two.archive, one.archive);
    assert.equal(readArchiveInfo(one.archive).settings.mode, 'hi8lo');
    assert.ok(
      one.stats.payloadBytes < one.stats.idealLmBytes * 1.01 + 8 * one.stats.chunks + one.stats.codedSamples,
      'payload near the ideal LM length plus low bytes',
    );
    assert.deepEqual(await decompressAudio(one.archive, a, { workers: 2 }), input);
    await assert.rejects(decompressAudio(one.archive, b), (e: unknown) => e instanceof WavelmError && e.code === 'EMISMATCH');
    // Re-saving the same weights with other metadata keeps the archive decodable.
    const a2 = loadCompressionModel(writeModel(dir, 'a-again.safetensors', 1));
    assert.deepEqual(await decompressAudio(one.archive, a2), input);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('engine predictor, 16-bit model: 16-bit audio round-trips as 65,536-symbol tokens', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wavelm-compress16-'));
  try {
    const m = loadCompressionModel(writeModel(dir, 'm16.safetensors', 3, 16));
    assert.equal(m.vocabSize, 65536);
    const input = wav16(300, 1);
    const { archive } = await compressAudio(input, m, { chunkLength: 128, workers: 2 });
    assert.equal(readArchiveInfo(archive).settings.mode, 'u16');
    assert.deepEqual(await decompressAudio(archive, m), input);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
