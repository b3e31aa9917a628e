import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChunkRunner } from '../../src/compress/parallel.js';
import { evaluateLossless } from '../../src/compress/lossless.js';
import { createHash } from 'node:crypto';
import { compressAudio, decompressAudio, readArchiveInfo, WLM_VERSION, type CompressionModel } from '../../src/compress/archive.js';
import { WavelmError } from '../../src/util/errors.js';
import { sharedPath } from '../helpers/shared.js';

const MODULE = new URL('./order1-predictor.ts', import.meta.url).href;
const h = (s: string): Uint8Array => new Uint8Array(createHash('sha256').update(s).digest());

function model(vocabSize = 256, prior = 0.5, tag = 'a'): CompressionModel {
  return {
    spec: { module: MODULE, exportName: 'createOrder1', args: { vocabSize, prior } },
    vocabSize,
    weightsSha256: h(`w${vocabSize}${tag}`),
    configSha256: h(`c${vocabSize}`),
    name: `order1-${tag}`,
  };
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A WAV with a LIST chunk before the data, optional odd pad byte and trailing bytes after the data chunk. */
function wav(bits: 8 | 16, channels: number, frames: number, opts: { trailing?: number; seed?: number } = {}): Uint8Array {
  const rnd = lcg(opts.seed ?? 1);
  const bps = bits / 8;
  const dataLen = frames * channels * bps;
  const list = new TextEncoder().encode('LIST\x0a\x00\x00\x00INFOabcdef');
  const pad = dataLen & 1;
  const trailing = opts.trailing ?? 0;
  const total = 12 + 24 + list.length + 8 + dataLen + pad + trailing;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set(new TextEncoder().encode('RIFF'), 0);
  dv.setUint32(4, total - 8 - trailing, true);
  out.set(new TextEncoder().encode('WAVEfmt '), 8);
  dv.setUint32(16, 16, true);
  dv.setUint16(20, 1, true);
  dv.setUint16(22, channels, true);
  dv.setUint32(24, 8000, true);
  dv.setUint32(28, 8000 * channels * bps, true);
  dv.setUint16(32, channels * bps, true);
  dv.setUint16(34, bits, true);
  out.set(list, 36);
  let p = 36 + list.length;
  out.set(new TextEncoder().encode('data'), p);
  dv.setUint32(p + 4, dataLen, true);
  p += 8;
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < channels; c++) {
      const v = Math.sin(f / (7 + c * 3)) * 0.5 + (rnd() - 0.5) * 0.05;
      if (bits === 8) out[p++] = Math.max(0, Math.min(255, Math.round(128 + 127 * v)));
      else {
        dv.setInt16(p, Math.round(32767 * v * (f % 300 < 100 ? 0.002 : 1)), true);
        p += 2;
      }
    }
  }
  p += pad;
  for (let i = 0; i < trailing; i++) out[p++] = Math.floor(rnd() * 256);
  return out;
}

async function roundTrip(input: Uint8Array, m: CompressionModel, chunkLength: number, workers = 1): Promise<Uint8Array> {
  const { archive, stats } = await compressAudio(input, m, { chunkLength, workers });
  assert.equal(stats.archiveBytes, archive.length);
  const back = await decompressAudio(archive, m, { workers });
  assert.deepEqual(back, input);
  return archive;
}

test('8-bit mono and stereo WAVs round-trip byte for byte, chunk multiples or not', async () => {
  for (const [ch, frames] of [
    [1, 1024],
    [1, 1000],
    [2, 777],
    [2, 512],
  ] as const) {
    const input = wav(8, ch, frames, { trailing: frames % 3 });
    const a = await roundTrip(input, model(), 256);
    if (frames === 1024) assert.ok(a.length < input.length, `${a.length} vs ${input.length}`);
  }
});

test('16-bit audio round-trips through the 8-bit model (hi8lo) and through a 16-bit model (u16)', async () => {
  const input = wav(16, 2, 600, { trailing: 5 });
  await roundTrip(input, model(), 256);
  const info = readArchiveInfo((await compressAudio(input, model(), { chunkLength: 256 })).archive);
  assert.equal(info.settings.mode, 'hi8lo');
  assert.equal(info.chunkLengths.length, 6); // 3 chunks per channel, the last one short
  const mono = wav(16, 1, 300);
  const a16 = await roundTrip(mono, model(65536), 128);
  assert.equal(readArchiveInfo(a16).settings.mode, 'u16');
  await assert.rejects(
    compressAudio(wav(8, 1, 100), model(65536), { chunkLength: 64 }),
    (e: unknown) => e instanceof WavelmError && e.code === 'EUNSUPPORTED',
  );
});

test('random bytes: non-WAV input needs allowRaw, then round-trips; files shorter than a chunk and empty files', async () => {
  const rnd = lcg(5);
  const input = Uint8Array.from({ length: 1500 }, () => Math.floor(rnd() * 256));
  await assert.rejects(
    compressAudio(input, model(), { chunkLength: 256 }),
    (e: unknown) => e instanceof WavelmError && e.code === 'EUNSUPPORTED',
  );
  const { archive } = await compressAudio(input, model(), { chunkLength: 256, allowRaw: true });
  assert.deepEqual(await decompressAudio(archive, model()), input);
  const tiny = wav(8, 1, 10);
  const t = await roundTrip(tiny, model(), 256);
  assert.equal(readArchiveInfo(t).chunkLengths.length, 1);
  assert.equal(readArchiveInfo(await roundTrip(wav(16, 1, 0), model(), 256)).chunkLengths.length, 0);
});

test('wrong model and damaged archives are typed errors, never wrong output', async () => {
  const input = wav(8, 1, 1100, { trailing: 2 });
  const { archive } = await compressAudio(input, model(), { chunkLength: 256 });
  await assert.rejects(
    decompressAudio(archive, model(256, 0.5, 'other')),
    (e: unknown) => e instanceof WavelmError && e.code === 'EMISMATCH' && /another model/.test(e.message),
  );
  // Same hashes but different probabilities (a model file altered in place): caught by the SHA-256 of the original.
  const liar: CompressionModel = { ...model(), spec: { ...model().spec, args: { vocabSize: 256, prior: 0.01 } } };
  await assert.rejects(
    decompressAudio(archive, liar),
    (e: unknown) => e instanceof WavelmError && (e.code === 'ECHECKSUM' || e.code === 'EFORMAT'),
  );
  // Flip one bit at many positions across header, table and payload.
  for (let pos = 0; pos < archive.length; pos += Math.max(1, Math.floor(archive.length / 97))) {
    const bad = archive.slice();
    bad[pos]! ^= 1 << (pos % 8);
    await assert.rejects(decompressAudio(bad, model()), (e: unknown) => e instanceof WavelmError, `bit flip at byte ${pos}`);
  }
  await assert.rejects(
    decompressAudio(archive.subarray(0, archive.length - 10), model()),
    (e: unknown) => e instanceof WavelmError && e.code === 'EFORMAT',
  );
  // An archive of an earlier format version (another predictor arithmetic) is refused before decoding.
  const old = archive.slice();
  new DataView(old.buffer).setUint16(4, WLM_VERSION - 1, true);
  await assert.rejects(
    decompressAudio(old, model()),
    (e: unknown) => e instanceof WavelmError && e.code === 'EUNSUPPORTED' && /older wavelm/.test(e.message),
  );
});

test('archives are identical with 1 and 2 workers, and decode on either', async () => {
  const input = wav(16, 2, 2100, { trailing: 1, seed: 9 });
  const a1 = (await compressAudio(input, model(), { chunkLength: 512, workers: 1 })).archive;
  const a2 = (await compressAudio(input, model(), { chunkLength: 512, workers: 2 })).archive;
  assert.deepEqual(a2, a1);
  assert.deepEqual(await decompressAudio(a1, model(), { workers: 2 }), input);
  // One runner reused across files gives the same archives.
  const runner = await ChunkRunner.open(model().spec, 2);
  try {
    const other = wav(8, 1, 3000, { seed: 4 });
    assert.deepEqual((await compressAudio(input, model(), { chunkLength: 512, runner })).archive, a1);
    const b = (await compressAudio(other, model(), { chunkLength: 512, runner })).archive;
    assert.deepEqual(b, (await compressAudio(other, model(), { chunkLength: 512 })).archive);
    assert.deepEqual(await decompressAudio(b, model(), { runner }), other);
  } finally {
    await runner.close();
  }
});

test('whole-file lossless evaluation: FLAC at native depth and .wlm archives, totals over files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wavelm-lossless-'));
  try {
    const files = [wav(16, 1, 3000, { seed: 1 }), wav(16, 2, 1500, { seed: 2 })].map((b, i) => {
      const p = join(dir, `f${i}.wav`);
      writeFileSync(p, b);
      return p;
    });
    const total = files.reduce((a, f) => a + readFileSync(f).length, 0);
    const r = await evaluateLossless(files, [{ kind: 'flac' }, { kind: 'lm', name: 'lm:order1', model: model(), workers: 1 }]);
    assert.deepEqual(
      r.map((x) => x.compressor),
      ['flac', 'lm:order1'],
    );
    for (const x of r) {
      assert.equal(x.originalBytes, total);
      assert.ok(x.rate > 0.05 && x.rate < 1.2, `${x.compressor} ${x.rate}`);
    }
    const wlm =
      (await compressAudio(new Uint8Array(readFileSync(files[0]!)), model())).archive.length +
      (await compressAudio(new Uint8Array(readFileSync(files[1]!)), model())).archive.length;
    assert.equal(r[1]!.compressedBytes, wlm);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a real FSDD recording (16-bit) round-trips', async (t) => {
  const p = sharedPath(t, 'data', 'speech', 'fsdd', 'recordings', '0_jackson_0.wav');
  if (!p) return;
  const input = new Uint8Array(readFileSync(p));
  const a = await roundTrip(input, model(), 2048);
  assert.ok(a.length < input.length);
});
