/**
 * Every file in ../shared/data/odd (the scipy, hound and go-audio WAV test suites) gives the samples
 * their upstream tests expect, or a typed error. Expected values come from scipy's test_wavfile.py and
 * hound's src/read.rs, converted to wavelm's conventions (int32 left-justified, 8-bit unsigned).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { loadAudio, readAudioInfo, ULAW_TABLE, type AudioData } from '../../src/audio/index.js';
import { WavelmError } from '../../src/util/errors.js';
import { sharedPath, sharedPathOrUndefined } from '../helpers/shared.js';

const ODD = ['data', 'odd'];

function files(root: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(root)) {
    const p = join(root, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (/\.(wav|aif)$/i.test(name)) out.push(p);
  }
  return out.sort();
}

/** Rows of the table in a suite's SOURCE.txt: file -> {sample_rate, channels, bits, duration_s}. */
function sourceTable(suiteDir: string): Map<string, Record<string, string>> {
  const text = readFileSync(join(suiteDir, 'SOURCE.txt'), 'utf8');
  const rows = new Map<string, Record<string, string>>();
  let header: string[] | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith('|')) continue;
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    if (cells[0] === 'file') header = cells;
    else if (header && !cells[0]!.startsWith('---')) rows.set(cells[0]!, Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ''])));
  }
  return rows;
}

const samples = (a: AudioData) => Array.from(a.samples as ArrayLike<number>);
const shl8 = (v: number[]) => v.map((x) => x * 256);

describe('hound test samples', () => {
  const H = (t: Parameters<typeof sharedPath>[0], name: string) => sharedPath(t, ...ODD, 'hound', 'testsamples', name);
  const cases: Array<[string, number[], Partial<AudioData>?]> = [
    ['pcmwaveformat-16bit-44100Hz-mono.wav', [2, -3, 5, -7], { sampleType: 'int16', sampleRate: 44100 }],
    ['pcmwaveformat-16bit-44100Hz-mono-extra.wav', [2, -3, 5, -7]],
    ['waveformatex-16bit-44100Hz-mono.wav', [2, -3, 5, -7]],
    ['waveformatex-16bit-44100Hz-mono-extra.wav', [2, -3, 5, -7]],
    ['waveformatex-16bit-44100Hz-stereo.wav', [2, -3, 5, -7, 11, -13, 17, -19], { channels: 2 }],
    ['pcmwaveformat-8bit-44100Hz-mono.wav', [19, -53, 89, -127].map((x) => x + 128), { sampleType: 'uint8' }],
    ['waveformatex-8bit-11025Hz-mono.wav', [0, 0, 0, 0], { sampleType: 'uint8', sampleRate: 11025 }],
    [
      'pcmwaveformat-24bit-4byte-48kHz-stereo.wav',
      shl8([-96, 23_052, 8_388_607, -8_360_672]),
      { sampleType: 'int32', bitsPerSample: 24, channels: 2 },
    ],
    ['waveformatextensible-24bit-4byte-48kHz-stereo.wav', shl8([-96, 23_052, 8_388_607, -8_360_672]), { bitsPerSample: 24 }],
    [
      'waveformatextensible-24bit-192kHz-mono.wav',
      shl8([-17, 4_194_319, -6_291_437, 8_355_817]),
      { sampleRate: 192000, bitsPerSample: 24 },
    ],
    ['waveformatextensible-32bit-48kHz-stereo.wav', [19, -229_373, 33_587_161, -2_147_483_497], { bitsPerSample: 32 }],
    ['nonstandard-02.wav', [19, -229373, 33587161, -2147483497], { bitsPerSample: 32 }],
    ['waveformatex-ieeefloat-44100Hz-mono.wav', [2, 3, -16411, 1019], { sampleType: 'float32' }],
    ['waveformatextensible-ieeefloat-44100Hz-mono.wav', [2, 3, -16411, 1019], { sampleType: 'float32' }],
    ['nonstandard-01.wav', [0, 0], { bitsPerSample: 24 }],
  ];
  for (const [name, expected, props] of cases) {
    test(name, async (t) => {
      const p = H(t, name);
      if (!p) return;
      const a = await loadAudio(p);
      assert.deepEqual(samples(a), expected);
      for (const [k, v] of Object.entries(props ?? {})) assert.equal(a[k as keyof AudioData], v, k);
    });
  }

  test('pop.wav (EXTENSIBLE PCM) reads 100 frames', async (t) => {
    const p = H(t, 'pop.wav');
    if (!p) return;
    const a = await loadAudio(p);
    assert.equal(a.frames, Math.round(0.00227 * 44100));
  });

  test('fuzzer crash and oom inputs give typed errors, never crashes', async (t) => {
    const dir = sharedPath(t, ...ODD, 'hound', 'testsamples', 'fuzz');
    if (!dir) return;
    for (const f of files(dir)) {
      await assert.rejects(loadAudio(f), (e: unknown) => e instanceof WavelmError && e.message.includes(f), f);
    }
  });
});

describe('scipy wavfile test data', () => {
  const S = (t: Parameters<typeof sharedPath>[0], name: string) =>
    sharedPath(t, ...ODD, 'scipy-wavfile', 'scipy', 'io', 'tests', 'data', name);
  const P24 = [
    [-2147483648, -2147483392, -512],
    [-1073741824, -1073741568, -256],
    [0, 0, 0],
    [1073741824, 1073741568, 256],
    [2147483392, 2147483392, 512],
  ].flat();

  for (const name of [
    'test-8000Hz-le-3ch-5S-24bit.wav',
    'test-8000Hz-be-3ch-5S-24bit.wav',
    'test-8000Hz-le-3ch-5S-24bit-rf64.wav',
    'test-8000Hz-le-3ch-5S-24bit-inconsistent.wav',
  ]) {
    test(`${name}: 24-bit, 3 channels, 5 frames`, async (t) => {
      const p = S(t, name);
      if (!p) return;
      const a = await loadAudio(p);
      assert.equal(a.sampleType, 'int32');
      assert.equal(a.channels, 3);
      assert.equal(a.frames, 5);
      assert.deepEqual(samples(a), P24);
    });
  }

  test('20-bit in 3 bytes, with extra fmt bytes', async (t) => {
    const p = S(t, 'test-1234Hz-le-1ch-10S-20bit-extra.wav');
    if (!p) return;
    const a = await loadAudio(p);
    assert.equal(a.sampleRate, 1234);
    assert.equal(a.bitsPerSample, 20);
    const m = 2147479552;
    assert.deepEqual(samples(a), [m, -m, m >> 1, -m >> 1, m >> 2, -m >> 2, m >> 3, -m >> 3, m >> 4, -m >> 4]);
  });

  const wide: Array<[string, bigint[]]> = [
    [
      '36',
      [
        -9223372036854775808n,
        -9223372036586340352n,
        -536870912n,
        -4611686018427387904n,
        -4611686018158952448n,
        -268435456n,
        0n,
        0n,
        0n,
        4611686018427387904n,
        4611686018158952448n,
        268435456n,
        9223372036586340352n,
        9223372036586340352n,
        536870912n,
      ],
    ],
    [
      '45',
      [
        -9223372036854775808n,
        -9223372036854251520n,
        -1048576n,
        -4611686018427387904n,
        -4611686018426863616n,
        -524288n,
        0n,
        0n,
        0n,
        4611686018427387904n,
        4611686018426863616n,
        524288n,
        9223372036854251520n,
        9223372036854251520n,
        1048576n,
      ],
    ],
    [
      '53',
      [
        -9223372036854775808n,
        -9223372036854773760n,
        -4096n,
        -4611686018427387904n,
        -4611686018427385856n,
        -2048n,
        0n,
        0n,
        0n,
        4611686018427387904n,
        4611686018427385856n,
        2048n,
        9223372036854773760n,
        9223372036854773760n,
        4096n,
      ],
    ],
  ];
  for (const [bits, expected] of wide) {
    test(`${bits}-bit PCM reads exactly as float64 (value / 2^63)`, async (t) => {
      const p = S(t, `test-8000Hz-le-3ch-5S-${bits}bit.wav`);
      if (!p) return;
      const a = await loadAudio(p);
      assert.equal(a.sampleType, 'float64');
      assert.equal(a.bitsPerSample, Number(bits));
      assert.deepEqual(
        samples(a).map((x) => BigInt(x * 2 ** 63)),
        expected,
      );
    });
  }

  test('64-bit PCM reads to within float64 precision', async (t) => {
    const p = S(t, 'test-8000Hz-le-3ch-5S-64bit.wav');
    if (!p) return;
    const a = await loadAudio(p);
    const expected = [
      -9223372036854775808n,
      -9223372036854775807n,
      -2n,
      -4611686018427387904n,
      -4611686018427387903n,
      -1n,
      0n,
      0n,
      0n,
      4611686018427387904n,
      4611686018427387903n,
      1n,
      9223372036854775807n,
      9223372036854775807n,
      2n,
    ];
    const got = samples(a);
    expected.forEach((e, i) => {
      assert.ok(Math.abs(got[i]! - Number(e) / 2 ** 63) <= 2 ** -52, `sample ${i}`);
    });
  });

  test('12-bit in 16 stays left-justified; 5-bit in 8 stays unsigned', async (t) => {
    const p12 = S(t, 'test-8000Hz-le-4ch-9S-12bit.wav');
    const p5 = S(t, 'test-8000Hz-le-5ch-9S-5bit.wav');
    if (!p12 || !p5) return;
    const a = await loadAudio(p12);
    assert.equal(a.sampleType, 'int16');
    assert.deepEqual([a.channels, a.frames, a.bitsPerSample], [4, 9, 12]);
    const s = samples(a);
    assert.ok(s.every((x) => (x & 15) === 0));
    assert.deepEqual([Math.max(...s), Math.min(...s), s[0]], [32752, -32768, 0]);
    const b = await loadAudio(p5);
    assert.equal(b.sampleType, 'uint8');
    assert.deepEqual([b.channels, b.frames, b.bitsPerSample], [5, 9, 5]);
    const u = samples(b);
    assert.ok(u.every((x) => (x & 7) === 0));
    assert.deepEqual([Math.max(...u), Math.min(...u), u[0]], [248, 0, 128]);
  });

  test('RIFX and RF64 read the same samples as plain RIFF', async (t) => {
    const le = S(t, 'test-44100Hz-le-1ch-4bytes.wav');
    const be = S(t, 'test-44100Hz-be-1ch-4bytes.wav');
    const rf = S(t, 'test-44100Hz-le-1ch-4bytes-rf64.wav');
    if (!le || !be || !rf) return;
    const a = await loadAudio(le);
    assert.equal(a.sampleType, 'int32');
    assert.equal(a.frames, 4410);
    assert.deepEqual(samples(await loadAudio(be)), samples(a));
    assert.deepEqual(samples(await loadAudio(rf)), samples(a));
    assert.equal((await readAudioInfo(rf)).container, 'rf64');
    assert.equal((await readAudioInfo(be)).container, 'rifx');
  });

  test('float32 little- and big-endian agree; float64 EXTENSIBLE', async (t) => {
    const le = S(t, 'test-44100Hz-2ch-32bit-float-le.wav');
    const be = S(t, 'test-44100Hz-2ch-32bit-float-be.wav');
    const f64 = S(t, 'test-48000Hz-2ch-64bit-float-le-wavex.wav');
    if (!le || !be || !f64) return;
    const a = await loadAudio(le);
    assert.deepEqual([a.sampleType, a.channels, a.frames], ['float32', 2, 441]);
    // The two files were written separately and differ in the last bits of some samples.
    const b = samples(await loadAudio(be));
    assert.equal(b.length, a.frames * 2);
    samples(a).forEach((x, i) => {
      assert.ok(Math.abs(x - b[i]!) < 1e-6, `sample ${i}: ${x} vs ${b[i]}`);
    });
    const d = await loadAudio(f64);
    assert.deepEqual([d.sampleType, d.channels, d.frames], ['float64', 2, 480]);
    assert.ok(samples(d).every((x) => Math.abs(x) <= 1));
  });

  test('unsigned 8-bit stereo and mu-law', async (t) => {
    const u = S(t, 'test-8000Hz-le-2ch-1byteu.wav');
    const mu = S(t, 'test-8000Hz-le-1ch-1byte-ulaw.wav');
    if (!u || !mu) return;
    const a = await loadAudio(u);
    assert.deepEqual([a.sampleType, a.channels, a.frames], ['uint8', 2, 800]);
    const m = await loadAudio(mu);
    assert.equal(m.sampleType, 'int16');
    const raw = readFileSync(mu);
    const dataAt = raw.indexOf('data') + 8;
    const codes = [...raw.subarray(dataAt, dataAt + m.frames)];
    assert.deepEqual(
      samples(m),
      codes.map((c) => ULAW_TABLE[c]),
    );
  });

  test('early EOF: an error naming the readable frames, or those frames on request', async (t) => {
    const p = S(t, 'test-44100Hz-le-1ch-4bytes-early-eof.wav');
    const full = S(t, 'test-44100Hz-le-1ch-4bytes.wav');
    if (!p || !full) return;
    await assert.rejects(
      loadAudio(p),
      (e: unknown) => e instanceof WavelmError && e.code === 'EFORMAT' && /only 236 are in the file/.test(e.message),
    );
    const a = await loadAudio(p, { allowTruncated: true });
    assert.equal(a.frames, 236);
    const info = await readAudioInfo(p);
    assert.deepEqual([info.frames, info.declaredFrames], [236, 4410]);
    assert.equal((await readAudioInfo(full)).declaredFrames, undefined);
    assert.deepEqual(samples(a), samples(await loadAudio(full)).slice(0, 236));
  });

  for (const name of ['test-44100Hz-le-1ch-4bytes-early-eof-no-data.wav', 'test-44100Hz-le-1ch-4bytes-incomplete-chunk.wav']) {
    test(`${name}: typed format error`, async (t) => {
      const p = S(t, name);
      if (!p) return;
      await assert.rejects(loadAudio(p), (e: unknown) => e instanceof WavelmError && e.code === 'EFORMAT' && e.message.includes(p));
    });
  }
});

describe('go-audio/wav fixtures', () => {
  test('every file (WAV and the AIFF) loads with the rate, channels, bits and duration of SOURCE.txt', async (t) => {
    const dir = sharedPath(t, ...ODD, 'go-audio-wav');
    if (!dir) return;
    const table = sourceTable(dir);
    const list = files(join(dir, 'fixtures'));
    assert.ok(list.length >= 13);
    for (const f of list) {
      const row = table.get(relative(dir, f));
      assert.ok(row, `${f} is in SOURCE.txt`);
      const a = await loadAudio(f);
      assert.equal(a.sampleRate, Number(row.sample_rate), f);
      assert.equal(a.channels, Number(row.channels), f);
      assert.equal(a.bitsPerSample, Number(row.bits), f);
      assert.ok(Math.abs(a.frames / a.sampleRate - Number(row.duration_s)) < 0.0006, `${f}: ${a.frames} frames vs ${row.duration_s} s`);
      // Real recordings: samples are not garbage (bounded, not all equal).
      const s = samples(a);
      assert.ok(new Set(s.slice(0, 5000)).size > 10, `${f} has varied samples`);
    }
  });
});

test('the odd folder is reachable or the suite says why it skipped', (t) => {
  if (!sharedPathOrUndefined(...ODD)) t.skip('missing ../shared/data/odd');
});
