import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { encodeWav, type AudioData } from '../../src/audio/index.js';
import { audioToChunks } from '../../src/tokens/index.js';
import { runCli } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'wavelm-cli-chunks-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function noise(frames: number, channels: number, seed: number): AudioData {
  const s = new Int16Array(frames * channels);
  let x = seed;
  for (let i = 0; i < s.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    s[i] = x >> 16;
  }
  return { sampleRate: 8000, channels, frames, sampleType: 'int16', bitsPerSample: 16, samples: s };
}

test('wavelm chunks: files and folders in sorted order, written back to back, with --json summary', async () => {
  const a = noise(9000, 2, 1);
  const b = noise(5000, 1, 2);
  mkdirSync(join(dir, 'in', 'sub'), { recursive: true });
  writeFileSync(join(dir, 'in', 'sub', 'b.wav'), encodeWav(b));
  writeFileSync(join(dir, 'in', 'a.wav'), encodeWav(a));
  const out = join(dir, 'out.bin');
  const r = await runCli([
    '--json',
    'chunks',
    join(dir, 'in'),
    '--bit-depth',
    '16',
    '--blocking-size',
    '512',
    '--chunk-size',
    '1024',
    '-o',
    out,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout) as { chunks: number; bytes: number; sha256: string; warnings: string[] };
  const expected = [
    ...audioToChunks(a, { bitDepth: 16, blockingSize: 512, chunkSizeBytes: 1024 }),
    ...audioToChunks(b, { bitDepth: 16, blockingSize: 512, chunkSizeBytes: 1024 }),
  ];
  const bytes = readFileSync(out);
  assert.equal(res.chunks, expected.length);
  assert.equal(res.bytes, expected.length * 1024);
  assert.equal(bytes.length, res.bytes);
  assert.deepEqual(new Uint8Array(bytes), new Uint8Array(Buffer.concat(expected)));
  assert.equal(res.sha256, createHash('sha256').update(bytes).digest('hex'));
  assert.deepEqual(res.warnings, []);
});

test('wavelm chunks: --num-chunks, the blocking warning, and bad options', async () => {
  writeFileSync(join(dir, 'c.wav'), encodeWav(noise(3000, 2, 3)));
  const few = await runCli(['--json', 'chunks', join(dir, 'c.wav'), '--num-chunks', '100', '--blocking-size', '100']);
  assert.equal(few.code, 0, few.stderr);
  const res = JSON.parse(few.stdout) as { chunks: number; warnings: string[] };
  assert.equal(res.chunks, 2);
  assert.equal(res.warnings.length, 2);
  assert.match(res.warnings.join('\n'), /blocking size 100/);
  // The library names its option (blockingSize); the CLI prints its flag, on stderr and in --json.
  const hint = /; use --blocking-size 1024 or more to keep one left\/right pair per chunk$/m;
  assert.match(res.warnings.join('\n'), hint);
  assert.match(few.stderr, /^warning: blocking size 100 samples/m);
  assert.match(few.stderr, hint);
  assert.match(res.warnings.join('\n'), /only 2 of the 100 requested chunks/);

  const odd = await runCli(['chunks', join(dir, 'c.wav'), '--bit-depth', '16', '--chunk-size', '2047']);
  assert.equal(odd.code, 2);
  assert.match(odd.stderr, /even/);
  const twelve = await runCli(['chunks', join(dir, 'c.wav'), '--bit-depth', '12']);
  assert.notEqual(twelve.code, 0);
  assert.match(twelve.stderr, /--bit-depth/);
  const none = await runCli(['chunks', join(dir, 'nothing-here')]);
  assert.equal(none.code, 3);
  assert.match(none.stderr, /nothing-here/);
  const help = await runCli(['chunks', '--help']);
  assert.match(help.stdout, /--conversion/);
  assert.match(help.stdout, /--blocking-size/);
});

test('wavelm chunks: a truncated WAV is skipped with a warning, kept with --allow-truncated and a warning that counts', async () => {
  const whole = encodeWav(noise(4000, 1, 5));
  const cut = join(dir, 'cut.wav');
  writeFileSync(cut, whole.subarray(0, whole.length - 2000)); // 1000 of 4000 frames missing
  const skip = await runCli(['--json', 'chunks', cut, '--bit-depth', '16', '--chunk-size', '2']);
  assert.match((JSON.parse(skip.stdout) as { warnings: string[] }).warnings.join('\n'), /skipped .*cut\.wav: truncated WAV data/);
  const strict = await runCli(['chunks', cut, '--strict']);
  assert.equal(strict.code, 4);
  assert.match(strict.stderr, /cut\.wav: truncated WAV data: .* \(pass --allow-truncated to keep them\)$/m);
  const kept = await runCli(['--json', 'chunks', cut, '--bit-depth', '16', '--chunk-size', '2', '--allow-truncated']);
  assert.equal(kept.code, 0, kept.stderr);
  const res = JSON.parse(kept.stdout) as { chunks: number; warnings: string[] };
  assert.equal(res.chunks, 3000);
  assert.match(res.warnings.join('\n'), /cut\.wav: truncated WAV data: kept the 3000 of 4000 frames/);
});

test('wavelm chunks: no chunks at all is a failure (exit 4), unless none were asked for', async () => {
  const short = join(dir, 'short.wav');
  writeFileSync(short, encodeWav(noise(100, 1, 6))); // 200 bytes of 16-bit audio, less than one 2048-byte chunk
  const r = await runCli(['chunks', short, '--bit-depth', '16']);
  assert.equal(r.code, 4);
  assert.match(r.stderr, /no chunks were produced \(1 file\(s\) hold less than one chunk\)/);
  const zero = await runCli(['chunks', short, '--num-chunks', '0']);
  assert.equal(zero.code, 0, zero.stderr);
});
