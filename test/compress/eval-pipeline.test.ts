/** `wavelm eval` on any configuration `chunks` and `train` accept: the same chunk bytes for every compressor. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadAudio, sliceFrames } from '../../src/audio/index.js';
import { decodeFlac } from '../../src/audio/decoders.js';
import { flac, flacInput } from '../../src/compress/baselines/flac.js';
import { pipelineChunks } from '../../src/compress/data.js';
import { createAudioTransformerConfig, initParams } from '../../src/model/transformer.js';
import { writeSafetensors } from '../../src/util/safetensors.js';
import { projectRoot, sharedPath } from '../helpers/shared.js';

const dir = mkdtempSync(join(tmpdir(), 'wavelm-eval-pipeline-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function wavelm(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(projectRoot, 'src/cli/main.ts'), ...args], {
    encoding: 'utf8',
    cwd: projectRoot,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface EvalJson {
  chunks: number;
  channels: number;
  pipeline: { bitDepth: number; blockingSize: number; chunkSizeBytes: number; channelMode: string };
  results: { compressor: string; rawBytes: number; chunked: { rate: number }; unchunked?: { rate: number } }[];
}

/**
 * Python's figures on the same 400 chunks (16-bit, --channel-mode block, 1024-sample blocks, 2048-byte
 * chunks of test_48k.wav), measured once with Debian's Python 3.11.2 and flac 1.4.2 on chunks written by
 *   wavelm chunks ../shared/data/music/encodec/test_48k.wav --bit-depth 16 --channel-mode block \
 *     --blocking-size 1024 --chunk-size 2048 --num-chunks 400 -o t48-400.bin      (sha256 d32c175b...a1fd)
 * and compress.py's chunked rate, (sum of len(c(chunk)) - len(c(one zero sample)) * (n - 1)) / raw:
 *   gzip.compress(x, 9): 95.12 %; lzma.compress(x): 93.19 %;
 *   flac -8 --no-padding --no-seektable --force-raw-format --endian=little --sign=signed --channels=1
 *     --bps=16 --sample-rate=48000 (each 2048-byte chunk is one channel's 1024-sample block): 41.59 %.
 * (Unchunked: gzip 92.47 %, lzma 83.17 %, flac as de-blocked stereo 40.92 %.)
 */
const PYTHON_CHUNKED = { gzip: 0.9512, lzma: 0.9319, flac: 0.4159 };

test('eval with --bit-depth 16 --channel-mode block: gzip, lzma and FLAC within a point of Python and libFLAC', (t) => {
  const music = sharedPath(t, 'data', 'music', 'encodec', 'test_48k.wav');
  if (!music) return;
  const r = wavelm([
    '--json',
    'eval',
    '--files',
    music,
    '--bit-depth',
    '16',
    '--channel-mode',
    'block',
    '--blocking-size',
    '1024',
    '--chunk-size',
    '2048',
    '--max-chunks',
    '400',
    '-c',
    'gzip,lzma,flac',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const ev = JSON.parse(r.stdout) as EvalJson;
  assert.equal(ev.chunks, 400);
  assert.equal(ev.channels, 2);
  assert.deepEqual(
    [ev.pipeline.bitDepth, ev.pipeline.blockingSize, ev.pipeline.chunkSizeBytes, ev.pipeline.channelMode],
    [16, 1024, 2048, 'block'],
  );
  for (const res of ev.results) {
    assert.equal(res.rawBytes, 400 * 2048);
    const python = PYTHON_CHUNKED[res.compressor as keyof typeof PYTHON_CHUNKED];
    assert.ok(
      Math.abs(res.chunked.rate - python) < 0.01,
      `${res.compressor}: ${(100 * res.chunked.rate).toFixed(2)} % against Python's ${(100 * python).toFixed(2)} %`,
    );
  }
});

test('FLAC codes blocked 16-bit chunks as the stereo they came from when a chunk holds whole block pairs', async (t) => {
  const music = sharedPath(t, 'data', 'music', 'encodec', 'test_48k.wav');
  if (!music) return;
  const data = await pipelineChunks(
    [music],
    { bitDepth: 16, channelMode: 'block', blockingSize: 1024, chunkSizeBytes: 4096 },
    { maxChunks: 3 },
  );
  assert.equal(data.channels, 2);
  const ctx = { sampleRate: data.sampleRate, bitDepth: 16 as const, channels: data.channels, blockingSize: 1024 };
  const original = await loadAudio(music);
  await flac.init!();
  for (const k of [0, 2]) {
    const { channels } = flacInput(data.chunks[k]!, ctx);
    assert.equal(channels, 2);
    const decoded = (await decodeFlac(flac.compress(data.chunks[k]!, ctx), `chunk ${k}`)).audio;
    assert.deepEqual([decoded.channels, decoded.frames, decoded.bitsPerSample], [2, 1024, 16]);
    assert.deepEqual(
      decoded.samples,
      sliceFrames(original, 1024 * k, 1024 * (k + 1)).samples,
      `chunk ${k} is frames ${1024 * k}.. of the file`,
    );
  }
  // Half a pair (a 2048-byte chunk holds one channel's block) stays one channel, in stream order.
  const half = data.chunks[0]!.subarray(0, 2048);
  const mono = (await decodeFlac(flac.compress(half, ctx), 'half')).audio;
  assert.equal(mono.channels, 1);
  assert.deepEqual(new Uint8Array(mono.samples.buffer, mono.samples.byteOffset, mono.samples.byteLength), half);
});

function model(path: string, bitDepth: 8 | 16): void {
  const config = createAudioTransformerConfig({ bitDepth, embeddingDim: 16, numLayers: 1, numHeads: 2, wideningFactor: 2 });
  const params = initParams(config, 1);
  writeSafetensors(path, Object.fromEntries(Object.entries(params).map(([k, v]) => [k, { shape: v.shape, data: v.data }])), {
    config: JSON.stringify(config),
  });
}

test('eval takes lm: models of either vocabulary, each only with chunks of its bit depth', (t) => {
  const speech = sharedPath(t, 'data', 'speech', 'arctic', 'arctic_a0010.wav');
  if (!speech) return;
  const m16 = join(dir, 'm16.safetensors');
  const m8 = join(dir, 'm8.safetensors');
  model(m16, 16);
  model(m8, 8);
  const ok = wavelm([
    '--json',
    'eval',
    '--files',
    speech,
    '--bit-depth',
    '16',
    '--chunk-size',
    '512',
    '--max-chunks',
    '2',
    '-c',
    `gzip,lm:${m16}`,
    '--workers',
    '1',
  ]);
  assert.equal(ok.status, 0, ok.stderr);
  const ev = JSON.parse(ok.stdout) as EvalJson;
  assert.equal(ev.chunks, 2);
  const lm = ev.results.find((r) => r.compressor === `lm:${m16}`)!;
  assert.equal(lm.rawBytes, 1024);
  // An untrained model spreads its bets over 65,536 tokens: about 16 bits per 16-bit token.
  assert.ok(lm.chunked.rate > 0.9 && lm.chunked.rate < 1.2, `rate ${lm.chunked.rate}`);
  const wide = wavelm(['eval', '--files', speech, '-c', `lm:${m16}`]);
  assert.equal(wide.status, 2);
  assert.match(wide.stderr, /16-bit model \(vocabulary 65536\) cannot code 8-bit chunks; give --bit-depth 16/);
  const narrow = wavelm(['eval', '--files', speech, '--bit-depth', '16', '-c', `lm:${m8}`]);
  assert.equal(narrow.status, 2);
  assert.match(narrow.stderr, /8-bit model \(vocabulary 256\) cannot code 16-bit chunks; give --bit-depth 8/);
});
