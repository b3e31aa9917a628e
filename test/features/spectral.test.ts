import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Tensor } from '../../src/util/safetensors.js';
import * as F from '../../src/features/index.js';
import { sharedPath } from '../helpers/shared.js';
import { loadTensors } from './_fixtures.js';

/**
 * 1e-5 relative, elementwise. For non-negative power-like quantities the floor is 1e-6 of the array's peak (bins
 * that are 120 dB down carry the reference's own float32 rounding); for signed log quantities (dB, MFCC), whose
 * values cross zero, "relative" is taken against the array's full scale.
 */
function assertClose(got: F.FeatureMatrix, ref: Tensor, what: string, signed = false): void {
  assert.deepEqual(got.shape, ref.shape, `${what}: shape`);
  const r = ref.data as Float32Array;
  let peak = 0;
  for (let i = 0; i < r.length; i++) peak = Math.max(peak, Math.abs(r[i]!));
  const floor = signed ? peak : 1e-6 * peak;
  let worst = 0;
  let at = -1;
  for (let i = 0; i < r.length; i++) {
    const e = Math.abs(got.data[i]! - r[i]!) / Math.max(Math.abs(r[i]!), floor);
    if (!(e <= worst)) {
      worst = e;
      at = i;
    }
  }
  assert.ok(worst <= 1e-5, `${what}: relative error ${worst} at ${at} (got ${got.data[at]}, want ${r[at]})`);
}

const CLIPS = [
  ['lj22k', 22050],
  ['sb16k', 16000],
] as const;

for (const [clip, sr] of CLIPS) {
  test(`librosa 0.11 conformance: ${clip}`, (t) => {
    const p = sharedPath(t, 'fixtures', 'mel', `${clip}.safetensors`);
    if (!p) return;
    const st = loadTensors(p);
    const y = st.get('audio_f32')!.data as Float32Array;
    const ref = (name: string): Tensor => {
      const v = st.get(name);
      assert.ok(v, `fixture has ${name}`);
      return v;
    };
    assertClose(F.spectrogram(y, { nFft: 2048, hopLength: 512 }), ref('stft_mag_nfft2048_hop512'), 'stft 2048');
    assertClose(F.spectrogram(y, { nFft: 400, hopLength: 160 }), ref('stft_mag_nfft400_hop160'), 'stft 400');
    // Complex STFT magnitude agrees with the magnitude spectrogram.
    const c = F.stft(y, { nFft: 400, hopLength: 160 });
    const mag = { data: c.re.data.map((re, i) => Math.hypot(re, c.im.data[i]!)), shape: c.re.shape };
    assertClose(mag, ref('stft_mag_nfft400_hop160'), 'complex stft 400');
    let filterbanks = 0;
    for (const nFft of [400, 2048]) {
      const nMels = nFft === 400 ? 80 : 128;
      for (const htk of [false, true]) {
        for (const norm of ['slaney', null] as const) {
          const name = `mel_fb_nfft${nFft}_nmels${nMels}_${htk ? 'htk' : 'slaney'}_norm${norm ?? 'None'}`;
          if (!st.has(name)) continue;
          const fb = F.melFilterbank({ sr, nFft, nMels, htk, norm });
          assertClose(fb, ref(name), name);
          // The sparse ranges cover every nonzero weight.
          const bins = fb.shape[1];
          for (let m = 0; m < nMels; m++) {
            for (let k = 0; k < bins; k++) if (k < fb.start[m]! || k >= fb.end[m]!) assert.equal(fb.data[m * bins + k], 0);
          }
          filterbanks++;
        }
      }
    }
    assert.ok(filterbanks >= 5);
    const md = F.melSpectrogram(y, { sr });
    assertClose(md, ref('melspec_default'), 'melspec default');
    assertClose(F.melSpectrogram(y, { sr, nMels: 80 }), ref('melspec_nmels80'), 'melspec 80');
    const m400 = F.melSpectrogram(y, { sr, nFft: 400, hopLength: 160, nMels: 80 });
    assertClose(m400, ref('melspec_nfft400_hop160_nmels80'), 'melspec 400/160/80');
    assertClose(F.powerToDb(md), ref('power_to_db_melspec_default'), 'power_to_db', true);
    assertClose(F.powerToDb(md, { ref: 'max' }), ref('power_to_db_melspec_default_refmax'), 'power_to_db ref=max', true);
    assertClose(F.powerToDb(m400), ref('power_to_db_melspec_nfft400_hop160_nmels80'), 'power_to_db 400', true);
    assertClose(F.mfcc(y, { sr, nMfcc: 13 }), ref('mfcc13'), 'mfcc13', true);
    const db = ref('power_to_db_melspec_default');
    assertClose(
      F.mfccFromDb({ data: db.data as Float32Array, shape: db.shape as [number, number] }, { nMfcc: 13 }),
      ref('mfcc13_from_melspec_default_db'),
      'mfcc from S',
      true,
    );
  });
}

function naiveDft(x: Float64Array): [Float64Array, Float64Array] {
  const n = x.length;
  const b = Math.floor(n / 2) + 1;
  const re = new Float64Array(b);
  const im = new Float64Array(b);
  for (let k = 0; k < b; k++) {
    for (let t = 0; t < n; t++) {
      const a = (-2 * Math.PI * k * t) / n;
      re[k]! += x[t]! * Math.cos(a);
      im[k]! += x[t]! * Math.sin(a);
    }
  }
  return [re, im];
}

test('real FFT matches a direct DFT for mixed-radix and prime lengths', () => {
  for (const n of [1, 2, 3, 5, 6, 8, 12, 15, 18, 50, 49, 77, 97, 128, 400, 480, 510, 1000, 2048]) {
    for (const useFftJs of [true, false]) {
      const x = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 1.3) + ((i * 7) % 5) * 0.1);
      const f = new F.RealFFT(n, { useFftJs });
      const re = new Float64Array(f.bins);
      const im = new Float64Array(f.bins);
      f.transform(x, re, im);
      const [r2, i2] = naiveDft(x);
      for (let k = 0; k < f.bins; k++) {
        assert.ok(Math.abs(re[k]! - r2[k]!) < 1e-9 * n && Math.abs(im[k]! - i2[k]!) < 1e-9 * n, `n=${n} bin ${k}`);
      }
    }
  }
});

test('windows are periodic, as scipy get_window(fftbins=True)', () => {
  const w = F.getWindow('hann', 8);
  assert.ok(Math.abs(w[0]!) < 1e-15 && Math.abs(w[4]! - 1) < 1e-15 && Math.abs(w[7]! - w[1]!) < 1e-15);
  const h = F.getWindow('hamming', 4);
  assert.ok(Math.abs(h[0]! - 0.08) < 1e-12 && Math.abs(h[2]! - 1) < 1e-12);
  assert.throws(() => F.getWindow('kaiser' as F.WindowName, 8), /window must be/);
});

test('edge cases: short signals, silence, DC, odd lengths, padding modes', () => {
  // Shorter than n_fft: center=true pads; librosa gives 1 + len // hop frames.
  const short = Float32Array.from({ length: 300 }, (_, i) => Math.sin(i / 5));
  const s = F.spectrogram(short, { nFft: 2048, hopLength: 512 });
  assert.deepEqual(s.shape, [1025, 1]);
  assert.throws(() => F.spectrogram(short, { nFft: 2048, center: false }), /too large/);
  assert.deepEqual(F.spectrogram(short, { nFft: 256, hopLength: 64, center: false }).shape, [129, 1 + Math.floor((300 - 256) / 64)]);
  // Odd lengths and odd n_fft.
  assert.deepEqual(F.spectrogram(new Float32Array(1001), { nFft: 401, hopLength: 100 }).shape, [201, 11]);
  assert.deepEqual(F.melSpectrogram(new Float32Array(12345), { sr: 16000, nFft: 400, hopLength: 160, nMels: 80 }).shape, [
    80,
    1 + Math.floor(12345 / 160),
  ]);
  // Silence: power 0, dB at the amin floor (-100 dB) clipped by nothing since the peak is the floor.
  const sil = F.melSpectrogram(new Float32Array(4000), { sr: 16000 });
  assert.ok(sil.data.every((v) => v === 0));
  const db = F.powerToDb(sil);
  assert.ok(db.data.every((v) => Math.abs(v + 100) < 1e-4));
  const mf = F.mfcc(new Float32Array(4000), { sr: 16000 });
  assert.deepEqual(mf.shape, [20, 1 + Math.floor(4000 / 512)]);
  // DC: with a periodic Hann window all energy lands in bins 0 and 1 of interior frames.
  const dc = new Float32Array(8192).fill(0.5);
  const sp = F.spectrogram(dc, { nFft: 1024, hopLength: 256, center: false, power: 2 });
  const T = sp.shape[1];
  const b0 = sp.data[0 * T]!;
  assert.ok(Math.abs(Math.sqrt(b0) - 0.5 * 512) < 1e-3, `DC bin ${Math.sqrt(b0)}`);
  for (let k = 2; k < 513; k++) assert.ok(sp.data[k * T]! < 1e-12 * b0);
  // Reflect / edge padding follow numpy.pad.
  const y = Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
  const win = new Float64Array(4).fill(1);
  const first = (padMode: F.PadMode): number => F.stft(y, { nFft: 4, hopLength: 1, window: win, padMode }).re.data[0]!;
  assert.equal(first('constant'), 0 + 0 + 1 + 2);
  assert.equal(first('reflect'), 3 + 2 + 1 + 2);
  assert.equal(first('edge'), 1 + 1 + 1 + 2);
  assert.equal(first('symmetric'), 2 + 1 + 1 + 2);
  // top_db clips, ref scales.
  const S: F.FeatureMatrix = { data: Float32Array.of(1, 1e-3, 1e-12, 100), shape: [2, 2] };
  assert.deepEqual(
    Array.from(F.powerToDb(S, { topDb: 80 }).data).map((v) => Math.round(v * 1000) / 1000),
    [0, -30, -60, 20],
  );
  assert.deepEqual(
    Array.from(F.powerToDb(S, { topDb: null, ref: 'max' }).data).map((v) => Math.round(v * 1000) / 1000),
    [-20, -50, -120, 0],
  );
  // Bad options are ConfigErrors that name the option.
  assert.throws(() => F.melSpectrogram(dc, { nFft: 400, winLength: 500 }), /win_length/);
  assert.throws(() => F.mfcc(dc, { nMels: 10, nMfcc: 20 }), /n_mfcc/);
  assert.throws(() => F.melFilterbank({ sr: 16000, fmin: 9000 }), /fmin/);
});

test('mfcc lifter follows librosa: M * (1 + lifter/2 sin(pi (k+1) / lifter))', () => {
  const y = Float32Array.from({ length: 8000 }, (_, i) => Math.sin(i / 3) * 0.3 + Math.sin(i / 17) * 0.2);
  const plain = F.mfcc(y, { sr: 16000, nMfcc: 13 });
  const lift = F.mfcc(y, { sr: 16000, nMfcc: 13, lifter: 22 });
  const T = plain.shape[1];
  for (let k = 0; k < 13; k++) {
    const g = 1 + 11 * Math.sin((Math.PI * (k + 1)) / 22);
    assert.ok(Math.abs(lift.data[k * T + 3]! - plain.data[k * T + 3]! * g) < 1e-3 * Math.abs(plain.data[k * T + 3]! * g) + 1e-4);
  }
});

test('the SIMD two-frame FFT path agrees with the scalar path (odd frame counts, padding modes, odd n_fft)', () => {
  const y = Float32Array.from({ length: 7001 }, (_, i) => Math.sin(i * 0.031) * 0.4 + Math.sin(i * 0.77) * 0.1 + ((i * 7919) % 13) * 1e-3);
  const cases: F.MelSpectrogramOptions[] = [
    { sr: 16000, nFft: 400, hopLength: 160, nMels: 80 },
    { sr: 22050 },
    { sr: 16000, nFft: 512, hopLength: 100, nMels: 40, padMode: 'reflect' },
    { sr: 16000, nFft: 480, hopLength: 333, nMels: 64, center: false },
    { sr: 16000, nFft: 401, hopLength: 160, nMels: 40 },
    { sr: 16000, nFft: 8192, hopLength: 2048, nMels: 128, padMode: 'edge' },
  ];
  for (const opts of cases) {
    const simd = F.melSpectrogram(y, opts);
    const st = F.stft(y, opts);
    process.env.WAVELM_NO_SIMD = '1';
    let scalar: F.FeatureMatrix;
    let st2: { re: F.FeatureMatrix; im: F.FeatureMatrix };
    try {
      scalar = F.melSpectrogram(y, opts);
      st2 = F.stft(y, opts);
    } finally {
      delete process.env.WAVELM_NO_SIMD;
    }
    assert.deepEqual(simd.shape, scalar.shape);
    let peak = 0;
    for (const v of scalar.data) peak = Math.max(peak, v);
    for (let i = 0; i < simd.data.length; i++) {
      assert.ok(Math.abs(simd.data[i]! - scalar.data[i]!) <= 1e-6 * Math.abs(scalar.data[i]!) + 1e-9 * peak, `n_fft ${opts.nFft} at ${i}`);
    }
    for (let i = 0; i < st.re.data.length; i++) {
      assert.ok(Math.abs(st.re.data[i]! - st2.re.data[i]!) < 1e-5 && Math.abs(st.im.data[i]! - st2.im.data[i]!) < 1e-5);
    }
  }
});

test('mfcc(y) is exactly mfccFromDb(powerToDb(melSpectrogram(y))) (the fused dB pass rounds as powerToDb does)', () => {
  const y = Float32Array.from({ length: 9000 }, (_, i) => Math.sin(i * 0.02) * 0.5 + Math.sin(i * 0.9) * 1e-4);
  for (const opts of [
    { sr: 16000, nFft: 400, hopLength: 160, nMels: 80, nMfcc: 13 },
    { sr: 22050, ref: 'max' as const, topDb: 40 },
    { sr: 8000, topDb: null, lifter: 22 },
  ]) {
    const fused = F.mfcc(y, opts);
    const staged = F.mfccFromDb(F.powerToDb(F.melSpectrogram(y, opts), opts), opts);
    assert.deepEqual(fused, staged);
  }
});

test('the SIMD DCT gives the same bits as the scalar one (same summation order)', () => {
  const T = 301;
  const S: F.FeatureMatrix = { data: Float32Array.from({ length: 40 * T }, (_, i) => Math.sin(i * 0.37) * 30 - 20), shape: [40, T] };
  const simd = F.mfccFromDb(S, { nMfcc: 13 });
  process.env.WAVELM_NO_SIMD = '1';
  try {
    assert.deepEqual(simd, F.mfccFromDb(S, { nMfcc: 13 }));
  } finally {
    delete process.env.WAVELM_NO_SIMD;
  }
});
