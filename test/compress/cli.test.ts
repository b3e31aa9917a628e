/** The compress / decompress / eval commands end to end, through the real CLI. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAudioTransformerConfig, initParams } from '../../src/model/transformer.js';
import { writeSafetensors } from '../../src/util/safetensors.js';
import { projectRoot } from '../helpers/shared.js';

function wavelm(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(projectRoot, 'src/cli/main.ts'), ...args], { encoding: 'utf8', cwd: projectRoot });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function model(path: string, seed: number): void {
  const config = createAudioTransformerConfig({ bitDepth: 8, embeddingDim: 16, numLayers: 1, numHeads: 2, wideningFactor: 2 });
  const params = initParams(config, seed);
  writeSafetensors(path, Object.fromEntries(Object.entries(params).map(([k, t]) => [k, { shape: t.shape, data: t.data }])), { config: JSON.stringify(config) });
}

test('wavelm compress / decompress restore the file byte for byte; another model exits with code 5; eval prints JSON', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wavelm-cli-'));
  try {
    model(join(dir, 'a.safetensors'), 1);
    model(join(dir, 'b.safetensors'), 2);
    const n = 5000;
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
    for (let i = 0; i < n; i++) wav[44 + i] = 128 + Math.round(60 * Math.sin(i / 8));
    const input = join(dir, 'in.wav');
    writeFileSync(input, wav);
    const c = wavelm(['--json', 'compress', input, '-m', join(dir, 'a.safetensors'), '-o', join(dir, 'in.wlm'), '--chunk-length', '1024', '--workers', '2']);
    assert.equal(c.status, 0, c.stderr);
    const stats = JSON.parse(c.stdout) as { archiveBytes: number; chunks: number; mode: string };
    assert.equal(stats.chunks, 5);
    assert.equal(stats.mode, 'u8');
    const d = wavelm(['decompress', join(dir, 'in.wlm'), '-m', join(dir, 'a.safetensors'), '-o', join(dir, 'out.wav')]);
    assert.equal(d.status, 0, d.stderr);
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'out.wav'))), wav);
    const wrong = wavelm(['decompress', join(dir, 'in.wlm'), '-m', join(dir, 'b.safetensors'), '-o', join(dir, 'bad.wav')]);
    assert.equal(wrong.status, 5);
    assert.match(wrong.stderr, /another model/);
    const e = wavelm(['--json', 'eval', '--files', input, '--compressors', 'gzip,png,lm:' + join(dir, 'a.safetensors'), '--workers', '1', '--csv', join(dir, 'r.csv'), '--chart', join(dir, 'r.html')]);
    assert.equal(e.status, 0, e.stderr);
    const ev = JSON.parse(e.stdout) as { chunks: number; results: Array<{ compressor: string; chunked: { rate: number } }> };
    assert.equal(ev.chunks, 2); // 5000 bytes: two whole 2048-byte chunks
    assert.deepEqual(ev.results.map((r) => r.compressor), ['gzip', 'png', 'lm:' + join(dir, 'a.safetensors')]);
    assert.ok(ev.results.every((r) => r.chunked.rate > 0));
    assert.match(readFileSync(join(dir, 'r.html'), 'utf8'), /<svg/);
    const bad = wavelm(['eval', '--files', input, '--compressors', 'zip']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown compressor 'zip'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
