// `-m ORG/NAME` through the CLI, against a hub served on 127.0.0.1: codec encode downloads
// ../shared's tiny EnCodec model (as facebook/encodec_24khz) and gives the same codes as the local
// folder, --json output stays clean; with the hub stopped and HF_HUB_OFFLINE=1, decode runs from the
// cache and an uncached id exits 3 with what to do; decompress and eval take an LM model by hub id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav } from '../../src/audio/wav-encode.js';
import { readCodes } from '../../src/codec/index.js';
import { exportLmicParams } from '../../src/model/lmic.js';
import type { ParamSet, TransformerConfig } from '../../src/model/api.js';
import { parseSafetensors, toFloat64 } from '../../src/util/safetensors.js';
import { ENCODEC_FILES } from '../../src/util/hub.js';
import { sharedPath } from '../helpers/shared.js';
import { startTestHub } from '../helpers/hub-server.js';
import { runCli } from './run.js';

function sineWav(path: string, rate: number, seconds: number): void {
  const n = Math.round(rate * seconds);
  const s = new Float32Array(n).map((_, i) => 0.3 * Math.sin(i * 0.02) + 0.1 * Math.sin(i * 0.31));
  writeFileSync(path, encodeWav({ sampleRate: rate, channels: 1, frames: n, sampleType: 'float32', bitsPerSample: 32, samples: s }));
}

test('codec encode/decode -m facebook/encodec_24khz: downloaded once from the hub, then from the cache offline', async (t) => {
  const model = sharedPath(t, 'fixtures', 'encodec', 'encodec_24khz_tiny');
  if (!model) return;
  const hub = await startTestHub([{ name: 'facebook/encodec_24khz', dir: model, files: ENCODEC_FILES }]);
  const dir = mkdtempSync(join(tmpdir(), 'wavelm-hubcli-'));
  const env = { HF_ENDPOINT: hub.endpoint, HF_HOME: join(dir, 'hf'), HF_HUB_OFFLINE: '', HF_HUB_CACHE: '', HUGGINGFACE_HUB_CACHE: '' };
  try {
    sineWav(join(dir, 'a.wav'), 24000, 1);
    const byId = await runCli(
      [
        '--json',
        'codec',
        'encode',
        join(dir, 'a.wav'),
        '-m',
        'facebook/encodec_24khz',
        '-b',
        '3',
        '-o',
        join(dir, 'hub.npy'),
        '--no-cache',
        '--workers',
        '1',
      ],
      { env },
    );
    assert.equal(byId.code, 0, byId.stderr);
    assert.doesNotThrow(() => JSON.parse(byId.stdout), `stdout is one JSON document: ${byId.stdout}`);
    assert.ok(hub.requests.some((r) => r.endsWith(`/resolve/${hub.commit('facebook/encodec_24khz')}/model.safetensors`)));
    const local = await runCli([
      'codec',
      'encode',
      join(dir, 'a.wav'),
      '-m',
      model,
      '-b',
      '3',
      '-o',
      join(dir, 'local.npy'),
      '--no-cache',
      '--workers',
      '1',
    ]);
    assert.equal(local.code, 0, local.stderr);
    assert.deepEqual(Array.from(readCodes(join(dir, 'hub.npy')).codes), Array.from(readCodes(join(dir, 'local.npy')).codes));

    await hub.close();
    const offline = { ...env, HF_HUB_OFFLINE: '1' };
    const dec = await runCli(['codec', 'decode', join(dir, 'hub.npy'), '-m', 'facebook/encodec_24khz', '-o', join(dir, 'out.wav')], {
      env: offline,
    });
    assert.equal(dec.code, 0, dec.stderr);
    assert.ok(readFileSync(join(dir, 'out.wav')).length > 44);
    const missing = await runCli(['codec', 'encode', join(dir, 'a.wav'), '-m', 'facebook/encodec_48khz', '-o', join(dir, 'x.npy')], {
      env: offline,
    });
    assert.equal(missing.code, 3);
    assert.match(
      missing.stderr,
      new RegExp(
        /^wavelm: facebook\/encodec_48khz: not in the Hugging Face cache /.source +
          /.*HF_HUB_OFFLINE=1 forbids downloading; run once without HF_HUB_OFFLINE/.source,
      ),
    );
    assert.equal(missing.stderr.trim().split('\n').length, 1);
  } finally {
    await hub.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('decompress -m ORG/NAME and eval lm:ORG/NAME take the model.safetensors of a hub repo', async (t) => {
  const fixture = sharedPath(t, 'fixtures', 'lmic-transformer', 'd32');
  if (!fixture) return;
  const dir = mkdtempSync(join(tmpdir(), 'wavelm-hubcli-'));
  const st = parseSafetensors(new Uint8Array(readFileSync(join(fixture, 'params.safetensors'))));
  const params: ParamSet = {};
  for (const [n, tensor] of st.tensors) params[n] = { shape: tensor.shape, data: Float32Array.from(toFloat64(tensor)) };
  const config: TransformerConfig = {
    vocabSize: 256,
    embeddingDim: 32,
    numLayers: 2,
    numHeads: 4,
    wideningFactor: 4,
    embInitScale: 0.02,
    positionalEncoding: 'sinusoidal',
  };
  exportLmicParams(join(dir, 'params.npz'), config, params);
  const repo = join(dir, 'repo');
  mkdirSync(repo);
  assert.equal((await runCli(['import', 'lmic', join(dir, 'params.npz'), '-o', join(repo, 'model.safetensors'), '--heads', '4'])).code, 0);
  const hub = await startTestHub([{ name: 'someone/lmic-d32', dir: repo, files: ['model.safetensors'] }]);
  const env = { HF_ENDPOINT: hub.endpoint, HF_HOME: join(dir, 'hf'), HF_HUB_OFFLINE: '', HF_HUB_CACHE: '', HUGGINGFACE_HUB_CACHE: '' };
  try {
    const samples = new Uint8Array(1500).map((_, i) => 128 + Math.round(50 * Math.sin(i / 5)));
    const wav = encodeWav({ sampleRate: 8000, channels: 1, frames: samples.length, sampleType: 'uint8', bitsPerSample: 8, samples });
    writeFileSync(join(dir, 'in.wav'), wav);
    const c = await runCli([
      'compress',
      join(dir, 'in.wav'),
      '-m',
      join(repo, 'model.safetensors'),
      '-o',
      join(dir, 'in.wlm'),
      '--workers',
      '1',
    ]);
    assert.equal(c.code, 0, c.stderr);
    const d = await runCli(['decompress', join(dir, 'in.wlm'), '-m', 'someone/lmic-d32', '-o', join(dir, 'out.wav'), '--workers', '1'], {
      env,
    });
    assert.equal(d.code, 0, d.stderr);
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'out.wav'))), wav);
    // eval's lm: takes the same id, from the cache now.
    const e = await runCli(
      ['--json', 'eval', '--lossless', '--files', join(dir, 'in.wav'), '--compressors', 'lm:someone/lmic-d32', '--workers', '1'],
      { env: { ...env, HF_HUB_OFFLINE: '1' } },
    );
    assert.equal(e.code, 0, e.stderr);
    const results = (JSON.parse(e.stdout) as { results: { compressedBytes: number }[] }).results;
    assert.equal(results[0]!.compressedBytes, readFileSync(join(dir, 'in.wlm')).length);
  } finally {
    await hub.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
