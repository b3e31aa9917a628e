/** `wavelm compress` / `decompress` without a model: wavelm's codec, as a user runs it (spawned processes). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalWavHeader, packInto, readPcmImage } from '../../src/compress/lossless/pcm-image.js';
import { projectRoot } from '../helpers/shared.js';
import { runCli } from '../cli/run.js';

const SAMPLES = join(projectRoot, 'node_modules', 'supersonic-scsynth-samples', 'samples');

function speechLikeWav(frames: number, seed: number): Uint8Array {
  let s = seed;
  const samples = new Int32Array(frames);
  let a = 0;
  for (let t = 0; t < frames; t++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a = 0.97 * a + (s / 2 ** 32 - 0.5) * 2000;
    samples[t] = Math.round(a + 3000 * Math.sin(t / 9));
  }
  const out = new Uint8Array(44 + 2 * frames);
  out.set(canonicalWavHeader({ sampleRate: 16000, channels: 1, bitsPerSample: 16, frames }));
  packInto(out.subarray(44), samples, 16, false, false);
  return out;
}

test('compress and decompress a folder with no flags: WAV byte for byte, FLAC as WAV of the same samples', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wavelm-codec-cli-'));
  try {
    const src = join(dir, 'in');
    mkdirSync(join(src, 'sub'), { recursive: true });
    const wav = speechLikeWav(20000, 3);
    writeFileSync(join(src, 'sub', 'speech.wav'), wav);
    copyFileSync(join(SAMPLES, 'bd_haus.flac'), join(src, 'bd_haus.flac'));
    const c = await runCli(['--json', 'compress', src, '--out-dir', join(dir, 'a'), '--level', 'fast']);
    assert.equal(c.code, 0, c.stderr);
    const report = JSON.parse(c.stdout) as { total: { files: number; rate: number } };
    assert.equal(report.total.files, 2);
    assert.ok(report.total.rate < 0.8, `rate ${report.total.rate}`);
    const d = await runCli(['decompress', join(dir, 'a'), '--out-dir', join(dir, 'b')]);
    assert.equal(d.code, 0, d.stderr);
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'b', 'sub', 'speech.wav'))), wav);
    const flac = await readPcmImage(new Uint8Array(readFileSync(join(src, 'bd_haus.flac'))), 'bd_haus.flac');
    const back = await readPcmImage(new Uint8Array(readFileSync(join(dir, 'b', 'bd_haus.wav'))), 'bd_haus.wav');
    assert.deepEqual(back.samples, flac.samples);
    // Existing outputs are left alone.
    const again = await runCli(['decompress', join(dir, 'a'), '--out-dir', join(dir, 'b')]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /--force/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('train --codec makes a codec model; archives made with it need it (exit 5 without), and say so', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wavelm-codec-model-'));
  try {
    mkdirSync(join(dir, 'corpus'));
    writeFileSync(join(dir, 'corpus', 'one.wav'), speechLikeWav(30000, 5));
    writeFileSync(join(dir, 'x.wav'), speechLikeWav(8000, 9));
    const model = join(dir, 'mine.safetensors');
    const t = await runCli(['train', '--codec', '--files', join(dir, 'corpus'), '--out', model]);
    assert.equal(t.code, 0, t.stderr);
    assert.ok(existsSync(model));
    assert.equal((await runCli(['compress', join(dir, 'x.wav'), '-m', model, '-o', join(dir, 'x.wlm')])).code, 0);
    const without = await runCli(['decompress', join(dir, 'x.wlm'), '-o', join(dir, 'y.wav')]);
    assert.equal(without.code, 5);
    assert.match(without.stderr, /pass that model with -m/);
    assert.equal(without.stderr.trim().split('\n').length, 1);
    const withModel = await runCli(['decompress', join(dir, 'x.wlm'), '-m', model, '-o', join(dir, 'y.wav')]);
    assert.equal(withModel.code, 0, withModel.stderr);
    assert.deepEqual(readFileSync(join(dir, 'y.wav')), readFileSync(join(dir, 'x.wav')));
    const float = join(dir, 'f.wav');
    const fw = speechLikeWav(100, 1);
    fw[20] = 3; // format tag 3: IEEE float
    writeFileSync(float, fw);
    const refused = await runCli(['compress', float]);
    assert.equal(refused.code, 4);
    assert.match(refused.stderr, /float/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('eval --lossless takes WAV and FLAC alike, ranks wavelm against FLAC, and reports a file a compressor cannot take', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wavelm-eval-lossless-'));
  try {
    writeFileSync(join(dir, 'speech.wav'), speechLikeWav(16000, 21));
    copyFileSync(join(SAMPLES, 'bd_haus.flac'), join(dir, 'bd_haus.flac'));
    const float = speechLikeWav(200, 2);
    float[20] = 3;
    writeFileSync(join(dir, 'float.wav'), float);
    const r = await runCli(['--json', 'eval', '--lossless', '--files', dir, '--compressors', 'flac,wavelm:fast,gzip']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { results: { compressor: string; files: number; failed: { file: string }[]; rate: number }[] };
    const by = Object.fromEntries(out.results.map((x) => [x.compressor, x]));
    assert.equal(by.flac!.files, 2);
    assert.equal(by['wavelm:fast']!.files, 2);
    assert.equal(by.gzip!.files, 3, 'gzip takes any bytes');
    assert.match(by['wavelm:fast']!.failed[0]!.file, /float\.wav$/);
    assert.ok(by['wavelm:fast']!.rate < by.flac!.rate, `wavelm ${by['wavelm:fast']!.rate} vs flac ${by.flac!.rate}`);
    assert.match(r.stderr, /float\.wav left out/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
