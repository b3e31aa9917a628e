import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'wavelm-cli-demo-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('wavelm demo --help explains the embedded audio', async () => {
  const r = await runCli(['demo', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /supersonic-scsynth-samples/);
  assert.match(r.stdout, /CC0/);
});

test('wavelm demo runs the pipeline over the embedded audio and reports it', async () => {
  const r = await runCli(['--json', 'demo', '--stages', 'chunks', '--out-dir', dir], { timeoutMs: 300_000 });
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout) as {
    chunks: { files: number; chunks: number; bytes: number; seconds: number; sha256: string; output: string };
  };
  assert.ok(res.chunks.files > 100, `${res.chunks.files} files`);
  assert.ok(res.chunks.seconds > 60, `${res.chunks.seconds} s of audio`);
  assert.equal(res.chunks.bytes, res.chunks.chunks * 2048);
  assert.match(res.chunks.sha256, /^[0-9a-f]{64}$/);
  assert.equal(statSync(join(dir, 'chunks.bin')).size, res.chunks.bytes);
});

test('wavelm demo runs the whole loop: train, eval against classical compressors, lossless round trip', async () => {
  const out = join(dir, 'loop');
  const args = [
    '--json',
    'demo',
    '--stages',
    'train,eval,roundtrip',
    '--out-dir',
    out,
    '--steps',
    '8',
    '--seq-len',
    '64',
    '--eval-chunks',
    '4',
    '--roundtrip-seconds',
    '0.05',
  ];
  const r = await runCli(args, { timeoutMs: 300_000 });
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout) as {
    train: { steps: number; numParams: number; checkpoint: string | null; testFiles: number };
    eval: { chunks: number; results: { compressor: string; chunked: { rate: number } }[] };
    roundtrip: { identical: boolean; wavBytes: number; archiveBytes: number };
  };
  assert.equal(res.train.steps, 8);
  assert.equal(res.train.numParams, 231_936);
  assert.ok(res.train.checkpoint && statSync(res.train.checkpoint).isDirectory());
  assert.ok(res.train.testFiles > 0);
  assert.equal(res.eval.chunks, 4);
  assert.deepEqual(
    res.eval.results.map((x) => x.compressor),
    ['gzip', 'lzma', 'flac', 'png', 'lm:demo'],
  );
  for (const x of res.eval.results) assert.ok(x.chunked.rate > 0 && x.chunked.rate < 1.2, `${x.compressor} ${x.chunked.rate}`);
  assert.equal(res.roundtrip.identical, true);
  assert.ok(res.roundtrip.archiveBytes > 0 && res.roundtrip.wavBytes > 44);
  // A second run replaces the earlier demo run instead of refusing it.
  const again = await runCli(args, { timeoutMs: 300_000 });
  assert.equal(again.code, 0, again.stderr);
});

test('wavelm demo rejects an unknown stage', async () => {
  const r = await runCli(['demo', '--stages', 'chunks,fly', '--out-dir', dir]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown stage 'fly'/);
});
