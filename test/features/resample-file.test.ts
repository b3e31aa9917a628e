import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { encodeWav, loadAudio, toFloat32Channels, type AudioData } from '../../src/audio/index.js';
import { resample, resampleFile } from '../../src/features/index.js';
import type { ProgressSink } from '../../src/util/progress.js';

const dir = mkdtempSync(join(tmpdir(), 'wavelm-resample-file-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function stereo(frames: number, sampleRate = 16000): AudioData {
  const samples = new Int16Array(frames * 2);
  for (let i = 0; i < frames; i++) {
    samples[2 * i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / sampleRate));
    samples[2 * i + 1] = Math.round(6000 * Math.sin((2 * Math.PI * 1250 * i) / sampleRate));
  }
  return { sampleRate, channels: 2, frames, sampleType: 'int16', bitsPerSample: 16, samples };
}

test('resampleFile streams to the samples resample() gives the whole signal, and leaves nothing behind on failure', async () => {
  const frames = 70001; // more than one 65536-frame window
  const input = join(dir, 'in.wav');
  writeFileSync(input, encodeWav(stereo(frames, 22050)));
  const output = join(dir, 'out.wav');
  const r = await resampleFile(input, output, { sampleRate: 16000, bits: 'float' });
  assert.deepEqual(r, {
    fromRate: 22050,
    toRate: 16000,
    channels: 2,
    framesIn: frames,
    framesOut: Math.ceil((frames * 320) / 441),
    bits: 'float',
  });
  const got = toFloat32Channels(await loadAudio(output));
  const want = toFloat32Channels(await loadAudio(input)).map((c) => resample(c, 22050, 16000));
  assert.deepEqual(got, want);
  assert.equal((await resampleFile(input, output, { sampleRate: 8000 })).bits, '16', '16-bit input stays 16-bit');
  assert.equal((await loadAudio(output)).frames, Math.ceil((frames * 160) / 441));
  // A failure half way (here the progress sink's) deletes the unfinished output.
  const unfinished = join(dir, 'unfinished.wav');
  const failing: ProgressSink = {
    start() {},
    tick() {
      throw new Error('stop here');
    },
    stop() {},
  };
  await assert.rejects(resampleFile(input, unfinished, { sampleRate: 8000, progress: failing }), /stop here/);
  assert.equal(existsSync(unfinished), false);
});
