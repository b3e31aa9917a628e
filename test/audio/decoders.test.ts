/** Compressed formats: FLAC is sample-exact against its WAV source; lossy formats decode to the right shape and level. */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { defaultAudioDir, loadAudio, readAudioInfo, toFloat32Channels } from '../../src/audio/index.js';
import { findAudioFiles } from '../../src/tokens/index.js';
import { flacEncoderReady } from '../../src/audio/encoders/flac.js';
import { FormatError, UnsupportedError } from '../../src/util/errors.js';
import { sharedPath } from '../helpers/shared.js';

const tmp = mkdtempSync(join(tmpdir(), 'wavelm-dec-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('FLAC is sample-exact', () => {
  const pairs: Array<[string, string[]]> = [
    ['0_jackson_0.flac', ['data', 'speech', 'fsdd', 'recordings', '0_jackson_0.wav']],
    ['kick_24bit.flac', ['data', 'odd', 'go-audio-wav', 'fixtures', 'dirty-kick-24b441k.wav']],
    ['test_24k.flac', ['data', 'music', 'encodec', 'test_24k.wav']],
    ['test_48k_stereo.flac', ['data', 'music', 'encodec', 'test_48k.wav']],
  ];
  for (const [flac, wav] of pairs) {
    test(`${flac} equals ${wav.at(-1)}`, async (t) => {
      const f = sharedPath(t, 'data', 'encoded', flac);
      const w = sharedPath(t, ...wav);
      if (!f || !w) return;
      const a = await loadAudio(f);
      const b = await loadAudio(w);
      assert.deepEqual(
        [a.sampleType, a.channels, a.sampleRate, a.frames, a.bitsPerSample],
        [b.sampleType, b.channels, b.sampleRate, b.frames, b.bitsPerSample],
      );
      assert.ok(
        Buffer.from(a.samples.buffer, a.samples.byteOffset, a.samples.byteLength).equals(
          Buffer.from(b.samples.buffer, b.samples.byteOffset, b.samples.byteLength),
        ),
      );
      const info = await readAudioInfo(f);
      assert.deepEqual([info.container, info.codec, info.frames], ['flac', 'flac', b.frames]);
    });
  }
});

function rms(x: Float32Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return Math.sqrt(s / x.length);
}

describe('lossy formats', () => {
  const cases: Array<[string, string[], string]> = [
    ['test_24k.ogg', ['data', 'music', 'encodec', 'test_24k.wav'], 'vorbis'],
    ['test_48k_stereo.opus', ['data', 'music', 'encodec', 'test_48k.wav'], 'opus'],
    ['test_48k_stereo.mp3', ['data', 'music', 'encodec', 'test_48k.wav'], 'mp3'],
  ];
  for (const [file, wav, codec] of cases) {
    test(`${file} decodes with the source's rate, channels, length and level`, async (t) => {
      const f = sharedPath(t, 'data', 'encoded', file);
      const w = sharedPath(t, ...wav);
      if (!f || !w) return;
      const a = await loadAudio(f);
      const b = await loadAudio(w);
      assert.equal(a.sampleType, 'float32');
      assert.equal(a.channels, b.channels);
      assert.equal(a.sampleRate, b.sampleRate);
      // Encoders add priming/padding; the length agrees to within a few codec frames.
      assert.ok(Math.abs(a.frames - b.frames) < 0.01 * b.frames + 4096, `${a.frames} vs ${b.frames}`);
      const ra = toFloat32Channels(a).map(rms);
      const rb = toFloat32Channels(b).map(rms);
      ra.forEach((r, c) => {
        assert.ok(Math.abs(r - rb[c]!) < 0.1 * rb[c]!, `channel ${c} level ${r} vs ${rb[c]}`);
      });
      assert.equal((await readAudioInfo(f)).codec, codec);
    });
  }
});

describe('format by content, not extension', () => {
  test('a FLAC named .wav and a WAV named .mp3 both load', async (t) => {
    const f = sharedPath(t, 'data', 'encoded', '0_jackson_0.flac');
    const w = sharedPath(t, 'data', 'speech', 'fsdd', 'recordings', '0_jackson_0.wav');
    if (!f || !w) return;
    copyFileSync(f, join(tmp, 'really-flac.wav'));
    copyFileSync(w, join(tmp, 'really-wav.mp3'));
    const a = await loadAudio(join(tmp, 'really-flac.wav'));
    const b = await loadAudio(join(tmp, 'really-wav.mp3'));
    assert.deepEqual(Array.from(a.samples), Array.from(b.samples));
  });

  test('a truncated FLAC is a typed error or fewer frames, never a crash', async (t) => {
    const f = sharedPath(t, 'data', 'encoded', 'test_24k.flac');
    if (!f) return;
    const { readFileSync, writeFileSync } = await import('node:fs');
    const bytes = readFileSync(f);
    for (const n of [10, 60, 5000]) {
      const p = join(tmp, `cut-${n}.flac`);
      writeFileSync(p, bytes.subarray(0, n));
      try {
        const a = await loadAudio(p);
        assert.ok(a.frames < 480000);
      } catch (e) {
        assert.ok(e instanceof FormatError, `${n} bytes: ${String(e)}`);
      }
    }
  });
});

describe('a damaged FLAC is an error naming the readable frames, or a warning under allowTruncated', () => {
  /** test_24k.flac with 64 bytes inverted in the middle: the decoder stops there without an error. */
  async function damaged(t: import('node:test').TestContext): Promise<{ path: string; intact: string } | undefined> {
    const intact = sharedPath(t, 'data', 'encoded', 'test_24k.flac');
    if (!intact) return undefined;
    const { readFileSync, writeFileSync } = await import('node:fs');
    const b = readFileSync(intact);
    const mid = b.length >> 1;
    for (let i = mid; i < mid + 64; i++) b[i] = b[i]! ^ 0xff;
    const path = join(tmp, 'damaged.flac');
    writeFileSync(path, b);
    return { path, intact };
  }

  test('whole-file and ranged decodes', async (t) => {
    const f = await damaged(t);
    if (!f) return;
    await assert.rejects(
      loadAudio(f.path),
      (e: Error) =>
        e instanceof FormatError &&
        /only \d+ of the 480000 frames its header declares are readable/.test(e.message) &&
        /\(pass allowTruncated to keep them\)$/.test(e.message) &&
        e.options?.join() === 'allowTruncated',
    );
    await assert.rejects(loadAudio(f.path, { startFrame: 400000, endFrame: 400100 }), FormatError);
    const warnings: string[] = [];
    const kept = await loadAudio(f.path, { allowTruncated: true, onWarning: (m) => warnings.push(m) });
    assert.ok(kept.frames > 0 && kept.frames < 480000, `${kept.frames} frames`);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, new RegExp(`kept ${kept.frames} of the 480000 frames`));
    // What is kept is the intact file's start, and a range before the damage needs no permission.
    const intact = await loadAudio(f.intact, { endFrame: kept.frames });
    assert.deepEqual(kept.samples, intact.samples);
    assert.equal((await loadAudio(f.path, { startFrame: 0, endFrame: 1000 })).frames, 1000);
  });

  test('the chunk iterator skips it, raises under strict, keeps it with a warning under allowTruncated', async (t) => {
    const f = await damaged(t);
    if (!f) return;
    const { customAudioBatches, emptyStats } = await import('../../src/tokens/index.js');
    const count = async (opts: { strict?: boolean; allowTruncated?: boolean }) => {
      const stats = emptyStats();
      let chunks = 0;
      for await (const b of customAudioBatches([f.path], { bitDepth: 16, chunkSizeBytes: 2, windowFrames: 4096, ...opts }, stats))
        chunks += b.length;
      return { chunks, stats };
    };
    await assert.rejects(count({ strict: true }), (e: Error) => e instanceof FormatError && /of the 480000 frames/.test(e.message));
    const skipped = await count({});
    assert.equal(skipped.stats.skipped, 1);
    assert.match(skipped.stats.warnings.join('\n'), /skipped .*damaged\.flac.*only \d+ of the 480000 frames/);
    const kept = await count({ allowTruncated: true });
    assert.equal(kept.stats.skipped, 0);
    assert.ok(kept.chunks > 0 && kept.chunks < 480000);
    assert.match(kept.stats.warnings.join('\n'), new RegExp(`kept ${kept.chunks} of the 480000 frames`));
  });
});

test('the embedded default audio is installed and decodes', async () => {
  const dir = defaultAudioDir();
  const list = findAudioFiles(dir);
  assert.ok(list.length > 100, `${list.length} files`);
  const a = await loadAudio(list[0]!);
  assert.ok(a.frames > 0 && a.sampleRate > 0);
});

describe('streaming decode', () => {
  for (const file of [
    '0_jackson_0.flac',
    'kick_24bit.flac',
    'test_48k_stereo.flac',
    'test_24k.ogg',
    'test_48k_stereo.opus',
    'test_48k_stereo.mp3',
  ]) {
    test(`${file}: pieces regrouped into windows equal the whole-file decode`, async (t) => {
      const p = sharedPath(t, 'data', 'encoded', file);
      if (!p) return;
      const { decodeStream, rewindow, openSource, sniffFile } = await import('../../src/audio/index.js');
      const whole = await loadAudio(p);
      const src = openSource(p);
      const format = sniffFile(src) as 'flac' | 'ogg-vorbis' | 'ogg-opus' | 'mp3';
      const parts: number[][] = [];
      let frames = 0;
      try {
        for await (const w of rewindow(decodeStream(src, format, 8192), 3000)) {
          assert.ok(w.frames === 3000 || frames + w.frames === whole.frames, 'whole windows except the last');
          assert.equal(w.sampleType, whole.sampleType);
          frames += w.frames;
          parts.push(Array.from(w.samples.subarray(0, w.frames * w.channels) as ArrayLike<number>));
        }
      } finally {
        src.close();
      }
      assert.equal(frames, whole.frames);
      const flat = parts.flat();
      const ws = whole.samples as ArrayLike<number>;
      let diff = 0;
      for (let i = 0; i < flat.length; i++) if (flat[i] !== ws[i]) diff++;
      assert.equal(diff, 0);
    });
  }
});

test('FLAC keeps its last frame (the wasm decoder would drop it) in whole-file and streaming decodes', async (t) => {
  const dir = sharedPath(t, 'data', 'speech', 'fsdd', 'recordings');
  if (!dir) return;
  const { encodeFlacAsync } = await import('../../src/audio/encoders/flac.js');
  const { decodeFlac, decodeStream } = await import('../../src/audio/decoders.js');
  const { MemorySource } = await import('../../src/audio/index.js');
  // Real recordings whose libFLAC encodings the decoder's frame parser cut short: 7_jackson_21 lost its
  // 100-sample last frame, and 8_theo_30 (a single frame) decoded to nothing.
  for (const f of ['7_jackson_21.wav', '8_theo_30.wav']) {
    const pcm = (await loadAudio(join(dir, f))).samples as Int16Array;
    const flac = await encodeFlacAsync(pcm, { sampleRate: 8000, channels: 1, bitsPerSample: 16, compressionLevel: 5 });
    const whole = await decodeFlac(flac, f);
    assert.equal(whole.audio.frames, pcm.length, f);
    assert.deepEqual(Array.from(whole.audio.samples as Int16Array), Array.from(pcm));
    const parts: number[] = [];
    for await (const p of decodeStream(new MemorySource(flac, f), 'flac', 1000)) parts.push(...(p.samples as Int16Array));
    assert.deepEqual(parts, Array.from(pcm));
  }
});

test('frame ranges of FLAC, Vorbis, Opus and MP3 files equal the same frames of a whole-file decode', async (t) => {
  const dir = sharedPath(t, 'data', 'encoded');
  if (!dir) return;
  const { sliceFrames } = await import('../../src/audio/convert.js');
  for (const name of ['test_24k.flac', 'test_24k.ogg', 'test_48k_stereo.opus', 'test_48k_stereo.mp3', 'kick_24bit.flac']) {
    const path = join(dir, name);
    const whole = await loadAudio(path);
    const n = whole.frames;
    // the start, across decoder pieces, the last frames, past the end, empty
    for (const [s, e] of [
      [0, 100],
      [Math.floor(n / 3), Math.floor((2 * n) / 3)],
      [n - 50, n],
      [n - 10, n + 1000],
      [n + 5, n + 10],
      [200, 200],
    ] as const) {
      const part = await loadAudio(path, { startFrame: s, endFrame: e });
      const want = sliceFrames(whole, s, e);
      assert.equal(part.frames, want.frames, `${name} [${s}, ${e}) frames`);
      assert.equal(part.channels, whole.channels, `${name} channels`);
      assert.equal(part.sampleType, whole.sampleType, `${name} sample type`);
      assert.deepEqual(part.samples, want.samples, `${name} [${s}, ${e}) samples`);
    }
    assert.equal((await loadAudio(path, { startFrame: 7 })).frames, n - 7, `${name} open-ended range`);
  }
});

/** A FLAC stream at `bits` (12 or 20: valid FLAC, in the streamable subset) written by libFLAC itself. */
async function libflacStream(bits: number, values: Int32Array): Promise<Uint8Array> {
  await flacEncoderReady();
  const lib = createRequire(import.meta.url)('libflacjs/dist/libflac.js') as {
    create_libflac_encoder(rate: number, ch: number, bps: number, level: number, total: number, verify: boolean): number;
    init_encoder_stream(enc: number, write: (data: Uint8Array, n: number) => void): number;
    FLAC__stream_encoder_process_interleaved(enc: number, buf: Int32Array, frames: number): boolean;
    FLAC__stream_encoder_finish(enc: number): boolean;
    FLAC__stream_encoder_delete(enc: number): void;
  };
  const enc = lib.create_libflac_encoder(16000, 1, bits, 5, values.length, false);
  const parts: Uint8Array[] = [];
  assert.equal(
    lib.init_encoder_stream(enc, (d, n) => parts.push(d.slice(0, n))),
    0,
  );
  assert.ok(lib.FLAC__stream_encoder_process_interleaved(enc, values, values.length));
  assert.ok(lib.FLAC__stream_encoder_finish(enc));
  lib.FLAC__stream_encoder_delete(enc);
  return Uint8Array.from(parts.flatMap((p) => Array.from(p)));
}

test('12- and 20-bit FLAC are refused by name, never decoded to silence (the wasm decoder scales them by zero)', async () => {
  const { decodeFlac, decodeStream } = await import('../../src/audio/decoders.js');
  const { MemorySource } = await import('../../src/audio/index.js');
  const { compressLossless } = await import('../../src/compress/lossless/codec.js');
  for (const bits of [12, 20]) {
    const values = Int32Array.from({ length: 4000 }, (_, i) => Math.round((2 ** (bits - 2) - 1) * Math.sin(i / 9)));
    const flac = await libflacStream(bits, values);
    const name = `tone-${bits}bit.flac`;
    const refused = (e: unknown): boolean =>
      e instanceof UnsupportedError && e.message.startsWith(`${name}: ${bits}-bit FLAC; wavelm's FLAC decoder reads 8-, 16- and 24-bit`);
    await assert.rejects(decodeFlac(flac, name), refused);
    await assert.rejects(
      (async () => {
        for await (const _ of decodeStream(new MemorySource(flac, name), 'flac', 1000));
      })(),
      refused,
    );
    await assert.rejects(compressLossless(flac, { name }), refused);
    const path = join(tmp, name);
    writeFileSync(path, flac);
    await assert.rejects(loadAudio(path), (e: unknown) => e instanceof UnsupportedError && e.message.includes(`${bits}-bit FLAC`));
    assert.equal((await readAudioInfo(path)).bitsPerSample, bits, 'info still reads the header');
  }
});

/** `flac` behind an ID3v2.3 tag (one TIT2 frame), as some taggers write FLAC files. */
function withId3(flac: Uint8Array): Uint8Array {
  const frame = [...'TIT2'].map((c) => c.charCodeAt(0)).concat([0, 0, 0, 6, 0, 0, 0, ...[...'hello'].map((c) => c.charCodeAt(0))]);
  const n = frame.length;
  const header = [0x49, 0x44, 0x33, 3, 0, 0, (n >> 21) & 0x7f, (n >> 14) & 0x7f, (n >> 7) & 0x7f, n & 0x7f];
  return Uint8Array.from([...header, ...frame, ...flac]);
}

test('FLAC behind an ID3v2 tag decodes as the bare stream (whole, streamed, info), and its depth is still checked', async () => {
  const { encodeFlacAsync } = await import('../../src/audio/encoders/flac.js');
  const { decodeStream } = await import('../../src/audio/decoders.js');
  const { MemorySource } = await import('../../src/audio/index.js');
  const pcm = Int16Array.from({ length: 9000 }, (_, i) => Math.round(9000 * Math.sin(i / 13)));
  const bare = await encodeFlacAsync(pcm, { sampleRate: 8000, channels: 1, bitsPerSample: 16 });
  const path = join(tmp, 'tagged.flac');
  writeFileSync(path, withId3(bare));
  assert.deepEqual(Array.from((await loadAudio(path)).samples as Int16Array), Array.from(pcm));
  const streamed: number[] = [];
  for await (const p of decodeStream(new MemorySource(withId3(bare), 'tagged.flac'), 'flac', 700))
    streamed.push(...(p.samples as Int16Array));
  assert.deepEqual(streamed, Array.from(pcm));
  const info = await readAudioInfo(path);
  assert.deepEqual([info.sampleRate, info.frames, info.bitsPerSample], [8000, 9000, 16]);
  const twelve = join(tmp, 'tagged-12bit.flac');
  writeFileSync(
    twelve,
    withId3(
      await libflacStream(
        12,
        Int32Array.from(pcm, (v) => v >> 4),
      ),
    ),
  );
  await assert.rejects(loadAudio(twelve), (e: unknown) => e instanceof UnsupportedError && e.message.includes('12-bit FLAC'));
});
