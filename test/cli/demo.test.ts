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
  const r = await runCli(['--json', 'demo', '--out-dir', dir], { timeoutMs: 300_000 });
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout) as { chunks: { files: number; chunks: number; bytes: number; seconds: number; sha256: string; output: string } };
  assert.ok(res.chunks.files > 100, `${res.chunks.files} files`);
  assert.ok(res.chunks.seconds > 60, `${res.chunks.seconds} s of audio`);
  assert.equal(res.chunks.bytes, res.chunks.chunks * 2048);
  assert.match(res.chunks.sha256, /^[0-9a-f]{64}$/);
  assert.equal(statSync(join(dir, 'chunks.bin')).size, res.chunks.bytes);
});
