import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { encodeWav } from '../../src/audio/index.js';
import { runCli } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'wavelm-cli-info-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('wavelm info: one line per file, --json, and an error line plus non-zero exit for unreadable files', async () => {
  const wav = join(dir, 'tone.wav');
  writeFileSync(
    wav,
    encodeWav({ sampleRate: 16000, channels: 2, frames: 8000, sampleType: 'int16', bitsPerSample: 16, samples: new Int16Array(16000) }),
  );
  const ok = await runCli(['info', wav]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /tone\.wav: wav\/pcm, 16000 Hz, 2 ch, 16-bit, 8000 frames, 0\.500 s/);

  const js = await runCli(['--json', 'info', wav]);
  const parsed = JSON.parse(js.stdout) as {
    files: Array<{ frames: number; channels: number; durationSeconds: number }>;
    errors: unknown[];
  };
  assert.deepEqual(
    [parsed.files[0]!.frames, parsed.files[0]!.channels, parsed.files[0]!.durationSeconds, parsed.errors.length],
    [8000, 2, 0.5, 0],
  );

  const bad = join(dir, 'bad.wav');
  writeFileSync(bad, 'not audio at all');
  const mixed = await runCli(['info', wav, bad, join(dir, 'missing.wav')]);
  assert.notEqual(mixed.code, 0);
  assert.match(mixed.stdout, /tone\.wav/);
  const errLines = mixed.stderr.trim().split('\n');
  assert.equal(errLines.length, 2, mixed.stderr);
  assert.match(errLines[0]!, /bad\.wav: not a recognised audio file/);
  assert.match(errLines[1]!, /missing\.wav: no such file/);

  const help = await runCli(['info', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: wavelm info/);
});

test('wavelm info: folders are searched and what they pass over is counted; lossy files show their sample format', async (t) => {
  const folder = join(dir, 'folder');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(folder, 'sub'), { recursive: true });
  const tone = encodeWav({
    sampleRate: 8000,
    channels: 1,
    frames: 800,
    sampleType: 'int16',
    bitsPerSample: 16,
    samples: new Int16Array(800),
  });
  writeFileSync(join(folder, 'a.wav'), tone);
  writeFileSync(join(folder, 'sub', 'b.wav'), tone);
  writeFileSync(join(folder, 'c.au'), 'NIST_1A');
  const r = await runCli(['info', folder]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => l.slice(folder.length, l.indexOf(':'))),
    ['/a.wav', '/sub/b.wav'],
  );
  assert.match(r.stderr, /skipped 1 file\(s\): 1 in audio formats wavelm does not read: 1 \.au \(Sun\/NeXT audio\)/);

  const { sharedPath } = await import('../helpers/shared.js');
  const mp3 = sharedPath(t, 'data', 'encoded', 'test_48k_stereo.mp3');
  if (!mp3) return;
  const lossy = await runCli(['info', mp3]);
  assert.match(lossy.stdout, /mp3\/mp3, 48000 Hz, 2 ch, lossy \(decoded to 32-bit float\), \d+ frames/);
  const js = JSON.parse((await runCli(['--json', 'info', mp3, join(folder, 'a.wav')])).stdout) as { files: { sampleFormat: string }[] };
  assert.deepEqual(
    js.files.map((f) => f.sampleFormat),
    ['lossy (decoded to 32-bit float)', '16-bit'],
  );
});
