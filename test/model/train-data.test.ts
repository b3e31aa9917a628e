import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav } from '../../src/audio/index.js';
import { loadTrainingData, readManifest, dataFingerprint } from '../../src/model/training/data.js';
import { audioToChunks } from '../../src/tokens/index.js';
import type { Chunker } from '../../src/model/training/data.js';

function tmp(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'wavelm-data-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function wav(path: string, frames: number, value: number): string {
  const s = new Int16Array(frames).fill(value);
  writeFileSync(path, encodeWav({ sampleRate: 8000, channels: 1, frames, sampleType: 'int16', bitsPerSample: 16, samples: s }));
  return path;
}

const chunker: Chunker = (audio, s) =>
  audioToChunks(audio, { bitDepth: s.bitDepth, conversion: 'exact', blockingSize: s.blockingSize, chunkSizeBytes: s.chunkSizeBytes });
const settings = { bitDepth: 8 as const, conversion: 'exact', blockingSize: 1024, chunkSizeBytes: 100 };

test('manifest: splits, root header, paths beside the manifest, clear errors', (t) => {
  const d = tmp(t);
  mkdirSync(join(d, 'audio'));
  wav(join(d, 'audio', 'a.wav'), 10, 0);
  wav(join(d, 'audio', 'b.wav'), 10, 0);
  const m = join(d, 'm.jsonl');
  writeFileSync(
    m,
    `${[
      { path: 'audio/a.wav', split: 'train' },
      { path: join(d, 'audio', 'b.wav'), split: 'valid' },
    ]
      .map((x) => JSON.stringify(x))
      .join('\n')}\n`,
  );
  assert.deepEqual(readManifest(m), { train: [join(d, 'audio', 'a.wav')], valid: [join(d, 'audio', 'b.wav')], test: [] });
  writeFileSync(m, `{"root": "audio"}\n{"path": "a.wav", "split": "train"}\n`);
  assert.deepEqual(readManifest(m).train, [join(d, 'audio', 'a.wav')]);
  writeFileSync(m, `{"path": "nowhere.wav", "split": "train"}\n`);
  assert.throws(() => readManifest(m), /nowhere\.wav/);
  writeFileSync(m, `{"path": "audio/a.wav", "split": "training"}\n`);
  assert.throws(() => readManifest(m), /m\.jsonl:1: split must be/);
  writeFileSync(m, `{"path": "audio/a.wav", "split": "valid"}\n`);
  assert.throws(() => readManifest(m), /no train files/);
});

test('files: seeded file-level hold-out, chunk hold-out for a single file, unreadable files skipped', async (t) => {
  const d = tmp(t);
  for (let i = 0; i < 30; i++) wav(join(d, `f${String(i).padStart(2, '0')}.wav`), 1000, i * 100);
  writeFileSync(join(d, 'broken.wav'), 'RIFF....WAVEnot really');
  const a = await loadTrainingData({ files: [d], validFraction: 0.2, seed: 1, settings, chunker });
  const b = await loadTrainingData({ files: [d], validFraction: 0.2, seed: 1, settings, chunker });
  const c = await loadTrainingData({ files: [d], validFraction: 0.2, seed: 2, settings, chunker });
  assert.equal(a.validSource, 'file-holdout');
  assert.deepEqual(a.validFiles, b.validFiles);
  assert.notDeepEqual(a.validFiles, c.validFiles);
  assert.ok(a.validFiles.length > 0 && a.validFiles.length < 15, `${a.validFiles.length} valid files`);
  assert.equal(a.trainFiles.length + a.validFiles.length, 31);
  assert.equal(a.skipped.length, 1);
  assert.match(a.skipped[0]!.path, /broken\.wav/);
  assert.equal(a.train.numChunks + a.valid.numChunks, 30 * 10);
  assert.equal(dataFingerprint(a.train, a.valid), dataFingerprint(b.train, b.valid));
  const single = await loadTrainingData({ files: [join(d, 'f03.wav')], validFraction: 0.1, seed: 1, settings, chunker });
  assert.equal(single.validSource, 'chunk-holdout');
  assert.equal(single.valid.numChunks, 1); // chunks 0..9, every 10th held out
  assert.equal(single.train.numChunks, 9);
  // Messages name the options (the CLI labels them with its flags).
  await assert.rejects(
    loadTrainingData({ validFraction: 0.1, seed: 1, settings, chunker }),
    /no training audio: give files \(audio files or directories\) or manifest/,
  );
  const flagged = { validFraction: 0.1, seed: 1, settings, chunker, label: (o: string) => `--${o}` };
  await assert.rejects(
    loadTrainingData({ ...flagged, files: [d], manifest: join(d, 'm.json') }),
    /^ConfigError: give either --files or --manifest, not both$/,
  );
});
