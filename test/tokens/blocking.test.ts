/** Property tests of conversion, blocking and chunking with random sizes, against straightforward reference code. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AudioData, SampleType } from '../../src/audio/index.js';
import {
  audioToBytes,
  audioToChunks,
  ChunkStream,
  convertToTargetBitDepth,
  extractAudioChunks,
  processStereoBlocking,
  validateAudioConfig,
  validateBlockingSize,
  type PipelineOptions,
} from '../../src/tokens/index.js';
import { seedFloat, seedFloatToI16, seedFloatToU8 } from '../../src/tokens/convert.js';
import { pickI16ToU8 } from '../../src/tokens/kernels.js';
import { chunkDtype } from '../../src/tokens/npy-chunks.js';
import { ConfigError } from '../../src/util/errors.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
const int = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

function randomAudio(r: () => number, type: SampleType, channels: number, frames: number): AudioData {
  const n = channels * frames;
  const gen = {
    uint8: () => new Uint8Array(n).map(() => int(r, 0, 255)),
    int16: () => new Int16Array(n).map(() => int(r, -32768, 32767)),
    int32: () => new Int32Array(n).map(() => int(r, -(2 ** 31), 2 ** 31 - 1)),
    float32: () => new Float32Array(n).map(() => r() * 2.2 - 1.1),
    float64: () => new Float64Array(n).map(() => r() * 2 - 1),
  }[type];
  return { sampleRate: 8000, channels, frames, sampleType: type, bitsPerSample: 16, samples: gen() };
}

/** Reference blocking: per-channel arrays, then blocks in channel order, written the obvious way. */
function refBlocking(x: ArrayLike<number>, ch: number, B: number): number[] {
  const frames = Math.floor(x.length / ch);
  const chans = Array.from({ length: ch }, (_, c) => Array.from({ length: frames }, (_, i) => x[i * ch + c]!));
  const out: number[] = [];
  for (let f = 0; f < frames; f += B) for (const c of chans) out.push(...c.slice(f, f + B));
  return out;
}

/** Reference conversion of one sample (lmic/exact 8-bit via audioop semantics). */
function refU8(v: number, type: SampleType): number {
  switch (type) {
    case 'uint8':
      return v;
    case 'int16':
      return (Math.floor(v / 256) + 128) % 256;
    case 'int32':
      return (Math.floor(v / 2 ** 24) + 128) % 256;
    default: {
      const i = Math.max(-32768, Math.min(32767, Math.round(v * 32768)));
      return (Math.floor(i / 256) + 128) % 256;
    }
  }
}

describe('blocking', () => {
  test('processStereoBlocking equals the reference for random channel counts, sizes and block sizes', () => {
    const r = rng(1);
    for (let k = 0; k < 200; k++) {
      const ch = int(r, 1, 5);
      const frames = int(r, 0, 700);
      const B = int(r, 1, 300);
      const x = new Int16Array(ch * frames).map(() => int(r, -32768, 32767));
      const got = processStereoBlocking(x, ch, B);
      assert.deepEqual(Array.from(got), ch === 1 ? Array.from(x) : refBlocking(x, ch, B), `ch=${ch} frames=${frames} B=${B}`);
    }
  });

  test('the final partial blocks are included: 2 channels, 5 frames, blocks of 2', () => {
    const x = Uint8Array.from([1, 101, 2, 102, 3, 103, 4, 104, 5, 105]);
    assert.deepEqual(Array.from(processStereoBlocking(x, 2, 2)), [1, 2, 101, 102, 3, 4, 103, 104, 5, 105]);
  });
});

describe('conversion + blocking + chunking, end to end', () => {
  test('random audio of every sample type matches the reference pipeline (8-bit exact)', () => {
    const r = rng(2);
    for (let k = 0; k < 120; k++) {
      const type = (['uint8', 'int16', 'int32', 'float32', 'float64'] as const)[int(r, 0, 4)]!;
      const ch = int(r, 1, 3);
      const a = randomAudio(r, type, ch, int(r, 0, 1500));
      const B = int(r, 1, 400);
      const C = int(r, 1, 900);
      const conv = Array.from(a.samples as ArrayLike<number>, (v) => refU8(v, type));
      const stream = ch === 1 ? conv : refBlocking(conv, ch, B);
      const expected = [];
      for (let i = 0; i + C <= stream.length; i += C) expected.push(stream.slice(i, i + C));
      const got = audioToChunks(a, { blockingSize: B, chunkSizeBytes: C }).map((c) => Array.from(c));
      assert.deepEqual(got, expected, `${type} ch=${ch} frames=${a.frames} B=${B} C=${C}`);
    }
  });

  test('16-bit: int16 is kept, wider samples round, stream bytes are little-endian', () => {
    const r = rng(3);
    for (let k = 0; k < 60; k++) {
      const type = (['uint8', 'int16', 'int32'] as const)[int(r, 0, 2)]!;
      const ch = int(r, 1, 2);
      const a = randomAudio(r, type, ch, int(r, 1, 900));
      const B = int(r, 1, 300);
      const ref16 = (v: number) =>
        type === 'int16' ? v : type === 'uint8' ? (v - 128) * 256 : Math.min(32767, Math.floor((v + 32768) / 65536));
      const conv = Array.from(a.samples as ArrayLike<number>, ref16);
      const stream = ch === 1 ? conv : refBlocking(conv, ch, B);
      const bytes = audioToBytes(a, { bitDepth: 16, blockingSize: B });
      assert.equal(bytes.length, stream.length * 2);
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      stream.forEach((v, i) => {
        assert.equal(dv.getInt16(2 * i, true), v, `${type} sample ${i}`);
      });
    }
  });

  test('fused int16 kernels equal the general path (also at odd buffer offsets)', () => {
    const r = rng(4);
    for (let k = 0; k < 60; k++) {
      const ch = int(r, 1, 2);
      const frames = int(r, 1, 3000);
      const base = new Int16Array(ch * frames + 1).map(() => int(r, -32768, 32767));
      const offset = int(r, 0, 1);
      const samples = base.subarray(offset, offset + ch * frames);
      const a: AudioData = { sampleRate: 1, channels: ch, frames, sampleType: 'int16', bitsPerSample: 16, samples };
      const B = 2 * int(r, 1, 700) - (k % 2);
      for (const bitDepth of [8, 16] as const) {
        const fast = audioToBytes(a, { bitDepth, blockingSize: B });
        const conv = convertToTargetBitDepth(
          { samples: Float64Array.from(samples, (v) => v / 32768), sampleType: 'float64' },
          bitDepth,
          'exact',
        );
        const slow = ch === 1 ? conv : processStereoBlocking(conv, ch, B);
        assert.deepEqual(
          fast,
          new Uint8Array(slow.buffer, slow.byteOffset, slow.byteLength),
          `ch=${ch} frames=${frames} B=${B} bits=${bitDepth} offset=${offset}`,
        );
      }
    }
  });

  test('pickI16ToU8 gives the per-sample reference at every source and output offset (word path and byte path)', () => {
    const r = rng(7);
    for (let k = 0; k < 200; k++) {
      const ch = int(r, 1, 3);
      const frames = k < 40 ? k % 13 : int(r, 1, 2000);
      const channel = int(r, 0, ch - 1);
      const srcOffset = int(r, 0, 1);
      const outOffset = int(r, 0, 3);
      const src = new Int16Array(ch * frames + 1).map(() => int(r, -32768, 32767)).subarray(srcOffset, srcOffset + ch * frames);
      const out = new Uint8Array(frames + 4).fill(0x55);
      pickI16ToU8(src, ch, channel, frames, out.subarray(outOffset, outOffset + frames));
      const want = Array.from({ length: frames }, (_, i) => ((src[i * ch + channel]! >> 8) + 128) & 0xff);
      const where = `ch=${ch} channel=${channel} frames=${frames} offsets=${srcOffset}/${outOffset}`;
      assert.deepEqual(Array.from(out.subarray(outOffset, outOffset + frames)), want, where);
      assert.ok(out.subarray(0, outOffset).every((b) => b === 0x55) && out.subarray(outOffset + frames).every((b) => b === 0x55), where);
    }
  });

  test('int16 input: every conversion and channel mode gives the per-sample reference (fused kernels included)', () => {
    const r = rng(6);
    for (let k = 0; k < 120; k++) {
      const ch = int(r, 1, 3);
      const frames = int(r, 1, 2500);
      const samples = new Int16Array(ch * frames).map(() => int(r, -32768, 32767));
      const a: AudioData = { sampleRate: 1, channels: ch, frames, sampleType: 'int16', bitsPerSample: 16, samples };
      const conversion = (['lmic', 'exact', 'seed-float'] as const)[k % 3]!;
      const channelMode = (['block', 'pick', 'upmix', 'mix'] as const)[Math.floor(k / 3) % 4]!;
      const opts: PipelineOptions = { conversion, channelMode, channel: int(r, 0, ch - 1), blockingSize: int(r, 1, 600) };
      const chans = Array.from({ length: ch }, (_, c) => Array.from({ length: frames }, (_, i) => samples[i * ch + c]!));
      const mono = chans[0]!;
      const picked =
        channelMode === 'upmix' && ch === 1
          ? [mono, mono]
          : ch === 1
            ? chans
            : channelMode === 'pick'
              ? [chans[opts.channel!]!]
              : channelMode === 'mix'
                ? [mono.map((_, i) => Math.trunc(chans.reduce((t, c) => t + c[i]!, 0) / ch))]
                : chans;
      const interleaved = Array.from(
        { length: frames * picked.length },
        (_, i) => picked[i % picked.length]![Math.floor(i / picked.length)]!,
      );
      for (const bitDepth of conversion === 'lmic' ? ([8] as const) : ([8, 16] as const)) {
        const one = (x: number): number => {
          if (conversion === 'seed-float')
            return bitDepth === 8 ? seedFloatToU8(seedFloat(x, 'int16')) : seedFloatToI16(seedFloat(x, 'int16'));
          return bitDepth === 8 ? ((x >> 8) + 128) & 0xff : x;
        };
        const tokens = interleaved.map(one);
        const want = picked.length === 1 ? tokens : refBlocking(tokens, picked.length, opts.blockingSize!);
        const bytes = audioToBytes(a, { ...opts, bitDepth });
        const got = bitDepth === 8 ? Array.from(bytes) : Array.from(new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2));
        assert.deepEqual(got, want, `ch=${ch} frames=${frames} ${conversion} ${channelMode} bits=${bitDepth}`);
      }
    }
  });

  test('ChunkStream over random windows equals audioToChunks on the whole file; chunks stay valid', () => {
    const r = rng(5);
    for (let k = 0; k < 40; k++) {
      const ch = int(r, 1, 3);
      const a = randomAudio(r, 'int16', ch, int(r, 0, 5000));
      const opts: PipelineOptions = {
        blockingSize: int(r, 1, 200),
        chunkSizeBytes: 2 * int(r, 1, 300),
        bitDepth: k % 2 ? 16 : 8,
        tail: k % 3 ? 'drop' : 'pad',
      };
      const whole = audioToChunks(a, opts).map((c) => Array.from(c));
      const transient = k % 4 === 1;
      const stream = new ChunkStream(opts, transient);
      const got: Array<Uint8Array | number[]> = [];
      let f = 0;
      while (f < a.frames) {
        const n = Math.min(a.frames - f, stream.options.blockingSize * int(r, 1, 6));
        // Reuse one buffer for every window, as the file reader does.
        const win = (a.samples as Int16Array).slice(f * ch, (f + n) * ch);
        // Transient chunks are valid until the next push: copy them now.
        got.push(...stream.push({ ...a, frames: n, samples: win }).map((c) => (transient ? Array.from(c) : c)));
        win.fill(0);
        f += n;
      }
      got.push(...stream.endFile());
      assert.deepEqual(
        got.map((c) => Array.from(c)),
        whole,
        `case ${k} transient=${transient}`,
      );
    }
  });
});

describe('chunking', () => {
  test('extractAudioChunks drops or zero-pads the tail', () => {
    const b = Uint8Array.from({ length: 10 }, (_, i) => i + 1);
    assert.deepEqual(
      extractAudioChunks(b, 4).map((c) => Array.from(c)),
      [
        [1, 2, 3, 4],
        [5, 6, 7, 8],
      ],
    );
    assert.deepEqual(
      extractAudioChunks(b, 4, 'pad').map((c) => Array.from(c)),
      [
        [1, 2, 3, 4],
        [5, 6, 7, 8],
        [9, 10, 0, 0],
      ],
    );
    assert.deepEqual(extractAudioChunks(b, 5).length, 2);
    assert.deepEqual(extractAudioChunks(new Uint8Array(3), 4), []);
  });
});

describe('channel modes', () => {
  const st: AudioData = {
    sampleRate: 1,
    channels: 2,
    frames: 3,
    sampleType: 'int16',
    bitsPerSample: 16,
    samples: Int16Array.from([100, 300, -5, 2, 7, -8]),
  };
  const mono: AudioData = {
    sampleRate: 1,
    channels: 1,
    frames: 3,
    sampleType: 'int16',
    bitsPerSample: 16,
    samples: Int16Array.from([1, 2, 3]),
  };
  const i16 = (b: Uint8Array) => Array.from(new Int16Array(b.buffer, b.byteOffset, b.length / 2));
  test('mix averages (truncating), pick selects, upmix duplicates mono into blocks', () => {
    assert.deepEqual(i16(audioToBytes(st, { bitDepth: 16, channelMode: 'mix' })), [200, -1, 0]);
    assert.deepEqual(i16(audioToBytes(st, { bitDepth: 16, channelMode: 'pick', channel: 1 })), [300, 2, -8]);
    assert.deepEqual(i16(audioToBytes(mono, { bitDepth: 16, channelMode: 'upmix', blockingSize: 2 })), [1, 2, 1, 2, 3, 3]);
    assert.deepEqual(i16(audioToBytes(st, { bitDepth: 16, channelMode: 'upmix', blockingSize: 2 })), [100, -5, 300, 2, 7, -8]);
    assert.throws(() => audioToBytes(st, { channelMode: 'pick', channel: 2 }), ConfigError);
  });
});

describe('validation (validate_audio_config)', () => {
  test('errors for non-positive sizes and odd 16-bit chunks', () => {
    for (const bad of [0, -1, 1.5, NaN]) {
      assert.throws(() => validateBlockingSize(bad), ConfigError);
      assert.throws(() => validateAudioConfig({ blockingSize: bad }), ConfigError);
      assert.throws(() => validateAudioConfig({ chunkSizeBytes: bad }), ConfigError);
    }
    assert.throws(
      () => validateAudioConfig({ bitDepth: 16, chunkSizeBytes: 2047 }),
      (e: unknown) => e instanceof ConfigError && /even/.test(e.message),
    );
    assert.doesNotThrow(() => validateAudioConfig({ bitDepth: 8, chunkSizeBytes: 2047 }));
    assert.throws(() => validateAudioConfig({ bitDepth: 12 as 8 }), ConfigError);
  });

  test('an .npy dtype that does not hold the tokens names the option npyDtype', () => {
    assert.throws(
      () => chunkDtype(16, 'uint8'),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.message === 'npyDtype uint8 does not hold 16-bit tokens; use int16 or uint16' &&
        e.options?.join() === 'npyDtype',
    );
    assert.equal(chunkDtype(16, 'int16'), 'int16');
  });

  test('defaults and the blocking warning (compared in bytes)', () => {
    const d = validateAudioConfig();
    assert.deepEqual(d.options, {
      bitDepth: 8,
      conversion: 'exact',
      blockingSize: 1024,
      chunkSizeBytes: 2048,
      channelMode: 'block',
      channel: 0,
      tail: 'drop',
    });
    assert.deepEqual(d.warnings, []);
    // 8-bit: 512 samples = 512 bytes per block; a pair is 1024 < 2048 bytes -> warning.
    const w8 = validateAudioConfig({ blockingSize: 512 });
    assert.equal(w8.warnings.length, 1);
    assert.match(w8.warnings[0]!, /loses/);
    // It names the option, not the CLI's flag (wavelm chunks shows --blocking-size).
    assert.match(w8.warnings[0]!, /; use blockingSize 1024 or more to keep one left\/right pair per chunk$/);
    assert.doesNotMatch(w8.warnings[0]!, /--/);
    // 16-bit: 512 samples = 1024 bytes per block; a pair fills the 2048-byte chunk -> no warning.
    assert.deepEqual(validateAudioConfig({ blockingSize: 512, bitDepth: 16 }).warnings, []);
    assert.equal(validateAudioConfig({ blockingSize: 511, bitDepth: 16 }).warnings.length, 1);
    // Mono modes never block, so no warning.
    assert.deepEqual(validateAudioConfig({ blockingSize: 16, channelMode: 'mix' }).warnings, []);
  });
});
