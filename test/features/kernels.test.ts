// The WebAssembly SIMD kernels of assembly/features/ against plain float64 JavaScript doing the same operations in
// the same order, lane by lane: the outputs must be the same bits, not merely close. (JavaScript numbers are IEEE
// float64 without fused multiply-add, as the kernels are.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ComplexFFT } from '../../src/features/fft.js';
import { PairRealFFT, SimdDct } from '../../src/features/fftsimd.js';
import { featureKernels } from '../../src/features/wasm.js';

/** A deterministic generator of values in [-0.5, 0.5). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

function assertSameBits(actual: Float64Array | Float32Array, expected: Float64Array | Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i]))
      assert.fail(`${what}: element ${i} is ${actual[i]}, the float64 reference gives ${expected[i]}`);
  }
}

/**
 * Bins 0..n/2 (re, im, re^2 + im^2) of one windowed frame as the pair FFT computes each lane: pack even/odd samples
 * into an n/2-point complex vector, the scalar Stockham FFT (ComplexFFT, same butterflies and twiddles), then the
 * untangling step written as assembly/features/pairfft.ts's post() writes it (Z[h] read as Z[0]).
 */
function referenceRealFFT(frame: Float64Array, win: Float64Array): { re: Float64Array; im: Float64Array; pow: Float64Array } {
  const n = frame.length;
  const h = n / 2;
  const zr = new Float64Array(h);
  const zi = new Float64Array(h);
  for (let j = 0; j < h; j++) {
    zr[j] = frame[2 * j]! * win[2 * j]!;
    zi[j] = frame[2 * j + 1]! * win[2 * j + 1]!;
  }
  new ComplexFFT(h).transform(zr, zi);
  const re = new Float64Array(h + 1);
  const im = new Float64Array(h + 1);
  const pow = new Float64Array(h + 1);
  for (let k = 0; k <= h; k++) {
    const a = k === h ? 0 : k;
    const b = k === 0 ? 0 : h - k;
    const er = 0.5 * (zr[a]! + zr[b]!);
    const ei = 0.5 * (zi[a]! - zi[b]!);
    const or = 0.5 * (zi[a]! + zi[b]!);
    const oi = 0.5 * (zr[b]! - zr[a]!);
    const wr = Math.cos((-2 * Math.PI * k) / n);
    const wi = Math.sin((-2 * Math.PI * k) / n);
    re[k] = er + (or * wr - oi * wi);
    im[k] = ei + (or * wi + oi * wr);
    pow[k] = re[k]! * re[k]! + im[k]! * im[k]!;
  }
  return { re, im, pow };
}

test('the pair FFT gives each lane the bits of the scalar float64 FFT (radix 2, 3, 4, 5 and their mixtures)', () => {
  const rnd = lcg(1);
  // 2^k, 2^k*3, 2^k*5, 3^2, 5^2 (n_fft 400), the 4096 maximum and mixtures of every radix
  for (const n of [4, 6, 8, 10, 12, 18, 30, 50, 64, 120, 400, 480, 512, 1000, 2048, 4096]) {
    const pair = PairRealFFT.create(n);
    assert.ok(pair, `n_fft ${n} has a pair FFT`);
    const win = Float64Array.from({ length: n }, rnd);
    pair.setWindow(win);
    for (let call = 0; call < 2; call++) {
      const frames = [Float64Array.from({ length: n }, rnd), Float64Array.from({ length: n }, rnd)];
      for (const lane of [0, 1] as const) pair.view.set(frames[lane]!, pair.frameOffset(lane));
      pair.run();
      for (const lane of [0, 1] as const) {
        const ref = referenceRealFFT(frames[lane]!, win);
        const got = (at: number): Float64Array => Float64Array.from({ length: n / 2 + 1 }, (_, k) => pair.view[at + 2 * k]!);
        assertSameBits(got(pair.reOffset(lane)), ref.re, `n_fft ${n} lane ${lane} re`);
        assertSameBits(got(pair.imOffset(lane)), ref.im, `n_fft ${n} lane ${lane} im`);
        assertSameBits(got(pair.powOffset(lane)), ref.pow, `n_fft ${n} lane ${lane} power`);
      }
    }
  }
});

test('the pair FFT declines lengths it has no kernels for', () => {
  for (const n of [2, 7, 14, 401, 8192]) assert.equal(PairRealFFT.create(n), undefined, `n_fft ${n}`);
});

test('the mel kernel sums each band in weight order, both lanes, as the scalar applyMel', () => {
  const rnd = lcg(2);
  const n = 400;
  const pair = PairRealFFT.create(n)!;
  pair.setWindow(new Float64Array(n).fill(1));
  const nMels = 9;
  const start = Int32Array.from({ length: nMels }, (_, m) => m * 20);
  const off = new Int32Array(nMels + 1);
  for (let m = 0; m < nMels; m++) off[m + 1] = off[m]! + (m === 4 ? 0 : 1 + ((m * 7) % 13)); // band 4 is empty
  const w = Float64Array.from({ length: off[nMels]! }, rnd);
  const melOut = pair.setMel(start, off, w);
  for (const lane of [0, 1] as const) pair.view.set(Float64Array.from({ length: n }, rnd), pair.frameOffset(lane));
  pair.run();
  pair.applyMel();
  for (const lane of [0, 1] as const) {
    const pow = pair.powOffset(lane);
    const expected = new Float64Array(nMels);
    for (let m = 0; m < nMels; m++) {
      let acc = 0;
      for (let j = off[m]!; j < off[m + 1]!; j++) acc += w[j]! * pair.view[pow + 2 * (start[m]! + j - off[m]!)]!;
      expected[m] = acc;
    }
    assertSameBits(
      Float64Array.from({ length: nMels }, (_, m) => pair.view[melOut + 2 * m + lane]!),
      expected,
      `lane ${lane}`,
    );
  }
});

test('the DCT kernel sums over inputs in ascending order, frame by frame, across blocks and padding', () => {
  const rnd = lcg(3);
  for (const [nIn, nOut, T] of [
    [40, 13, 8],
    [128, 20, 300],
    [7, 7, 17],
    [80, 40, 513],
  ] as const) {
    const basis = Float64Array.from({ length: nIn * nOut }, rnd);
    const S = Float32Array.from({ length: nIn * T }, () => rnd() * 80);
    const dct = SimdDct.create(nIn, nOut, basis)!;
    for (const map of [undefined, (v: number): number => Math.fround(Math.log(Math.abs(v) + 1e-3))]) {
      const expected = new Float32Array(nOut * T);
      for (let t = 0; t < T; t++) {
        for (let k = 0; k < nOut; k++) {
          let acc = 0;
          for (let i = 0; i < nIn; i++) acc += basis[k * nIn + i]! * (map ? map(S[i * T + t]!) : S[i * T + t]!);
          expected[k * T + t] = acc;
        }
      }
      assertSameBits(dct.apply(S, T, map), expected, `${nIn}x${nOut}, ${T} frames${map ? ', mapped' : ''}`);
    }
  }
});

test('the polyphase kernel sums taps in four two-lane accumulators and steps phases as the resampler expects', () => {
  const rnd = lcg(4);
  const k = featureKernels()!;
  const [up, k8, n] = [5, 24, 300];
  const [dq, dr] = [3, 4]; // down = dq * up + dr = 19
  const nx = n * 4 + k8;
  const bPtr = k.base;
  const xPtr = bPtr + up * k8 * 8;
  const outPtr = xPtr + nx * 8;
  k.memory.grow(Math.ceil((outPtr + n * 8) / 65536));
  const mem = new Float64Array(k.memory.buffer);
  const branches = Float64Array.from({ length: up * k8 }, rnd);
  const x = Float64Array.from({ length: nx }, rnd);
  mem.set(branches, bPtr / 8);
  mem.set(x, xPtr / 8);
  let [ph, iLow] = [2, 3];
  k.poly(xPtr, bPtr, outPtr, n, ph, iLow, up, dq, dr, k8);
  const expected = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const acc = new Float64Array(8); // accumulator j, lane l at 2j + l
    for (let i = 0; i < k8; i += 8) for (let a = 0; a < 8; a++) acc[a] = acc[a]! + branches[ph * k8 + i + a]! * x[iLow + i + a]!;
    expected[t] = acc[0]! + acc[2]! + (acc[4]! + acc[6]!) + (acc[1]! + acc[3]! + (acc[5]! + acc[7]!));
    ph += dr;
    iLow += dq;
    if (ph >= up) {
      ph -= up;
      iLow++;
    }
  }
  assertSameBits(new Float64Array(k.memory.buffer, outPtr, n), expected, 'poly');
});

test('every caller gets an instance with memory of its own', () => {
  const a = featureKernels()!;
  const b = featureKernels()!;
  assert.notEqual(a.memory, b.memory);
  assert.equal(a.base % 64, 0);
});

test('WAVELM_NO_SIMD=1 turns the kernels off (the scalar paths take over)', () => {
  process.env.WAVELM_NO_SIMD = '1';
  try {
    assert.equal(featureKernels(), undefined);
    assert.equal(PairRealFFT.create(400), undefined);
    assert.equal(SimdDct.create(40, 13, new Float64Array(40 * 13)), undefined);
  } finally {
    delete process.env.WAVELM_NO_SIMD;
  }
});
