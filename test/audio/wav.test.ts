import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  ALAW_TABLE,
  encodeWav,
  loadAudio,
  loadWavFile,
  parseWav,
  parseWavLayout,
  readAudioInfo,
  toFloat32Channels,
  toInt16,
  ULAW_TABLE,
  WavWriter,
  type AudioData,
} from '../../src/audio/index.js';
import { ConfigError, FormatError, NotFoundError, UnsupportedError, WavelmError } from '../../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'wavelm-wav-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function audio(type: AudioData['sampleType'], channels: number, frames: number, seed = 1, bits?: number): AudioData {
  const r = rng(seed);
  const n = channels * frames;
  let samples: AudioData['samples'];
  switch (type) {
    case 'uint8':
      samples = Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
      break;
    case 'int16':
      samples = Int16Array.from({ length: n }, () => Math.floor(r() * 65536) - 32768);
      break;
    case 'int32':
      // 24-bit values, left-justified
      samples = Int32Array.from({ length: n }, () => (Math.floor(r() * 2 ** 24) - 2 ** 23) * 256);
      break;
    default:
      samples = Float32Array.from({ length: n }, () => r() * 2 - 1);
  }
  return {
    sampleRate: 22050,
    channels,
    frames,
    sampleType: type,
    bitsPerSample: bits ?? (type === 'uint8' ? 8 : type === 'int16' ? 16 : type === 'int32' ? 24 : 32),
    samples,
  };
}

/** A WAV built from explicit chunks, for malformed-input tests. */
function riff(chunks: Array<[string, Uint8Array]>, opts: { magic?: string; riffSize?: number; pad?: boolean } = {}): Uint8Array {
  const parts: number[] = [];
  const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
  const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
  for (const [id, body] of chunks) {
    parts.push(...ascii(id), ...u32(body.length), ...body);
    if (body.length % 2 === 1 && opts.pad !== false) parts.push(0);
  }
  const size = opts.riffSize ?? parts.length + 4;
  return new Uint8Array([...ascii(opts.magic ?? 'RIFF'), ...u32(size), ...ascii('WAVE'), ...parts]);
}

function fmt(tag: number, channels: number, rate: number, bits: number, blockAlign?: number): Uint8Array {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  const ba = blockAlign ?? channels * Math.ceil(bits / 8);
  dv.setUint16(0, tag, true);
  dv.setUint16(2, channels, true);
  dv.setUint32(4, rate, true);
  dv.setUint32(8, rate * ba, true);
  dv.setUint16(12, ba, true);
  dv.setUint16(14, bits, true);
  return b;
}

function i16bytes(values: number[]): Uint8Array {
  return new Uint8Array(Int16Array.from(values).buffer);
}

describe('encodeWav / parseWav round trips', () => {
  for (const [type, channels] of [
    ['uint8', 1],
    ['int16', 2],
    ['int16', 3],
    ['int32', 2],
    ['float32', 1],
  ] as const) {
    test(`${type}, ${channels} channel(s)`, () => {
      const a = audio(type, channels, 1001, channels);
      const back = parseWav(encodeWav(a));
      assert.equal(back.sampleType, type);
      assert.equal(back.channels, channels);
      assert.equal(back.frames, 1001);
      assert.equal(back.sampleRate, 22050);
      assert.deepEqual(Array.from(back.samples), Array.from(a.samples));
    });
  }

  test('32-bit integer output keeps int32 samples exactly', () => {
    const a = audio('int32', 1, 50, 3, 32);
    const s = a.samples as Int32Array;
    s[0] = 2147483647;
    s[1] = -2147483648;
    s[2] = 12345;
    const back = parseWav(encodeWav(a, { bits: 32 }));
    assert.deepEqual(Array.from(back.samples), Array.from(s));
  });

  test('fmt fields that do not fit their 16 or 32 bits are refused, not wrapped (and the writer creates no file)', () => {
    const header = (sampleRate: number, channels: number): AudioData => ({
      sampleRate,
      channels,
      frames: 0,
      sampleType: 'int16',
      bitsPerSample: 16,
      samples: new Int16Array(0),
    });
    // 2^31 Hz stereo 16-bit: a byte rate of 2^33, which a 32-bit field would store as 0.
    assert.throws(
      () => encodeWav(header(2 ** 31, 2)),
      (e: unknown) => e instanceof ConfigError && /byte rate .* of 8589934592/.test(e.message),
    );
    // 40,000 channels of 16-bit: 80,000 bytes per frame, over the 16-bit block-align field.
    assert.throws(
      () => encodeWav(header(8000, 40000)),
      (e: unknown) => e instanceof ConfigError && /bytes per frame/.test(e.message),
    );
    const path = join(dir, 'too-fast.wav');
    assert.throws(() => WavWriter.open(path, { sampleRate: 2 ** 31, channels: 2, bits: 16 }), ConfigError);
    assert.equal(existsSync(path), false);
    // The largest byte rate that fits is written as is.
    const rate = Math.floor(0xffffffff / 8);
    const edge = parseWavLayout(encodeWav(header(rate, 4)));
    assert.equal(edge.format.sampleRate * edge.format.blockAlign, rate * 8);
  });

  test('int16 written as 8-bit rounds to the nearest step', () => {
    const a: AudioData = {
      sampleRate: 8000,
      channels: 1,
      frames: 4,
      sampleType: 'int16',
      bitsPerSample: 16,
      samples: Int16Array.from([0, 127, 128, -32768]),
    };
    const back = parseWav(encodeWav(a, { bits: 8 }));
    assert.deepEqual(Array.from(back.samples), [128, 128, 129, 0]);
  });
});

describe('layout: header, data and trailing chunks', () => {
  test('offsets let a file be rebuilt byte for byte', () => {
    const data = i16bytes([1, -2, 3, -4, 5, -6]);
    const list = new TextEncoder().encode('INFOISFT\x05\x00\x00\x00abcd\x00\x00');
    const bytes = riff([
      ['fmt ', fmt(1, 2, 8000, 16)],
      ['LIST', list],
      ['data', data],
      ['junk', new Uint8Array([9, 8, 7])],
    ]);
    const l = parseWavLayout(bytes);
    assert.equal(l.frames, 3);
    assert.equal(l.dataOffset, bytes.length - 12 - data.length);
    assert.deepEqual(
      l.chunks.map((c) => c.id),
      ['fmt ', 'LIST', 'data', 'junk'],
    );
    const header = bytes.subarray(0, l.dataOffset);
    const audioBytes = bytes.subarray(l.dataOffset, l.dataOffset + l.audioBytes);
    const trailer = bytes.subarray(l.trailerOffset);
    assert.deepEqual(audioBytes, data);
    const rebuilt = new Uint8Array([...header, ...audioBytes, ...trailer]);
    assert.deepEqual(rebuilt, bytes);
    assert.deepEqual(Array.from(parseWav(bytes).samples), [1, -2, 3, -4, 5, -6]);
  });

  test('an odd-sized unknown chunk is skipped with its pad byte, and without it', () => {
    for (const pad of [true, false]) {
      const bytes = riff(
        [
          ['fmt ', fmt(1, 1, 8000, 16)],
          ['odd ', new Uint8Array([1, 2, 3])],
          ['data', i16bytes([7, 8])],
        ],
        { pad },
      );
      assert.deepEqual(Array.from(parseWav(bytes).samples), [7, 8], `pad=${pad}`);
    }
  });

  test('a data size of 0 or 0xFFFFFFFF means "to the end of the file"', () => {
    for (const size of [0, 0xffffffff]) {
      const bytes = riff([
        ['fmt ', fmt(1, 1, 8000, 16)],
        ['data', i16bytes([1, 2, 3, 4])],
      ]);
      new DataView(bytes.buffer).setUint32(40, size, true);
      const a = parseWav(bytes);
      assert.equal(a.frames, 4, `size ${size}`);
      assert.ok(parseWavLayout(bytes).sizeToEnd);
    }
  });

  test('RIFX (big-endian) reads the same samples', () => {
    const le = riff([
      ['fmt ', fmt(1, 1, 8000, 16)],
      ['data', i16bytes([258, -2, 1000])],
    ]);
    const be = le.slice();
    be.set([0x52, 0x49, 0x46, 0x58], 0);
    const swap16 = (o: number) => {
      const t = be[o]!;
      be[o] = be[o + 1]!;
      be[o + 1] = t;
    };
    const swap32 = (o: number) => be.subarray(o, o + 4).reverse();
    swap32(4);
    swap32(16);
    swap16(20);
    swap16(22);
    swap32(24);
    swap32(28);
    swap16(32);
    swap16(34);
    swap32(40);
    for (let o = 44; o < be.length; o += 2) swap16(o);
    const a = parseWav(be);
    assert.equal(parseWavLayout(be).container, 'rifx');
    assert.deepEqual(Array.from(a.samples), [258, -2, 1000]);
  });

  test('A-law and mu-law decode through the G.711 tables', () => {
    assert.equal(ULAW_TABLE[0xff], 0);
    assert.equal(ULAW_TABLE[0x00], -32124);
    assert.equal(ULAW_TABLE[0x80], 32124);
    assert.equal(ALAW_TABLE[0xd5], 8);
    assert.equal(ALAW_TABLE[0x55], -8);
    assert.equal(ALAW_TABLE[0xaa], 32256);
    assert.equal(ALAW_TABLE[0x2a], -32256);
    for (const [tag, table] of [
      [6, ALAW_TABLE],
      [7, ULAW_TABLE],
    ] as const) {
      const codes = [0, 0x55, 0x80, 0xd5, 0xff];
      const a = parseWav(
        riff([
          ['fmt ', fmt(tag, 1, 8000, 8)],
          ['data', new Uint8Array(codes)],
        ]),
      );
      assert.equal(a.sampleType, 'int16');
      assert.deepEqual(
        Array.from(a.samples),
        codes.map((c) => table[c]),
      );
    }
  });
});

describe('bad input never crashes, hangs or over-allocates', () => {
  const write = (name: string, bytes: Uint8Array | string) => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };

  test('missing file', async () => {
    await assert.rejects(loadAudio(join(dir, 'nope.wav')), (e: unknown) => e instanceof NotFoundError && /nope\.wav/.test(e.message));
  });

  test('empty file', async () => {
    const p = write('empty.wav', new Uint8Array(0));
    await assert.rejects(loadAudio(p), (e: unknown) => e instanceof FormatError && /empty/.test(e.message) && e.message.includes(p));
  });

  test('not audio', async () => {
    const p = write('text.wav', 'hello, this is not a WAV file at all\n'.repeat(10));
    await assert.rejects(loadAudio(p), (e: unknown) => e instanceof FormatError && /not a recognised audio file/.test(e.message));
  });

  test('truncated header', async () => {
    const full = encodeWav(audio('int16', 1, 10));
    for (const n of [4, 11, 20, 30]) {
      const p = write(`trunc-header-${n}.wav`, full.subarray(0, n));
      await assert.rejects(loadAudio(p), (e: unknown) => e instanceof FormatError && e.message.includes(p), `${n} bytes`);
    }
  });

  test('truncated data: an error that counts the readable frames, or the frames with allowTruncated', async () => {
    const a = audio('int16', 2, 1000);
    const full = encodeWav(a);
    const p = write('trunc-data.wav', full.subarray(0, 44 + 400 * 4 + 3));
    await assert.rejects(
      loadAudio(p),
      (e: unknown) =>
        e instanceof FormatError &&
        /declares 1000 frames but only 400 are in the file \(pass allowTruncated to keep them\)$/.test(e.message) &&
        e.options?.join() === 'allowTruncated',
    );
    const kept = await loadAudio(p, { allowTruncated: true });
    assert.equal(kept.frames, 400);
    assert.deepEqual(Array.from(kept.samples), Array.from(a.samples.subarray(0, 800)));
  });

  test('a data size far beyond the file allocates only what the file holds', async () => {
    const bytes = riff([
      ['fmt ', fmt(1, 1, 8000, 16)],
      ['data', i16bytes([1, 2, 3])],
    ]);
    new DataView(bytes.buffer).setUint32(40, 0x7ffffff0, true);
    const p = write('huge-claim.wav', bytes);
    const l = parseWavLayout(bytes);
    assert.equal(l.declaredFrames, 0x7ffffff0 / 2);
    assert.equal(l.frames, 3);
    await assert.rejects(loadAudio(p), (e: unknown) => e instanceof FormatError && /only 3 are in the file/.test(e.message));
    assert.equal((await loadAudio(p, { allowTruncated: true })).frames, 3);
  });

  test('unsupported codec names the format tag', async () => {
    const p = write(
      'adpcm.wav',
      riff([
        ['fmt ', fmt(2, 1, 8000, 4)],
        ['data', new Uint8Array(16)],
      ]),
    );
    await assert.rejects(
      loadAudio(p),
      (e: unknown) => e instanceof UnsupportedError && /0x0002/.test(e.message) && /ADPCM/.test(e.message),
    );
  });

  test('a directory is not an audio file', async () => {
    await assert.rejects(loadAudio(dir), (e: unknown) => e instanceof WavelmError);
  });
});

describe('frame ranges and streaming reads', () => {
  test('a frame range equals the slice of the whole file (large file read in place)', async () => {
    const a = audio('int16', 2, 200_000, 9);
    const p = join(dir, 'big.wav');
    writeFileSync(p, encodeWav(a));
    const part = await loadAudio(p, { startFrame: 150_000, endFrame: 150_010 });
    assert.equal(part.frames, 10);
    assert.deepEqual(Array.from(part.samples), Array.from(a.samples.subarray(300_000, 300_020)));
    const tail = await loadWavFile(p, { startFrame: 199_995 });
    assert.equal(tail.frames, 5);
    const past = await loadAudio(p, { startFrame: 300_000 });
    assert.equal(past.frames, 0);
    const info = await readAudioInfo(p);
    assert.deepEqual(
      [info.container, info.codec, info.sampleRate, info.channels, info.bitsPerSample, info.frames],
      ['wav', 'pcm', 22050, 2, 16, 200_000],
    );
  });
});

describe('sample conversions', () => {
  test('toFloat32Channels uses full scale 1.0 per type', () => {
    const i16: AudioData = {
      sampleRate: 1,
      channels: 2,
      frames: 2,
      sampleType: 'int16',
      bitsPerSample: 16,
      samples: Int16Array.from([-32768, 16384, 0, 32767]),
    };
    const [l, r] = toFloat32Channels(i16);
    assert.deepEqual(Array.from(l!), [-1, 0]);
    assert.deepEqual(Array.from(r!), [0.5, Math.fround(32767 / 32768)]);
    const u8: AudioData = {
      sampleRate: 1,
      channels: 1,
      frames: 3,
      sampleType: 'uint8',
      bitsPerSample: 8,
      samples: Uint8Array.from([0, 128, 192]),
    };
    assert.deepEqual(Array.from(toFloat32Channels(u8)[0]!), [-1, 0, 0.5]);
    const i32: AudioData = {
      sampleRate: 1,
      channels: 1,
      frames: 2,
      sampleType: 'int32',
      bitsPerSample: 32,
      samples: Int32Array.from([-2147483648, 1073741824]),
    };
    assert.deepEqual(Array.from(toFloat32Channels(i32)[0]!), [-1, 0.5]);
  });

  test('toInt16 rounds int32 to the nearest 16-bit value and clamps', () => {
    const i32: AudioData = {
      sampleRate: 1,
      channels: 1,
      frames: 5,
      sampleType: 'int32',
      bitsPerSample: 32,
      samples: Int32Array.from([2147483647, -2147483648, 32768, 32767, -32769]),
    };
    assert.deepEqual(Array.from(toInt16(i32)), [32767, -32768, 1, 0, -1]);
    const f: AudioData = {
      sampleRate: 1,
      channels: 1,
      frames: 3,
      sampleType: 'float32',
      bitsPerSample: 32,
      samples: Float32Array.from([2, -2, 0.5]),
    };
    assert.deepEqual(Array.from(toInt16(f)), [32767, -32768, 16384]);
  });
});

describe('mutation fuzzing', () => {
  test('random byte and size corruptions of WAV and AIFF headers give samples or a WavelmError, never anything else', async () => {
    const r = rng(77);
    const bases = [
      encodeWav(audio('int16', 2, 300, 5)),
      encodeWav(audio('int32', 3, 100, 6)),
      encodeWav(audio('float32', 1, 200, 7)),
      encodeWav(audio('uint8', 1, 90, 8)),
    ];
    for (let k = 0; k < 400; k++) {
      const base = bases[k % bases.length]!;
      const b = base.slice(0, Math.max(0, base.length - (k % 7 === 0 ? Math.floor(r() * base.length) : 0)));
      const edits = 1 + Math.floor(r() * 4);
      for (let e = 0; e < edits && b.length > 0; e++) {
        const at = Math.floor(r() * Math.min(b.length, 80));
        b[at] = r() < 0.3 ? 0xff : Math.floor(r() * 256);
      }
      try {
        const a = parseWav(b, `case-${k}`, { allowTruncated: k % 2 === 0 });
        assert.equal(a.samples.length, a.frames * a.channels);
        assert.ok(a.samples.byteLength <= b.length * 2 + 64, `case ${k}: never more than the file holds`);
      } catch (err) {
        assert.ok(err instanceof WavelmError, `case ${k}: ${String(err)}`);
      }
    }
  });
});
