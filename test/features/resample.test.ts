import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toFloat64 } from '../../src/util/safetensors.js';
import { loadTensors } from './_fixtures.js';
import { designResampler, resample, resamplePoly, resampledLength, StreamingResampler, type FloatArray } from '../../src/features/index.js';
import { sharedPath } from '../helpers/shared.js';

const CASES: [string, number, number][] = [
  ['sms_speech_female_44k1_to_16k', 44100, 16000],
  ['vctk_p286_48k_to_16k', 48000, 16000],
  ['fsdd_8k_to_16k', 8000, 16000],
];

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

for (const [name, from, to] of CASES) {
  test(`resample matches scipy resample_poly: ${name}`, (t) => {
    const p = sharedPath(t, 'fixtures', 'resample', `${name}.safetensors`);
    if (!p) return;
    const st = loadTensors(p);
    const i16 = st.get('input_i16')!.data as Int16Array;
    const ref64 = toFloat64(st.get('output_f64')!);
    const ref32 = st.get('output_f32')!.data as Float32Array;
    const filt = toFloat64(st.get('filter_f64')!);
    const d = designResampler(to, from);
    assert.equal(d.filter.length, filt.length);
    // Our filter is firwin's times up.
    const scaled = filt.map((v) => v * d.up);
    assert.ok(maxAbsDiff(d.filter, scaled) < 1e-12 * d.up, 'filter design equals scipy firwin');

    const x64 = Float64Array.from(i16, (v) => v / 32768);
    const y64 = resample(x64, from, to);
    assert.ok(y64 instanceof Float64Array);
    assert.equal(y64.length, resampledLength(x64.length, to, from));
    assert.ok(maxAbsDiff(y64, ref64) < 1e-9, `float64 within 1e-9: ${maxAbsDiff(y64, ref64)}`);

    const x32 = Float32Array.from(i16, (v) => v / 32768);
    const y32 = resample(x32, from, to);
    assert.ok(y32 instanceof Float32Array);
    assert.ok(maxAbsDiff(y32, ref32) < 1e-4, `float32 within 1e-4 of full scale: ${maxAbsDiff(y32, ref32)}`);
    assert.ok(maxAbsDiff(y32, ref64) < 1e-6);

    // The other qualities stay close to the reference on real speech (they differ only near the band edge).
    for (const quality of ['fast', 'best'] as const) {
      const yq = resample(x64, from, to, { quality });
      assert.equal(yq.length, y64.length);
      let e = 0;
      let s = 0;
      for (let i = 0; i < yq.length; i++) {
        e += (yq[i]! - ref64[i]!) ** 2;
        s += ref64[i]! ** 2;
      }
      assert.ok(e / s < 1e-2, `${quality}: relative error energy ${e / s}`);
    }
  });
}

function streamAll(x: FloatArray, from: number, to: number, chunk: (i: number) => number, output: 'float32' | 'float64'): Float64Array {
  const r = new StreamingResampler(from, to, { output });
  const parts: FloatArray[] = [];
  let i = 0;
  let k = 0;
  while (i < x.length) {
    const n = Math.min(chunk(k++), x.length - i);
    parts.push(r.push(x.subarray(i, i + n)));
    i += n;
  }
  parts.push(r.flush());
  const out = new Float64Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

test('streaming resampler output is identical to the one-shot call', () => {
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed / 2 ** 32) * 2 - 1;
  };
  const x = Float64Array.from({ length: 20011 }, rnd);
  for (const [from, to] of [
    [44100, 16000],
    [8000, 16000],
    [48000, 16000],
    [16000, 16000],
    [22050, 24000],
    [7, 3],
  ] as const) {
    const one = resample(x, from, to);
    for (const chunk of [
      (): number => 1,
      (): number => 997,
      (k: number): number => ((k * 7919) % 3001) + (k % 5 === 0 ? 0 : 1),
      (): number => 100000,
    ]) {
      const s = streamAll(x, from, to, chunk, 'float64');
      assert.equal(s.length, one.length, `${from}->${to} length`);
      assert.deepEqual(s, one, `${from}->${to} identical`);
    }
    const one32 = resample(Float32Array.from(x), from, to);
    const s32 = streamAll(Float32Array.from(x), from, to, () => 4096, 'float32');
    assert.deepEqual(s32, Float64Array.from(one32));
  }
});

test('streaming memory stays bounded', () => {
  const r = new StreamingResampler(44100, 16000);
  const chunk = new Float32Array(4096).fill(0.25);
  let out = 0;
  for (let i = 0; i < 300; i++) out += r.push(chunk).length;
  out += r.flush().length;
  assert.equal(out, resampledLength(300 * 4096, 16000, 44100));
  // History never exceeds a couple of chunks plus one filter branch.
  const buf = (r as unknown as { buf: Float64Array }).buf;
  assert.ok(buf.length < 4 * 4096 + 4 * r.design.branchLen, `buffer ${buf.length}`);
});

test('resample edge cases', () => {
  // Empty and very short inputs.
  assert.equal(resample(new Float64Array(0), 44100, 16000).length, 0);
  assert.equal(resample(new Float64Array(1), 44100, 16000).length, 1);
  assert.equal(resample(Float64Array.of(1), 8000, 16000).length, 2);
  // Same rate returns a copy, as scipy does.
  const x = Float32Array.of(1, 2, 3);
  const y = resample(x, 16000, 16000);
  assert.deepEqual(y, x);
  assert.notEqual(y, x);
  // DC is preserved in the interior (gain at DC is exactly up, shared across up branches).
  const dc = new Float64Array(4000).fill(0.5);
  for (const [from, to] of [
    [44100, 16000],
    [8000, 16000],
    [16000, 44100],
    [48000, 16000],
  ]) {
    const out = resample(dc, from!, to!);
    const mid = out[Math.floor(out.length / 2)]!;
    assert.ok(Math.abs(mid - 0.5) < 2e-3, `${from}->${to} DC ${mid}`);
  }
  // Silence stays silence.
  assert.ok(resample(new Float32Array(999), 44100, 16000).every((v) => v === 0));
  // Ratios reduce by gcd: 2/4 equals 1/2.
  assert.deepEqual(resamplePoly(Float64Array.from(dc), 2, 4), resamplePoly(Float64Array.from(dc), 1, 2));
  assert.throws(() => resample(dc, 0, 16000), /positive integer/);
  assert.throws(() => resample(dc, 44100.5, 16000), /positive integer/);
});

test('a tone above the output Nyquist is attenuated; one below passes', () => {
  const from = 44100;
  const to = 16000;
  const n = 44100;
  const tone = (f: number): Float64Array => Float64Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * f * i) / from));
  const rms = (a: Float64Array): number => {
    let s = 0;
    const lo = Math.floor(a.length / 4);
    const hi = Math.floor((3 * a.length) / 4);
    for (let i = lo; i < hi; i++) s += a[i]! ** 2;
    return Math.sqrt(s / (hi - lo));
  };
  for (const quality of ['fast', 'default', 'best'] as const) {
    const pass = rms(resample(tone(1000), from, to, { quality }));
    assert.ok(Math.abs(pass - Math.SQRT1_2) < 0.01, `${quality} passband ${pass}`);
    const stop = rms(resample(tone(12000), from, to, { quality }));
    const floor = { fast: 1e-2, default: 3e-3, best: 1e-4 }[quality];
    assert.ok(stop < floor, `${quality} stopband ${stop}`);
  }
});

test('the scalar fallback agrees with the SIMD kernel', () => {
  const x = Float64Array.from({ length: 5003 }, (_, i) => Math.sin(i * 0.3) + 0.1 * Math.cos(i * 1.7));
  for (const [from, to] of [
    [44100, 16000],
    [8000, 16000],
    [48000, 16000],
    [16000, 22050],
  ]) {
    const simd = resample(x, from!, to!);
    process.env.WAVELM_NO_SIMD = '1';
    let scalar: Float64Array;
    try {
      scalar = resample(x, from!, to!);
    } finally {
      delete process.env.WAVELM_NO_SIMD;
    }
    assert.ok(maxAbsDiff(simd, scalar) < 1e-12, `${from}->${to}`);
  }
});
