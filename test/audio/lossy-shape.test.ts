/**
 * Channel count and length of lossy files against ffmpeg's decode of the same file: mono MP3 is one
 * channel (the decoder returns two copies), and Opus is cut at its last granule position minus its
 * pre-skip (RFC 7845 section 4.4). The test files are encoded here with ffmpeg from ../shared WAVs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test, type TestContext } from 'node:test';
import { decodeStream, FileSource, loadAudio, readAudioInfo, type CompressedFormat } from '../../src/audio/index.js';
import { createField } from '../../src/dataset/fields/index.js';
import { customAudioBatches } from '../../src/tokens/index.js';
import { sharedPath } from '../helpers/shared.js';

const tmp = mkdtempSync(join(tmpdir(), 'wavelm-lossy-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;

/** Runs ffmpeg, or marks the test skipped when it is not installed. */
function ffmpeg(t: TestContext, args: string[]): Buffer | undefined {
  if (!hasFfmpeg) {
    t.skip('ffmpeg is not installed (apt-get install ffmpeg); it makes and checks this test file');
    return undefined;
  }
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', ...args], { maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout;
}

/** Encodes the first `seconds` of a WAV with ffmpeg; the path, or undefined when skipped. */
function encode(t: TestContext, wav: string, seconds: number, channels: number, codec: string[], out: string): string | undefined {
  const path = join(tmp, out);
  return ffmpeg(t, ['-i', wav, '-t', String(seconds), '-ac', String(channels), ...codec, path]) ? path : undefined;
}

/** Frames in ffmpeg's decode of a file, at the file's rate and channel count. */
function ffmpegFrames(t: TestContext, path: string, channels: number): number {
  return ffmpeg(t, ['-i', path, '-f', 's16le', '-'])!.length / (2 * channels);
}

async function streamedFrames(path: string, format: CompressedFormat): Promise<{ frames: number; channels: number }> {
  const src = new FileSource(path);
  let frames = 0;
  let channels = 0;
  try {
    for await (const a of decodeStream(src, format, 4096)) {
      frames += a.frames;
      channels = a.channels;
    }
  } finally {
    src.close();
  }
  return { frames, channels };
}

test('mono MP3 is one channel everywhere: info, whole-file and streaming decodes, chunks', async (t) => {
  const wav = sharedPath(t, 'data', 'music', 'encodec', 'test_24k.wav');
  if (!wav) return;
  const mp3 = encode(t, wav, 2.3, 1, ['-c:a', 'libmp3lame', '-b:a', '64k'], 'mono.mp3');
  if (!mp3) return;
  const want = ffmpegFrames(t, mp3, 1);
  assert.equal((await readAudioInfo(mp3)).channels, 1);
  const a = await loadAudio(mp3);
  assert.deepEqual([a.channels, a.frames, a.samples.length], [1, want, want]);
  assert.deepEqual(await streamedFrames(mp3, 'mp3'), { frames: want, channels: 1 });
  // 16-bit chunks of 2 bytes: one chunk per frame, not two.
  let chunks = 0;
  for await (const b of customAudioBatches([mp3], { bitDepth: 16, chunkSizeBytes: 2 })) chunks += b.length;
  assert.equal(chunks, want);
  // The dataset's mp3 field stores the file as it is and decodes it to the same one channel.
  const field = createField('m', 'mp3');
  const enc = await field.encode({ key: 'mono', audio: a, fileBytes: readFileSync(mp3), values: {} });
  assert.deepEqual(enc.meta, [want, 1, 24000]);
  const d = await field.decode(enc.bytes, enc.meta!);
  assert.ok(d.kind === 'array');
  assert.deepEqual(d.shape, [1, want]);
});

test('stereo MP3 stays two channels', async (t) => {
  const mp3 = sharedPath(t, 'data', 'encoded', 'test_48k_stereo.mp3');
  if (!mp3) return;
  assert.equal((await loadAudio(mp3)).channels, 2);
  assert.equal((await streamedFrames(mp3, 'mp3')).channels, 2);
});

test('Ogg Opus ends at its last granule position minus pre-skip, mono and stereo, like ffmpeg', async (t) => {
  const wav = sharedPath(t, 'data', 'music', 'encodec', 'test_24k.wav');
  if (!wav) return;
  // Lengths that end mid-packet (20 ms = 960 samples at 48 kHz), in one Ogg page and in several.
  for (const seconds of [0.5053, 0.3127, 2.7109]) {
    for (const channels of [1, 2]) {
      const opus = encode(t, wav, seconds, channels, ['-c:a', 'libopus', '-b:a', '48k'], `${channels}ch-${seconds}.opus`);
      if (!opus) return;
      const want = ffmpegFrames(t, opus, channels);
      const what = `${channels} ch, ${seconds} s`;
      const a = await loadAudio(opus);
      assert.deepEqual([a.channels, a.frames], [channels, want], what);
      assert.equal((await readAudioInfo(opus)).frames, want, what);
      assert.deepEqual(await streamedFrames(opus, 'ogg-opus'), { frames: want, channels }, what);
    }
  }
});
