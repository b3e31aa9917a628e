// `wavelm dataset build --fields 'codec_tokens(model=...)'` as a user runs it: the codes `wavelm dataset cat
// --npy` gives back are those `wavelm codec encode` writes for the same file, a second run takes them from
// the cache; a hub id (served on
// 127.0.0.1) gives the same codes as the folder, with the cache in $WAVELM_CACHE_DIR; a bandwidth the
// model lacks exits 2 and a missing model 3, each with one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCodes } from '../../src/codec/index.js';
import { DatasetReader } from '../../src/dataset/reader.js';
import { ENCODEC_FILES } from '../../src/util/hub.js';
import { parseNpy } from '../../src/util/npy.js';
import { startTestHub } from '../helpers/hub-server.js';
import { sharedPath } from '../helpers/shared.js';
import { runCli } from './run.js';

async function firstCodes(path: string): Promise<number[]> {
  const r = DatasetReader.open(path);
  try {
    const v = (await r.get(0, ['codes'])).codes!;
    assert.ok(v.kind === 'array');
    return Array.from(v.data);
  } finally {
    await r.close();
  }
}

test('dataset build codec_tokens(model=DIR|ID): the codes of codec encode; typed exits for a bad bandwidth or model', async (t) => {
  const model = sharedPath(t, 'fixtures', 'encodec', 'encodec_24khz_tiny');
  const wav = sharedPath(t, 'data', 'speech', 'arctic', 'cmu_arctic_us_aew_a0002.wav');
  if (!model || !wav) return;
  const dir = mkdtempSync(join(tmpdir(), 'wavelm-dscodec-'));
  const hub = await startTestHub([{ name: 'facebook/encodec_24khz', dir: model, files: ENCODEC_FILES }]);
  try {
    const built = await runCli([
      '--json',
      'dataset',
      'build',
      wav,
      '-o',
      join(dir, 'a.wlds'),
      '--fields',
      `codes=codec_tokens(model=${model},bandwidth=3)`,
      '--cache-dir',
      join(dir, 'cache'),
    ]);
    assert.equal(built.code, 0, built.stderr);
    assert.equal((JSON.parse(built.stdout) as { plan: { samples: number } }).plan.samples, 1);
    assert.ok(existsSync(join(dir, 'cache', 'codec-tokens')));
    const rebuilt = await runCli([
      '--json',
      'dataset',
      'build',
      wav,
      '-o',
      join(dir, 'b.wlds'),
      '--fields',
      `codes=codec_tokens(model=${model},bandwidth=3)`,
      '--cache-dir',
      join(dir, 'cache'),
    ]);
    assert.equal(rebuilt.code, 0, rebuilt.stderr);
    assert.deepEqual((JSON.parse(rebuilt.stdout) as { codecTokens: unknown }).codecTokens, { encoded: 0, cached: 1 });
    assert.ok(readFileSync(join(dir, 'b.wlds')).equals(readFileSync(join(dir, 'a.wlds'))));
    const encoded = await runCli([
      'codec',
      'encode',
      wav,
      '-m',
      model,
      '-b',
      '3',
      '-o',
      join(dir, 'ref.npy'),
      '--no-cache',
      '--workers',
      '1',
    ]);
    assert.equal(encoded.code, 0, encoded.stderr);
    const ref = readCodes(join(dir, 'ref.npy'));
    const cat = await runCli(['dataset', 'cat', join(dir, 'a.wlds'), '0', '--fields', 'codes', '--npy', join(dir, 'codes.npy')]);
    assert.equal(cat.code, 0, cat.stderr);
    const got = parseNpy(new Uint8Array(readFileSync(join(dir, 'codes.npy'))));
    assert.deepEqual(got.shape, ref.sidecar.shape);
    assert.deepEqual(Array.from(got.data), Array.from(ref.codes));

    const env = {
      HF_ENDPOINT: hub.endpoint,
      HF_HOME: join(dir, 'hf'),
      HF_HUB_OFFLINE: '',
      HF_HUB_CACHE: '',
      HUGGINGFACE_HUB_CACHE: '',
      WAVELM_CACHE_DIR: join(dir, 'env-cache'),
    };
    const byId = await runCli(
      ['dataset', 'build', wav, '-o', join(dir, 'hub.wlds'), '--fields', 'codes=codec_tokens(model=facebook/encodec_24khz,bandwidth=3)'],
      { env },
    );
    assert.equal(byId.code, 0, byId.stderr);
    assert.ok(
      hub.requests.some((r) => r.endsWith('/model.safetensors')),
      'the weights came from the hub',
    );
    assert.ok(existsSync(join(dir, 'env-cache', 'codec-tokens')), 'the cache defaults to $WAVELM_CACHE_DIR');
    assert.deepEqual(await firstCodes(join(dir, 'hub.wlds')), Array.from(ref.codes));

    const badBandwidth = await runCli([
      'dataset',
      'build',
      wav,
      '-o',
      join(dir, 'x.wlds'),
      '--fields',
      `codes=codec_tokens(model=${model},bandwidth=5)`,
      '--no-cache',
    ]);
    assert.equal(badBandwidth.code, 2);
    assert.match(
      badBandwidth.stderr,
      /^wavelm: field 'codes': bandwidth=5 is not one of the target bandwidths of .* \(1\.5, 3, 6, 12, 24 kbps\); give one of those\n$/,
    );
    const missing = await runCli([
      'dataset',
      'build',
      wav,
      '-o',
      join(dir, 'x.wlds'),
      '--fields',
      `codes=codec_tokens(model=${join(dir, 'nothing')})`,
      '--no-cache',
    ]);
    assert.equal(missing.code, 3);
    assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
    assert.equal(existsSync(join(dir, 'x.wlds')), false);
  } finally {
    await hub.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
