import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseNpy } from '../../src/util/npy.js';
import { sharedPath } from '../helpers/shared.js';
import { runCli } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'wavelm-cli-chunks-npy-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Sidecar {
  array: { file: string; dtype: string; shape: [number, number] };
  pipeline: Record<string, unknown>;
  sampleRatePolicy: string;
  files: string[];
  filesRead: number;
  chunks: number;
  sha256: string;
}

/** Runs `wavelm --json chunks ARGS` and returns its JSON result. */
async function chunks(
  args: string[],
): Promise<{ chunks: number; sha256: string; format: string; npy?: { dtype: string; shape: number[]; sidecar: string } }> {
  const r = await runCli(['--json', 'chunks', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('chunks -o x.npy: 8-bit uint8 [chunks, chunk_size] with the bytes of the raw output, and a sidecar of the settings', async (t) => {
  const folder = sharedPath(t, 'data', 'speech', 'arctic');
  if (!folder) return;
  const bin = join(dir, 'speech.bin');
  const npy = join(dir, 'speech.npy');
  const raw = await chunks([folder, '--conversion', 'lmic', '-o', bin]);
  const res = await chunks([folder, '--conversion', 'lmic', '-o', npy]);
  assert.equal(res.format, 'npy');
  assert.equal(res.sha256, raw.sha256, 'the same chunks');
  const a = parseNpy(readFileSync(npy), npy);
  assert.ok(a.data instanceof Uint8Array);
  assert.deepEqual(a.shape, [raw.chunks, 2048]);
  assert.ok(raw.chunks > 10);
  assert.deepEqual(Buffer.from(a.data), readFileSync(bin));

  const side = JSON.parse(readFileSync(`${npy}.json`, 'utf8')) as Sidecar;
  assert.equal(res.npy!.sidecar, `${npy}.json`);
  assert.deepEqual([side.array.file, side.array.dtype, side.array.shape], ['speech.npy', 'uint8', [raw.chunks, 2048]]);
  assert.deepEqual(side.pipeline, {
    bitDepth: 8,
    conversion: 'lmic',
    blockingSize: 1024,
    chunkSizeBytes: 2048,
    channelMode: 'block',
    channel: 0,
    tail: 'drop',
    tokensPerChunk: 2048,
  });
  assert.match(side.sampleRatePolicy, /native/);
  assert.ok(side.files.length >= 7 && side.files.every((f) => f.startsWith(folder) && f.endsWith('.wav')));
  assert.equal(side.filesRead, side.files.length);
  assert.equal(side.sha256, createHash('sha256').update(readFileSync(bin)).digest('hex'));
});

test('16-bit chunks as .npy: uint16 tokens x + 32768 by default, int16 samples on request, [chunks, chunk_size / 2]', async (t) => {
  const music = sharedPath(t, 'data', 'music', 'encodec', 'test_48k.wav');
  if (!music) return;
  const pipeline = [music, '--bit-depth', '16', '--blocking-size', '1024', '--chunk-size', '4096'];
  const bin = join(dir, 'music.bin');
  await chunks([...pipeline, '-o', bin]);
  const samples = new Int16Array(new Uint8Array(readFileSync(bin)).buffer);
  const tokens = join(dir, 'music-tokens.npy');
  const res = await chunks([...pipeline, '-o', tokens]);
  assert.deepEqual(res.npy?.shape, [samples.length / 2048, 2048]);
  const u = parseNpy(readFileSync(tokens));
  assert.ok(u.data instanceof Uint16Array);
  assert.deepEqual(u.shape, [samples.length / 2048, 2048]);
  for (let i = 0; i < samples.length; i += 997) assert.equal(u.data[i], samples[i]! + 32768, `token ${i}`);
  const asSamples = join(dir, 'music-samples');
  await chunks([...pipeline, '-o', asSamples, '--format', 'npy', '--npy-dtype', 'int16']);
  const s = parseNpy(readFileSync(asSamples));
  assert.ok(s.data instanceof Int16Array);
  assert.deepEqual(s.data, samples);
  assert.equal((JSON.parse(readFileSync(`${asSamples}.json`, 'utf8')) as Sidecar).pipeline.tokensPerChunk, 2048);
});

test('chunks .npy option errors exit 2 before writing anything', async (t) => {
  const music = sharedPath(t, 'data', 'music', 'encodec', 'test_24k.wav');
  if (!music) return;
  const wrong = await runCli(['chunks', music, '--bit-depth', '16', '--npy-dtype', 'uint8', '-o', join(dir, 'wrong.npy')]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /--npy-dtype uint8 does not hold 16-bit tokens; use int16 or uint16/);
  assert.ok(!existsSync(join(dir, 'wrong.npy')));
  const noOut = await runCli(['chunks', music, '--format', 'npy']);
  assert.equal(noOut.code, 2);
  assert.match(noOut.stderr, /-o OUT\.npy/);
  const rawDtype = await runCli(['chunks', music, '--npy-dtype', 'uint8', '-o', join(dir, 'x.bin')]);
  assert.equal(rawDtype.code, 2);
});

test('numpy memory-maps the .npy chunks wavelm writes', async (t) => {
  const probe = spawnSync('python3', ['-c', 'import numpy']);
  if (probe.status !== 0) {
    t.skip('python3 with numpy is not installed (apt-get install python3-numpy); the numpy.load check is skipped');
    return;
  }
  const music = sharedPath(t, 'data', 'music', 'encodec', 'test_24k.wav');
  if (!music) return;
  const out = join(dir, 'mapped.npy');
  const res = await chunks([music, '--bit-depth', '16', '--chunk-size', '2048', '-o', out]);
  const py = [
    'import sys, hashlib, numpy as np',
    "a = np.load(sys.argv[1], mmap_mode='r')",
    "x = (a.astype(np.int32) - 32768).astype('<i2')",
    'print(type(a).__name__, a.dtype.str, a.shape[0], a.shape[1], hashlib.sha256(x.tobytes()).hexdigest())',
  ].join('\n');
  const r = spawnSync('python3', ['-c', py, out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), `memmap <u2 ${res.chunks} 1024 ${res.sha256}`);
});
