import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeWav, loadAudio, toFloat32Channels } from '../../src/audio/index.js';
import { readCodes } from '../../src/codec/index.js';
import { parseNpy } from '../../src/util/npy.js';
import { sharedPath } from '../helpers/shared.js';

const entry = join(dirname(fileURLToPath(import.meta.url)), 'cli-entry.ts');

/** Runs our commands in a child process (only codec and metrics registered); returns stdout and the exit code. */
async function cli(...args: string[]): Promise<{ out: string; code: number }> {
  return new Promise((res) => {
    execFile(process.execPath, ['--import', 'tsx', entry, ...args], { maxBuffer: 1 << 24 }, (err, stdout) => {
      res({ out: stdout, code: err ? Number((err as { code?: number }).code ?? 1) : 0 });
    });
  });
}

function wav(path: string, rate: number, channels: number, seconds: number): void {
  const n = Math.round(rate * seconds);
  const s = new Float32Array(n * channels);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < channels; c++) s[i * channels + c] = 0.3 * Math.sin(i * 0.02 * (c + 1)) + 0.1 * Math.sin(i * 0.31);
  writeFileSync(path, encodeWav({ sampleRate: rate, channels, frames: n, sampleType: 'float32', bitsPerSample: 32, samples: s }));
}

test('codec encode/decode round trip through the CLI: sidecar, grouping, cache, other rates and channel counts', async (t) => {
  const model = sharedPath(t, 'fixtures', 'encodec', 'encodec_24khz_tiny');
  if (!model) return;
  const dir = mkdtempSync(join(tmpdir(), 'wavelm-codec-'));
  try {
    const a = join(dir, 'a.wav');
    const b = join(dir, 'b.wav');
    wav(a, 24000, 1, 1.0);
    wav(b, 44100, 2, 0.5); // resampled to 24 kHz and mixed to mono
    const cache = join(dir, 'cache');
    const r1 = await cli(
      '--json',
      'codec',
      'encode',
      a,
      b,
      '-m',
      model,
      '-b',
      '3',
      '-o',
      join(dir, 'codes'),
      '--cache-dir',
      cache,
      '--workers',
      '1',
    );
    assert.equal(r1.code, 0, r1.out);
    const j1 = JSON.parse(r1.out) as { files: { output: string; shape: number[]; cached: boolean }[] };
    assert.deepEqual(
      j1.files.map((f) => f.shape),
      [
        [4, 75],
        [4, 38],
      ],
    );
    assert.ok(j1.files.every((f) => !f.cached));
    const f = readCodes(j1.files[0]!.output);
    assert.equal(f.sidecar.bandwidth, 3);
    assert.equal(f.sidecar.model.frameRate, 75);
    assert.equal(f.sidecar.source.sampleRate, 24000);
    const fb = readCodes(j1.files[1]!.output);
    assert.equal(fb.sidecar.source.sampleRate, 44100);
    assert.equal(fb.sidecar.source.channels, 2);
    assert.equal(fb.sidecar.length, 12000);
    // Second run: served from the cache, identical codes.
    const r2 = await cli('--json', 'codec', 'encode', a, '-m', model, '-b', '3', '-o', join(dir, 'again.npy'), '--cache-dir', cache);
    const j2 = JSON.parse(r2.out) as { files: { cached: boolean }[] };
    assert.equal(j2.files[0]!.cached, true);
    assert.deepEqual(Array.from(readCodes(join(dir, 'again.npy')).codes), Array.from(f.codes));
    // Grouped into 0.4 s windows (30 frames): [3, 4, 30], last window padded with -1; decodes the same as ungrouped.
    const r3 = await cli(
      '--json',
      'codec',
      'encode',
      a,
      '-m',
      model,
      '-b',
      '3',
      '-o',
      join(dir, 'g.npy'),
      '--group-seconds',
      '0.4',
      '--no-cache',
    );
    assert.equal(r3.code, 0);
    const g = parseNpy(new Uint8Array(readFileSync(join(dir, 'g.npy'))));
    assert.deepEqual(g.shape, [3, 4, 30]);
    assert.equal(g.data[g.data.length - 1], -1);
    const d1 = await cli('--json', 'codec', 'decode', j1.files[0]!.output, '-m', model, '-o', join(dir, 'a1.wav'));
    assert.equal(d1.code, 0, d1.out);
    const d2 = await cli('--json', 'codec', 'decode', join(dir, 'g.npy'), '-m', model, '-o', join(dir, 'a2.wav'), '--float');
    assert.equal(d2.code, 0, d2.out);
    const w1 = await loadAudio(join(dir, 'a1.wav'));
    const w2 = await loadAudio(join(dir, 'a2.wav'));
    assert.equal(w1.frames, 24000);
    assert.equal(w2.frames, 24000);
    const c1 = toFloat32Channels(w1)[0]!;
    const c2 = toFloat32Channels(w2)[0]!;
    let m = 0;
    for (let i = 0; i < c1.length; i++) m = Math.max(m, Math.abs(c1[i]! - c2[i]!));
    assert.ok(m <= 1 / 32768 + 1e-6, `16-bit and float decodes differ by ${m}`);
    // Metrics of the decoded file against itself.
    const mr = await cli('--json', 'metrics', join(dir, 'a2.wav'), join(dir, 'a2.wav'));
    const mj = JSON.parse(mr.out) as { stoi: number; lsdDb: number };
    assert.ok(Math.abs(mj.stoi - 1) < 1e-9);
    assert.equal(mj.lsdDb, 0);
    // Errors: bad bandwidth, missing sidecar.
    const bad = await cli('codec', 'encode', a, '-m', model, '-b', '5', '-o', join(dir, 'x.npy'), '--no-cache');
    assert.equal(bad.code, 2);
    rmSync(join(dir, 'g.json'));
    const nos = await cli('codec', 'decode', join(dir, 'g.npy'), '-m', model, '-o', join(dir, 'x.wav'));
    assert.equal(nos.code, 3);
    assert.ok(!existsSync(join(dir, 'x.wav')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('batch encode in 2 worker threads gives the same codes as one thread', async (t) => {
  const model = sharedPath(t, 'fixtures', 'encodec', 'encodec_48khz_tiny');
  if (!model) return;
  const dir = mkdtempSync(join(tmpdir(), 'wavelm-codec-'));
  try {
    const files = [0.3, 1.2, 0.7].map((s, i) => {
      const p = join(dir, `f${i}.wav`);
      wav(p, 48000, i === 1 ? 1 : 2, s);
      return p;
    });
    const one = await cli('--json', 'codec', 'encode', ...files, '-m', model, '-o', join(dir, 'one'), '--no-cache', '--workers', '1');
    const two = await cli('--json', 'codec', 'encode', ...files, '-m', model, '-o', join(dir, 'two'), '--no-cache', '--workers', '2');
    assert.equal(one.code, 0, one.out);
    assert.equal(two.code, 0, two.out);
    const o1 = (JSON.parse(one.out) as { files: { output: string }[] }).files;
    const o2 = (JSON.parse(two.out) as { files: { output: string }[] }).files;
    for (let i = 0; i < files.length; i++) {
      const x = readCodes(o1[i]!.output);
      const y = readCodes(o2[i]!.output);
      assert.deepEqual(Array.from(x.codes), Array.from(y.codes));
      assert.deepEqual(x.sidecar.scales, y.sidecar.scales);
    }
    assert.equal(readCodes(o1[1]!.output).sidecar.chunkFrames.length, 2); // 1.2 s: two 1 s segments
    // One file with 2 workers: its segments are spread over them; same codes and sidecar.
    const single = await cli(
      '--json',
      'codec',
      'encode',
      files[1]!,
      '-m',
      model,
      '-o',
      join(dir, 'single.npy'),
      '--no-cache',
      '--workers',
      '2',
    );
    assert.equal(single.code, 0, single.out);
    const s1 = readCodes(join(dir, 'single.npy'));
    const ref = readCodes(o1[1]!.output);
    assert.deepEqual(Array.from(s1.codes), Array.from(ref.codes));
    assert.deepEqual({ ...s1.sidecar, source: null }, { ...ref.sidecar, source: null });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
