/**
 * wavelm's lossless codec: every input kind restores exactly, archives do not depend on the worker
 * count, a pinned archive hash guards the bitstream, and damaged or crafted archives are refused before
 * any decoding work.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWavHeader } from '../../src/audio/index.js';
import { compressLossless, decompressLossless } from '../../src/compress/lossless/codec.js';
import { readLossless, writeCoded, type CodedArchive } from '../../src/compress/lossless/container.js';
import { canonicalWavHeader, packInto, readPcmImage } from '../../src/compress/lossless/pcm-image.js';
import { defaultCodecPrior, parseCodecPrior, serializeCodecPrior, trainCodecPrior } from '../../src/compress/lossless/prior.js';
import { crc32c } from '../../src/util/crc32c.js';
import { WavelmError } from '../../src/util/errors.js';
import { sharedPath } from '../helpers/shared.js';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A plain PCM WAV of a noisy two-tone signal at `bits` (8 to 32) and `channels`. */
function toneWav(bits: number, channels: number, frames: number, seed = 1): Uint8Array {
  const rnd = lcg(seed);
  const amp = 0.4 * 2 ** (bits - 1);
  const samples = new Int32Array(frames * channels);
  for (let t = 0; t < frames; t++)
    for (let c = 0; c < channels; c++)
      samples[t * channels + c] = Math.round(
        amp * (Math.sin(0.03 * t * (c + 1)) * 0.7 + 0.2 * Math.sin(0.21 * t)) + (rnd() - 0.5) * Math.min(64, 2 ** (bits - 9)),
      );
  const header = canonicalWavHeader({ sampleRate: 16000, channels, bitsPerSample: bits, frames });
  const out = new Uint8Array(44 + samples.length * (bits / 8));
  out.set(header);
  packInto(out.subarray(44), samples, bits, false, bits === 8);
  return out;
}

async function roundTrip(
  bytes: Uint8Array,
  name: string,
  workers = 1,
): Promise<{ archive: Uint8Array; restored: Uint8Array; kind: string }> {
  const { archive, stats } = await compressLossless(bytes, { name, workers });
  const back = await decompressLossless(archive, { name, workers });
  return { archive, restored: back.bytes, kind: stats.kind };
}

for (const [bits, channels] of [
  [8, 1],
  [16, 1],
  [16, 2],
  [24, 2],
  [32, 1],
  [16, 6],
] as const) {
  test(`lossless codec: ${bits}-bit ${channels}-channel WAV restores byte for byte and shrinks`, async () => {
    const wav = toneWav(bits, channels, 6000, bits + channels);
    const { archive, restored, kind } = await roundTrip(wav, `tone${bits}x${channels}.wav`);
    assert.deepEqual(restored, wav);
    assert.equal(kind, 'wav');
    assert.ok(archive.length < 0.6 * wav.length, `${archive.length} bytes for ${wav.length}`);
  });
}

test('lossless codec: a pinned archive (the bitstream is part of the format: a change here orphans archives)', async () => {
  const { archive } = await compressLossless(toneWav(16, 2, 3000, 7), { name: 'pinned.wav' });
  assert.equal(createHash('sha256').update(archive).digest('hex').slice(0, 16), PINNED_SHA256_PREFIX);
});
const PINNED_SHA256_PREFIX = '273487da39199c9a';

test('lossless codec: the archive is the same for 1 and 2 workers, and across segment boundaries', async (t) => {
  const p = sharedPath(t, 'data', 'music', 'encodec', 'test_48k.wav');
  if (!p) return;
  const wav = new Uint8Array(readFileSync(p));
  const one = await compressLossless(wav, { name: p, workers: 1, level: 'fast' });
  const two = await compressLossless(wav, { name: p, workers: 2, level: 'fast' });
  assert.deepEqual(one.archive, two.archive);
  const a = readLossless(one.archive, p);
  assert.ok(a.kind !== 'stored' && a.segments.length > 1, 'a 15 s stereo file spans several segments');
  const back = await decompressLossless(two.archive, { name: p, workers: 2 });
  assert.deepEqual(back.bytes, wav);
});

test('lossless codec: real WAV and AIFF files from other projects restore byte for byte', async (t) => {
  const dir = sharedPath(t, 'data', 'odd', 'go-audio-wav', 'fixtures');
  if (!dir) return;
  for (const f of ['8bit.wav', 'bloop.aif', 'padded24b.wav', 'listinfo.wav', '32bit.wav', 'bwf.wav']) {
    const bytes: Uint8Array = new Uint8Array(readFileSync(`${dir}/${f}`));
    const { restored, archive } = await roundTrip(bytes, f);
    assert.deepEqual(restored, bytes, f);
    assert.ok(archive.length < bytes.length, `${f}: ${archive.length} >= ${bytes.length}`);
  }
});

/** `wav` (a canonical 44-byte-header PCM WAV) as RIFX: the same fields and samples, big-endian. */
function rifxOf(wav: Uint8Array, bits: number): Uint8Array {
  const out = wav.slice();
  out.set(new TextEncoder().encode('RIFX'), 0);
  const le = new DataView(wav.buffer, wav.byteOffset, wav.byteLength);
  const be = new DataView(out.buffer);
  for (const o of [4, 16, 24, 28, 40]) be.setUint32(o, le.getUint32(o, true), false);
  for (const o of [20, 22, 32, 34]) be.setUint16(o, le.getUint16(o, true), false);
  for (let i = 44; i + bits / 8 <= out.length; i += bits / 8) out.subarray(i, i + bits / 8).reverse();
  return out;
}

/** `wav` (canonical header) as RF64: a ds64 chunk holding the sizes, 0xFFFFFFFF in the 32-bit fields. */
function rf64Of(wav: Uint8Array, bits: 8 | 16 | 24 | 32, channels: number): Uint8Array {
  const frames = (wav.length - 44) / ((bits / 8) * channels);
  const header = encodeWavHeader({ sampleRate: 16000, channels, bits, float: false, extensible: false }, frames, 'rf64');
  const out = new Uint8Array(header.length + wav.length - 44);
  out.set(header);
  out.set(wav.subarray(44), header.length);
  return out;
}

test('lossless codec: RIFX (big-endian) and RF64 WAV are coded as PCM and restore byte for byte', async (t) => {
  for (const [bits, channels] of [
    [16, 2],
    [24, 1],
    [8, 1],
  ] as const) {
    const wav = toneWav(bits, channels, 6000, bits);
    const want = (await readPcmImage(wav, 'le.wav')).samples;
    for (const [label, bytes] of [
      ['RIFX', rifxOf(wav, bits)],
      ['RF64', rf64Of(wav, bits, channels)],
    ] as const) {
      const where = `${label} ${bits}-bit ${channels}-channel`;
      const image = await readPcmImage(bytes, where);
      assert.deepEqual(image.samples, want, where);
      const { archive, restored, kind } = await roundTrip(bytes, where);
      assert.equal(kind, 'wav', where);
      assert.deepEqual(restored, bytes, where);
      assert.ok(archive.length < 0.9 * bytes.length, `${where}: ${archive.length} of ${bytes.length}`);
    }
  }
  // scipy's test files: one recording as little-endian RIFF, RIFX and RF64 gives the same samples.
  const dir = sharedPath(t, 'data', 'odd', 'scipy-wavfile', 'scipy', 'io', 'tests', 'data');
  if (!dir) return;
  for (const [riff, others] of [
    ['test-44100Hz-le-1ch-4bytes.wav', ['test-44100Hz-be-1ch-4bytes.wav', 'test-44100Hz-le-1ch-4bytes-rf64.wav']],
    ['test-8000Hz-le-3ch-5S-24bit.wav', ['test-8000Hz-be-3ch-5S-24bit.wav', 'test-8000Hz-le-3ch-5S-24bit-rf64.wav']],
  ] as const) {
    const want: Int32Array = (await readPcmImage(new Uint8Array(readFileSync(join(dir, riff))), riff)).samples;
    for (const f of others) {
      const bytes: Uint8Array = new Uint8Array(readFileSync(join(dir, f)));
      assert.deepEqual((await readPcmImage(bytes, f)).samples, want, f);
      assert.deepEqual((await roundTrip(bytes, f)).restored, bytes, f);
    }
  }
});

test('lossless codec: FLAC input restores its samples exactly (MD5 as FLAC records it), as WAV', async (t) => {
  const flac = sharedPath(t, 'data', 'encoded', 'kick_24bit.flac');
  const wavPath = sharedPath(t, 'data', 'odd', 'go-audio-wav', 'fixtures', 'kick.wav');
  if (!flac || !wavPath) return;
  const bytes = new Uint8Array(readFileSync(flac));
  const image = await readPcmImage(bytes, flac);
  const { archive, restored, kind } = await roundTrip(bytes, flac);
  assert.equal(kind, 'flac');
  const back = await readPcmImage(restored, 'restored.wav');
  assert.equal(back.kind, 'wav');
  assert.deepEqual(back.samples, image.samples);
  assert.equal(back.bitsPerSample, 24);
  assert.ok(archive.length < bytes.length, 'smaller than the FLAC file itself (its two channels are equal)');
});

test('lossless codec: a FLAC behind an ID3v2 tag is coded as the bare stream and restores the same WAV', async () => {
  const { encodeFlacAsync } = await import('../../src/audio/encoders/flac.js');
  const pcm = Int16Array.from({ length: 12000 }, (_, i) => Math.round(8000 * Math.sin(i / 17) + 500 * Math.sin(i / 3)));
  const bare = await encodeFlacAsync(pcm, { sampleRate: 16000, channels: 1, bitsPerSample: 16 });
  const tag = Uint8Array.from([0x49, 0x44, 0x33, 3, 0, 0, 0, 0, 0, 12, ...new Uint8Array(12)]); // ID3v2.3, 12 bytes of padding
  const tagged = Uint8Array.from([...tag, ...bare]);
  const a = await roundTrip(bare, 'bare.flac');
  const b = await roundTrip(tagged, 'tagged.flac');
  assert.equal(b.kind, 'flac');
  assert.deepEqual(b.restored, a.restored);
  assert.deepEqual((await readPcmImage(b.restored, 'restored.wav')).samples, Int32Array.from(pcm));
});

test('lossless codec: what cannot be coded is stored (10 bytes over) or refused with a typed error', async (t) => {
  const noise = toneWav(16, 1, 200);
  const rnd = lcg(9);
  for (let i = 44; i < noise.length; i++) noise[i] = Math.floor(rnd() * 256);
  noise[28] = 1; // a byte rate no writer would give: the header is kept verbatim, not regenerated
  const stored = await roundTrip(noise, 'noise.wav');
  assert.equal(stored.kind, 'stored');
  assert.equal(stored.archive.length, noise.length + 10);
  assert.deepEqual(stored.restored, noise);
  const float = sharedPath(t, 'data', 'odd', 'hound', 'testsamples', 'waveformatex-ieeefloat-44100Hz-mono.wav');
  if (!float) return;
  await assert.rejects(
    compressLossless(new Uint8Array(readFileSync(float)), { name: 'float.wav' }),
    (e: WavelmError) => e.code === 'EUNSUPPORTED' && /float/.test(e.message),
  );
  await assert.rejects(
    compressLossless(new TextEncoder().encode('hello, not audio at all'), { name: 'x.txt' }),
    (e: WavelmError) => e.code === 'EUNSUPPORTED',
  );
});

/** Re-writes a parsed archive with `change` applied (checksums recomputed, so only the bounds can catch it). */
function crafted(archive: Uint8Array, change: (a: CodedArchive) => CodedArchive): Uint8Array {
  const a = readLossless(archive, 'a');
  assert.notEqual(a.kind, 'stored');
  return writeCoded(change(a as CodedArchive));
}

test('lossless archives: damage and crafted sizes are refused before decoding', async () => {
  const { archive } = await compressLossless(toneWav(16, 2, 4000, 3), { name: 'x.wav' });
  // A flipped payload bit: the payload CRC.
  const flipped = archive.slice();
  flipped[flipped.length - 5]! ^= 4;
  await assert.rejects(decompressLossless(flipped, { name: 'flipped' }), (e: WavelmError) => e.code === 'ECHECKSUM');
  // A flipped header byte: the header CRC (or a field check before it).
  const head = archive.slice();
  head[9]! ^= 1;
  await assert.rejects(decompressLossless(head, { name: 'head' }), (e: WavelmError) => e.code === 'ECHECKSUM' || e.code === 'EFORMAT');
  // Valid checksums, inflated frame count: more samples than the payload can hold.
  const inflated = crafted(archive, (a) => ({ ...a, frames: 1e12, segmentFrames: 1e12 }));
  await assert.rejects(
    decompressLossless(inflated, { name: 'inflated' }),
    (e: WavelmError) => e.code === 'EFORMAT' && /cannot|more than/.test(e.message),
  );
  // A segment that claims frames with no payload.
  const empty = crafted(archive, (a) => ({ ...a, segments: [new Uint8Array(0)] }));
  await assert.rejects(decompressLossless(empty, { name: 'empty' }), (e: WavelmError) => e.code === 'EFORMAT');
  // Truncation anywhere.
  for (const n of [3, 20, archive.length - 1])
    await assert.rejects(decompressLossless(archive.subarray(0, n), { name: `cut${n}` }), (e: WavelmError) => e instanceof WavelmError);
  // A channel code that does not fit the sample width (a mode that does not fit): refused.
  const wide = crafted(archive, (a) => ({ ...a, codes: [20, 0] }));
  await assert.rejects(
    decompressLossless(wide, { name: 'wide' }),
    (e: WavelmError) => e.code === 'EFORMAT' && /does not fit/.test(e.message),
  );
});

test('lossless archives: the original checksum catches a restored file that differs', async () => {
  const wav = toneWav(16, 1, 2000, 5);
  const { archive } = await compressLossless(wav, { name: 'y.wav' });
  const a = readLossless(archive, 'y') as CodedArchive;
  const wrong = writeCoded({ ...a, checksum: Uint8Array.of(1, 2, 3, 4) });
  await assert.rejects(decompressLossless(wrong, { name: 'wrong' }), (e: WavelmError) => e.code === 'ECHECKSUM');
  assert.notEqual(crc32c(wav), 0x04030201);
});

test('codec models: the shipped one is the recorded default; another must be given to decode, and a wrong one is refused', async () => {
  const wav = toneWav(16, 1, 3000, 11);
  const shipped = defaultCodecPrior();
  const { archive } = await compressLossless(wav, { name: 'a.wav' });
  assert.deepEqual(readLossless(archive, 'a').kind !== 'stored' && (readLossless(archive, 'a') as CodedArchive).priorId, shipped.id);
  const none = await compressLossless(wav, { name: 'a.wav', prior: null });
  assert.notDeepEqual(none.archive, archive, 'the prior changes the coding');
  assert.deepEqual((await decompressLossless(none.archive, { name: 'none' })).bytes, wav);
  // A model trained on other audio: archives made with it need it.
  const dir = mkdtempSync(join(tmpdir(), 'wavelm-prior-'));
  try {
    const f = join(dir, 'train.wav');
    writeFileSync(f, toneWav(16, 2, 4000, 12));
    const trained = await trainCodecPrior([f, join(dir, 'missing.wav')], { init: shipped, onSkip: () => undefined });
    assert.equal(trained.files, 1);
    const mine = parseCodecPrior(serializeCodecPrior(trained.tables, { trained_on: 'test' }), 'mine.safetensors');
    assert.notDeepEqual(mine.id, shipped.id);
    const withMine = await compressLossless(wav, { name: 'b.wav', prior: mine });
    await assert.rejects(
      decompressLossless(withMine.archive, { name: 'b' }),
      (e: WavelmError) => e.code === 'EMISMATCH' && /pass that model with -m/.test(e.message),
    );
    assert.deepEqual((await decompressLossless(withMine.archive, { name: 'b', prior: mine })).bytes, wav);
    // Not a codec model at all.
    assert.throws(
      () => parseCodecPrior(serializeCodecPrior(trained.tables, { format: 'other' }).slice(0, 40), 'cut'),
      (e: WavelmError) => e instanceof WavelmError,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
