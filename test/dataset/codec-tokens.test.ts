// codec_tokens(model=...) in a build: ../shared's tiny EnCodec encodes real speech files to the codes
// `wavelm codec encode` makes of them (its library call), the loader reads them back, a rebuild takes
// every sample from the content-hash cache (the encoder is not called), a change of bandwidth or model
// encodes again, and a bad bandwidth or a missing model is a typed error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAudio } from '../../src/audio/index.js';
import { encodecTokenEncoder } from '../../src/cli/encodec-tokens.js';
import { AudioProcessor, encodeFile, writeCodes } from '../../src/codec/index.js';
import { buildDataset } from '../../src/dataset/build.js';
import { parseFieldSpecs } from '../../src/dataset/fields/index.js';
import { Loader } from '../../src/dataset/loader.js';
import { DatasetReader } from '../../src/dataset/reader.js';
import type { CodecTokenEncoderFactory } from '../../src/dataset/token-encoder.js';
import { ConfigError, NotFoundError, WavelmError } from '../../src/util/errors.js';
import { sharedPath } from '../helpers/shared.js';
import { tmp } from './helpers.js';

const SPEECH = ['arctic_a0010.wav', 'cmu_arctic_us_aew_a0001.wav', 'cmu_arctic_us_axb_a0004.wav'];

/** EnCodec's encoder factory, counting the samples it encodes. */
function counting(): { factory: CodecTokenEncoderFactory; calls: () => number } {
  let calls = 0;
  const factory: CodecTokenEncoderFactory = async (request) => {
    const enc = await encodecTokenEncoder(request);
    return {
      ...enc,
      encode: (audio) => {
        calls += 1;
        return enc.encode(audio);
      },
    };
  };
  return { factory, calls: () => calls };
}

/** Every sample's codes field as decoded by the reader: [n_codebooks, frames] flattened, and the shape. */
async function codesOf(path: string): Promise<{ shape: number[]; data: number[] }[]> {
  const r = DatasetReader.open(path);
  try {
    const out = [];
    for (let i = 0; i < r.numSamples; i++) {
      const v = (await r.get(i, ['codes'])).codes!;
      assert.ok(v.kind === 'array');
      out.push({ shape: v.shape, data: Array.from(v.data) });
    }
    return out;
  } finally {
    await r.close();
  }
}

test('codec_tokens(model=...): the codes of codec encode, read back by the loader, from the cache on a rebuild', async (t) => {
  const model = sharedPath(t, 'fixtures', 'encodec', 'encodec_24khz_tiny');
  const model48 = sharedPath(t, 'fixtures', 'encodec', 'encodec_48khz_tiny');
  const speech = sharedPath(t, 'data', 'speech', 'arctic');
  if (!model || !model48 || !speech) return;
  const files = SPEECH.map((n) => join(speech, n));
  const out = tmp('codec-field-');
  const cacheDir = join(out, 'cache');
  const spec = (m: string, bw: number) => parseFieldSpecs(`codes=codec_tokens(model=${m},bandwidth=${bw}),waveform`);
  const enc = counting();

  const first = await buildDataset(files, { out: join(out, 'a.wlds'), fields: spec(model, 6), codecTokenEncoder: enc.factory, cacheDir });
  assert.equal(enc.calls(), 3);
  assert.deepEqual(first.codecTokens, { encoded: 3, cached: 0 });
  const proc = AudioProcessor.load(model);
  const expected = await Promise.all(files.map((p) => encodeFile(proc, p, { bandwidth: 6 })));
  const got = await codesOf(first.shards[0]!.path);
  for (const [i, f] of expected.entries()) {
    assert.deepEqual(got[i]!.shape, f.sidecar.shape, `${SPEECH[i]}: [codebooks, frames] of codec encode`);
    assert.deepEqual(got[i]!.data, Array.from(f.codes), `${SPEECH[i]}: the codes of codec encode`);
  }
  // The arctic files are 16 kHz: these codes went through codec encode's resampling to 24 kHz.
  assert.equal((await loadAudio(files[0]!)).sampleRate, 16000);

  const r = DatasetReader.open(first.shards[0]!.path);
  assert.deepEqual(r.fields[0]!.args, {
    codec: model,
    n_codebooks: 8,
    vocab_size: 1024,
    frame_rate: 75,
    bandwidth: 6,
    encoder: r.fields[0]!.args.encoder,
  });
  assert.match(String(r.fields[0]!.args.encoder), /^encodec:v\d+:[0-9a-f]{64}:6kbps$/);
  await r.close();

  const loader = new Loader(first.shards[0]!.path, { order: 'sequential', batchSize: 3, fields: ['codes'] });
  const batches = [];
  for await (const b of loader) batches.push(b);
  await loader.close();
  assert.equal(batches.length, 1);
  const codes = batches[0]!.fields.codes!;
  assert.ok(codes.kind === 'array');
  const data: ArrayLike<number> = codes.data;
  const F = Math.max(...expected.map((f) => f.sidecar.frames));
  assert.deepEqual(codes.shape, [3, 8, F]);
  for (const [j, f] of expected.entries()) {
    assert.equal(codes.lengths[j], f.sidecar.frames);
    for (let q = 0; q < 8; q++) {
      const row = Array.from(data).slice((j * 8 + q) * F, (j * 8 + q) * F + f.sidecar.frames);
      assert.deepEqual(
        row,
        Array.from(f.codes.subarray(q * f.sidecar.frames, (q + 1) * f.sidecar.frames)),
        `loader: sample ${j} codebook ${q}`,
      );
    }
  }

  // The same settings again, with encoding workers for the waveform: every sample from the cache, the same bytes.
  const again = await buildDataset(files, {
    out: join(out, 'b.wlds'),
    fields: spec(model, 6),
    codecTokenEncoder: enc.factory,
    cacheDir,
    workers: 2,
  });
  assert.equal(enc.calls(), 3, 'a rebuild with the same model and bandwidth does not call the encoder');
  assert.deepEqual(again.codecTokens, { encoded: 0, cached: 3 });
  // Without the cache, 2 workers: EnCodec runs on 2 threads of its own, and the file is the same.
  const parallel = await buildDataset(files, {
    out: join(out, 'p.wlds'),
    fields: spec(model, 6),
    codecTokenEncoder: enc.factory,
    workers: 2,
  });
  assert.equal(enc.calls(), 6);
  assert.ok(readFileSync(parallel.shards[0]!.path).equals(readFileSync(first.shards[0]!.path)));
  assert.ok(readFileSync(again.shards[0]!.path).equals(readFileSync(first.shards[0]!.path)));

  // Another bandwidth, another model: encoded again.
  const bw3 = await buildDataset(files, { out: join(out, 'c.wlds'), fields: spec(model, 3), codecTokenEncoder: enc.factory, cacheDir });
  assert.equal(enc.calls(), 9);
  const low = await codesOf(bw3.shards[0]!.path);
  assert.deepEqual(
    low.map((c) => c.shape),
    expected.map((f) => [4, f.sidecar.frames]),
  );
  // The 48 kHz model cuts audio into 1 s segments, which its 2 threads share: still codec encode's codes.
  const stereo = await buildDataset(files, {
    out: join(out, 'd.wlds'),
    fields: spec(model48, 6),
    codecTokenEncoder: enc.factory,
    cacheDir,
    workers: 2,
  });
  assert.equal(enc.calls(), 12);
  const proc48 = AudioProcessor.load(model48);
  const got48 = await codesOf(stereo.shards[0]!.path);
  for (const [i, p] of files.entries())
    assert.deepEqual(got48[i]!.data, Array.from((await encodeFile(proc48, p, { bandwidth: 6 })).codes), `48 kHz: ${SPEECH[i]}`);

  // The .npy route stays: codec encode's files named in a manifest give the same dataset field.
  const manifest = join(out, 'codes.jsonl');
  writeFileSync(
    manifest,
    files
      .map((p, i) => {
        writeCodes(join(out, `${i}.codes.npy`), expected[i]!);
        return JSON.stringify({ path: p, codes: `${i}.codes.npy` });
      })
      .join('\n'),
  );
  const npy = await buildDataset([manifest], { out: join(out, 'e.wlds'), fields: parseFieldSpecs('codes=codec_tokens(n_codebooks=8)') });
  assert.deepEqual(await codesOf(npy.shards[0]!.path), got);
});

test('codec_tokens(model=...) on segments: each segment is encoded and cached on its own', async (t) => {
  const model = sharedPath(t, 'fixtures', 'encodec', 'encodec_24khz_tiny');
  const speech = sharedPath(t, 'data', 'speech', 'arctic');
  if (!model || !speech) return;
  const file = join(speech, SPEECH[1]!);
  const out = tmp('codec-field-');
  const enc = counting();
  const opts = {
    fields: parseFieldSpecs(`codes=codec_tokens(model=${model},bandwidth=1.5)`),
    segmentSeconds: 1,
    codecTokenEncoder: enc.factory,
    cacheDir: join(out, 'cache'),
  };
  const built = await buildDataset([file], { ...opts, out: join(out, 'a.wlds') });
  const audio = await loadAudio(file);
  const segments = Math.ceil(audio.frames / audio.sampleRate);
  assert.equal(built.plan.samples, segments);
  assert.equal(enc.calls(), segments);
  const got = await codesOf(built.shards[0]!.path);
  const proc = AudioProcessor.load(model);
  for (let s = 0; s < segments; s++) {
    const part = await loadAudio(file, { startFrame: s * audio.sampleRate, endFrame: Math.min(audio.frames, (s + 1) * audio.sampleRate) });
    assert.deepEqual(got[s]!.data, Array.from(proc.audioToFeatures(part, { bandwidth: 1.5 }).codes), `segment ${s}`);
  }
  await buildDataset([file], { ...opts, out: join(out, 'b.wlds') });
  assert.equal(enc.calls(), segments);
});

test('codec_tokens(model=...): a bandwidth the model lacks, a missing model or no encoder is a typed error before writing', async (t) => {
  const model = sharedPath(t, 'fixtures', 'encodec', 'encodec_24khz_tiny');
  const speech = sharedPath(t, 'data', 'speech', 'arctic');
  if (!model || !speech) return;
  const out = tmp('codec-field-');
  const build = (fields: string, withEncoder = true) =>
    buildDataset([join(speech, SPEECH[0]!)], {
      out: join(out, 'x.wlds'),
      fields: parseFieldSpecs(fields),
      ...(withEncoder ? { codecTokenEncoder: (r) => encodecTokenEncoder(r) } : {}),
    });
  await assert.rejects(build(`codes=codec_tokens(model=${model},bandwidth=5)`), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.match(
      e.message,
      new RegExp(
        /^field 'codes': bandwidth=5 is not one of the target bandwidths of /.source +
          /.*encodec_24khz_tiny \(1\.5, 3, 6, 12, 24 kbps\); give one of those$/.source,
      ),
    );
    return true;
  });
  await assert.rejects(
    build(`codes=codec_tokens(model=${join(out, 'no-such-model')})`),
    (e: unknown) => e instanceof NotFoundError && /no-such-model: no such file or folder/.test(e.message),
  );
  await assert.rejects(
    build(`codes=codec_tokens(model=${model},n_codebooks=4)`),
    /n_codebooks=4 disagrees with the model .* which gives 8/,
  );
  await assert.rejects(
    build(`codes=codec_tokens(model=${model})`, false),
    (e: unknown) => e instanceof ConfigError && /needs an encoder: pass codecTokenEncoder/.test(e.message),
  );
  assert.equal(existsSync(join(out, 'x.wlds')), false);
});

test('codec_tokens(model=...): an unreadable file stops the build, or is left out under skipUnreadable', async (t) => {
  const model = sharedPath(t, 'fixtures', 'encodec', 'encodec_24khz_tiny');
  const speech = sharedPath(t, 'data', 'speech', 'arctic');
  if (!model || !speech) return;
  const out = tmp('codec-field-');
  const dir = join(out, 'in');
  mkdirSync(dir);
  copyFileSync(join(speech, SPEECH[0]!), join(dir, 'a.wav'));
  writeFileSync(join(dir, 'b.wav'), 'RIFF....WAVEnot audio at all');
  const opts = {
    fields: parseFieldSpecs(`codes=codec_tokens(model=${model},bandwidth=1.5),name=string(from=name)`),
    codecTokenEncoder: counting().factory,
    cacheDir: join(out, 'cache'),
  };
  await assert.rejects(
    buildDataset([dir], { ...opts, out: join(out, 'x.wlds') }),
    (e: unknown) => e instanceof WavelmError && e.code === 'EFORMAT' && e.message.includes('b.wav'),
  );
  const kept = await buildDataset([dir], { ...opts, out: join(out, 'y.wlds'), skipUnreadable: true, workers: 2 });
  assert.deepEqual(
    kept.skipped.map((s) => s.key),
    ['b.wav'],
  );
  assert.equal(kept.shards[0]!.samples, 1);
});
