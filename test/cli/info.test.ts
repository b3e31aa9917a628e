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
  writeFileSync(wav, encodeWav({ sampleRate: 16000, channels: 2, frames: 8000, sampleType: 'int16', bitsPerSample: 16, samples: new Int16Array(16000) }));
  const ok = await runCli(['info', wav]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /tone\.wav: wav\/pcm, 16000 Hz, 2 ch, 16-bit, 8000 frames, 0\.500 s/);

  const js = await runCli(['--json', 'info', wav]);
  const parsed = JSON.parse(js.stdout) as { files: Array<{ frames: number; channels: number; durationSeconds: number }>; errors: unknown[] };
  assert.deepEqual([parsed.files[0]!.frames, parsed.files[0]!.channels, parsed.files[0]!.durationSeconds, parsed.errors.length], [8000, 2, 0.5, 0]);

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
