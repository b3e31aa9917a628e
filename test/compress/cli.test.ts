/** The compress / decompress / eval commands end to end, through the real CLI. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAudioTransformerConfig, initParams } from '../../src/model/transformer.js';
import { writeSafetensors } from '../../src/util/safetensors.js';
import { projectRoot } from '../helpers/shared.js';

function wavelm(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(projectRoot, 'src/cli/main.ts'), ...args], {
    encoding: 'utf8',
    cwd: projectRoot,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function model(path: string, seed: number): void {
  const config = createAudioTransformerConfig({ bitDepth: 8, embeddingDim: 16, numLayers: 1, numHeads: 2, wideningFactor: 2 });
  const params = initParams(config, seed);
  writeSafetensors(path, Object.fromEntries(Object.entries(params).map(([k, t]) => [k, { shape: t.shape, data: t.data }])), {
    config: JSON.stringify(config),
  });
}

/** An 8-bit mono WAV of n samples (a sine of period 2 pi `period`) with a pad byte. */
function wav8(n: number, period: number): Uint8Array {
  const wav = new Uint8Array(44 + n + 1);
  const dv = new DataView(wav.buffer);
  wav.set(new TextEncoder().encode('RIFF'), 0);
  dv.setUint32(4, wav.length - 8, true);
  wav.set(new TextEncoder().encode('WAVEfmt '), 8);
  dv.setUint32(16, 16, true);
  dv.setUint16(20, 1, true);
  dv.setUint16(22, 1, true);
  dv.setUint32(24, 8000, true);
  dv.setUint32(28, 8000, true);
  dv.setUint16(32, 1, true);
  dv.setUint16(34, 8, true);
  wav.set(new TextEncoder().encode('data'), 36);
  dv.setUint32(40, n, true);
  for (let i = 0; i < n; i++) wav[44 + i] = 128 + Math.round(60 * Math.sin(i / period));
  return wav;
}

test('wavelm compress / decompress restore the file byte for byte; another model exits with code 5; eval prints JSON', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wavelm-cli-'));
  try {
    model(join(dir, 'a.safetensors'), 1);
    model(join(dir, 'b.safetensors'), 2);
    const wav = wav8(5000, 8);
    const input = join(dir, 'in.wav');
    writeFileSync(input, wav);
    const c = wavelm([
      '--json',
      'compress',
      input,
      '-m',
      join(dir, 'a.safetensors'),
      '-o',
      join(dir, 'in.wlm'),
      '--chunk-length',
      '1024',
      '--workers',
      '2',
    ]);
    assert.equal(c.status, 0, c.stderr);
    const stats = JSON.parse(c.stdout) as { archiveBytes: number; chunks: number; mode: string };
    assert.equal(stats.chunks, 5);
    assert.equal(stats.mode, 'u8');
    const d = wavelm(['decompress', join(dir, 'in.wlm'), '-m', join(dir, 'a.safetensors'), '-o', join(dir, 'out.wav')]);
    assert.equal(d.status, 0, d.stderr);
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'out.wav'))), wav);
    // An existing output is left alone unless --force.
    const again = wavelm(['decompress', join(dir, 'in.wlm'), '-m', join(dir, 'a.safetensors'), '-o', input]);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /in\.wav exists: nothing was written; use --force/);
    writeFileSync(join(dir, 'out.wav'), 'old');
    assert.equal(
      wavelm(['decompress', join(dir, 'in.wlm'), '-m', join(dir, 'a.safetensors'), '-o', join(dir, 'out.wav'), '--force']).status,
      0,
    );
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'out.wav'))), wav);
    const wrong = wavelm(['decompress', join(dir, 'in.wlm'), '-m', join(dir, 'b.safetensors'), '-o', join(dir, 'bad.wav')]);
    assert.equal(wrong.status, 5);
    assert.match(wrong.stderr, /another model/);
    const e = wavelm([
      '--json',
      'eval',
      '--files',
      input,
      '--compressors',
      `gzip,png,lm:${join(dir, 'a.safetensors')}`,
      '--workers',
      '1',
      '--csv',
      join(dir, 'r.csv'),
      '--chart',
      join(dir, 'r.html'),
    ]);
    assert.equal(e.status, 0, e.stderr);
    const ev = JSON.parse(e.stdout) as { chunks: number; results: Array<{ compressor: string; chunked: { rate: number } }> };
    assert.equal(ev.chunks, 2); // 5000 bytes: two whole 2048-byte chunks
    assert.deepEqual(
      ev.results.map((r) => r.compressor),
      ['gzip', 'png', `lm:${join(dir, 'a.safetensors')}`],
    );
    assert.ok(ev.results.every((r) => r.chunked.rate > 0));
    assert.match(readFileSync(join(dir, 'r.html'), 'utf8'), /<svg/);
    const bad = wavelm(['eval', '--files', input, '--compressors', 'zip']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown compressor 'zip'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('several files and directories in one run: --out-dir keeps inner paths, a bad file fails alone, -o needs one input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wavelm-cli-batch-'));
  try {
    model(join(dir, 'a.safetensors'), 1);
    mkdirSync(join(dir, 'rec', 'sub'), { recursive: true });
    const files: Record<string, Uint8Array> = { 'rec/one.wav': wav8(700, 5), 'rec/sub/two.wav': wav8(2500, 9), 'three.wav': wav8(300, 3) };
    for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
    writeFileSync(join(dir, 'rec', 'sub', 'bad.wav'), new TextEncoder().encode('RIFF, but not a WAV at all'));
    const arch = join(dir, 'arch');
    const c = wavelm([
      '--json',
      'compress',
      join(dir, 'rec'),
      join(dir, 'three.wav'),
      '-m',
      join(dir, 'a.safetensors'),
      '--out-dir',
      arch,
      '--chunk-length',
      '512',
      '--workers',
      '2',
    ]);
    assert.equal(c.status, 4, c.stderr); // the malformed file's exit code; the others are written
    assert.match(c.stderr, /bad\.wav/);
    assert.match(c.stderr, /1 of 4 files failed/);
    const res = JSON.parse(c.stdout) as {
      files: Array<{ input: string; output: string; error?: string }>;
      total: { files: number; failed: number };
    };
    assert.deepEqual(res.total.files, 3);
    assert.deepEqual(res.total.failed, 1);
    for (const name of ['one.wav.wlm', 'sub/two.wav.wlm', 'three.wav.wlm']) assert.ok(existsSync(join(arch, name)), name);
    assert.ok(!existsSync(join(arch, 'sub', 'bad.wav.wlm')), 'nothing is written for a failed file');
    const out = join(dir, 'out');
    const d = wavelm(['decompress', arch, '-m', join(dir, 'a.safetensors'), '--out-dir', out, '--workers', '2']);
    assert.equal(d.status, 0, d.stderr);
    assert.match(d.stdout, /3 files: /);
    assert.deepEqual(new Uint8Array(readFileSync(join(out, 'one.wav'))), files['rec/one.wav']);
    assert.deepEqual(new Uint8Array(readFileSync(join(out, 'sub', 'two.wav'))), files['rec/sub/two.wav']);
    assert.deepEqual(new Uint8Array(readFileSync(join(out, 'three.wav'))), files['three.wav']);
    // The same archives as one file at a time.
    const single = wavelm([
      'compress',
      join(dir, 'three.wav'),
      '-m',
      join(dir, 'a.safetensors'),
      '-o',
      join(dir, 'single.wlm'),
      '--chunk-length',
      '512',
      '--workers',
      '1',
    ]);
    assert.equal(single.status, 0, single.stderr);
    assert.deepEqual(readFileSync(join(dir, 'single.wlm')), readFileSync(join(arch, 'three.wav.wlm')));
    const rerun = wavelm(['compress', join(dir, 'rec'), join(dir, 'three.wav'), '-m', join(dir, 'a.safetensors'), '--out-dir', arch]);
    assert.equal(rerun.status, 2);
    assert.match(rerun.stderr, /3 outputs exist .*use --force/);
    const two = wavelm(['compress', join(dir, 'three.wav'), join(dir, 'rec'), '-m', join(dir, 'a.safetensors'), '-o', join(dir, 'x.wlm')]);
    assert.equal(two.status, 2);
    assert.match(two.stderr, /--out-dir/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
