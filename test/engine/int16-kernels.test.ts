// The predictor's 16-bit integer kernels: gemv16 (assembly/gemv16.ts, the projections) and attend8q
// with cache_put8 (assembly/attend16.ts, attention over the 16-bit key/value cache). Each against a
// float64 reference within the error its quantisation allows, and at the extremes where an i32 sum
// would overflow if the scaling were wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEngine, type Arena } from '../../src/engine/wasm.js';

const eng = getEngine();
type Pack16 = (Ntot: number, K: number, P: number, n0: number, W: number, ld: number, N: number) => void;
type Gemv16 = (N: number, K: number, x: number, P: number, b: number, y: number, xq: number) => void;
const pack16 = eng.fn<Pack16>('pack16');
const gemv16 = eng.fn<Gemv16>('gemv16');
const packBytes = eng.fn<(N: number, K: number) => number>('pack16_bytes');
const cachePut8 = eng.fn<(kb: number, vb: number, pos: number, k: number, v: number, ki: number, vi: number) => void>('cache_put8');
const attend8q =
  eng.fn<(qh: number, qsc: number, ks: number, vs: number, kb: number, vb: number, S: number, P: number, pos: number, out: number) => void>(
    'attend8q',
  );

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
}

function withArena<T>(fn: (a: Arena) => T): T {
  const a = eng.arena();
  try {
    return fn(a);
  } finally {
    a.dispose();
  }
}

/** gemv16 of x [K] by W [K][N] (+ b), checked against float64 within the bound its quantisation gives. */
function checkGemv(N: number, K: number, x: Float32Array, W: Float32Array, b: Float32Array | undefined, what: string): void {
  withArena((a) => {
    const P = a.f32(Math.ceil(packBytes(N, K) / 4), true);
    const Wb = a.from(W);
    pack16(N, K, P.ptr, 0, Wb.ptr, N, N);
    const xb = a.from(x);
    const bb = b ? a.from(b) : undefined;
    const y = a.from(new Float32Array(N + 3).fill(12345)); // sentinels after y[N-1]
    const xq = a.f32(K + 2, true);
    gemv16(N, K, xb.ptr, P.ptr, bb ? bb.ptr : 0, y.ptr, xq.ptr);
    const got = eng.f32(y);
    let l1 = 0;
    let mx = 0;
    for (const v of x) {
      l1 += Math.abs(v);
      mx = Math.max(mx, Math.abs(v));
    }
    const Kp = K + (K & 1);
    const sx = l1 > 0 ? Math.min((65536 - Kp) / l1, 32767 / mx) : 1;
    for (let n = 0; n < N; n++) {
      let ref = b ? b[n]! : 0;
      let wmax = 0;
      let sw = 0;
      let sxw = 0;
      for (let k = 0; k < K; k++) {
        const w = W[k * N + n]!;
        ref += x[k]! * w;
        wmax = Math.max(wmax, Math.abs(w));
        sw += Math.abs(w);
        sxw += Math.abs(x[k]! * w);
      }
      // |x - xq/sx| <= 0.5/sx and |w - wq step| <= step/2 per element, plus float32 rounding
      const step = wmax / 32767;
      const bound = (0.5 / sx) * sw + 0.5 * step * l1 + 0.25 * step * (K / sx) + 1e-6 * (sxw + Math.abs(ref)) + 1e-30;
      assert.ok(Math.abs(got[n]! - ref) <= bound, `${what}: y[${n}] = ${got[n]} vs ${ref} (bound ${bound})`);
    }
    for (let n = N; n < N + 3; n++) assert.equal(got[n], 12345, `${what}: wrote past y[${N - 1}]`);
  });
}

test('gemv16 matches float64 within its quantisation bound, with padding rows and columns, and writes only y[0..N)', () => {
  const r = rng(5);
  for (const [N, K] of [
    [7, 5],
    [30, 63],
    [64, 64],
    [192, 64],
    [256, 64],
    [64, 256],
    [13, 1],
  ] as const) {
    const W = Float32Array.from({ length: N * K }, () => r() * 0.4);
    // mixed magnitudes, as after a LayerNorm or a GELU: most entries small, a few large
    const x = Float32Array.from({ length: K }, (_, i) => (i % 11 === 0 ? 8 : 1) * r());
    const b = Float32Array.from({ length: N }, () => r());
    checkGemv(N, K, x, W, b, `N=${N} K=${K} with bias`);
    checkGemv(N, K, x, W, undefined, `N=${N} K=${K}`);
  }
  checkGemv(
    24,
    16,
    new Float32Array(16),
    Float32Array.from({ length: 24 * 16 }, () => r()),
    undefined,
    'x = 0',
  );
});

test('gemv16: every product at its largest magnitude does not overflow the i32 sums', () => {
  for (const K of [64, 256, 255]) {
    for (const sign of [1, -1]) {
      const N = 24;
      const x = new Float32Array(K).fill(sign * 3.5);
      const W = new Float32Array(N * K).fill(0.25);
      checkGemv(N, K, x, W, undefined, `K=${K} all at the maximum, sign ${sign}`);
      // one dominant entry: the scale comes from the maximum, not the sum
      const x1 = new Float32Array(K).fill(1e-3);
      x1[3] = -50;
      checkGemv(N, K, x1, W, undefined, `K=${K} one dominant entry`);
    }
  }
});

/** Attention of one head (size 8) over positions 0..pos in float64, from the unquantised keys and values. */
function attnRef(q: Float32Array, keys: Float32Array[], vals: Float32Array[], pos: number): Float64Array {
  const s = new Float64Array(pos + 1);
  let m = -Infinity;
  for (let i = 0; i <= pos; i++) {
    let d = 0;
    for (let c = 0; c < 8; c++) d += q[c]! * keys[i]![c]!;
    s[i] = d / Math.sqrt(8);
    m = Math.max(m, s[i]!);
  }
  const out = new Float64Array(8);
  let z = 0;
  for (let i = 0; i <= pos; i++) {
    const w = Math.exp(s[i]! - m);
    z += w;
    for (let c = 0; c < 8; c++) out[c] = out[c]! + w * vals[i]![c]!;
  }
  return out.map((v) => v / z);
}

/**
 * Feeds keys[0..] and vals[0..] position by position through cache_put8, and at the positions in `at`
 * checks attend8q against float64: within tol times the value bound.
 */
function checkAttention(
  keys: Float32Array[],
  vals: Float32Array[],
  queries: Float32Array[],
  kB: number,
  vB: number,
  at: number[],
  tol: number,
  what: string,
): void {
  const cap = Math.ceil(keys.length / 8) * 8;
  withArena((a) => {
    const kb = a.f32(cap * 4, false);
    const vb = a.f32(cap * 4, false);
    const S = a.f32(cap, false);
    const P = a.f32(cap / 2 + 8, false);
    const ks = a.from(new Float32Array(8).fill(kB / 32767));
    const ki = a.from(new Float32Array(8).fill(32767 / kB));
    const vs = a.from(new Float32Array(8).fill(vB / 4095));
    const vi = a.from(new Float32Array(8).fill(4095 / vB));
    const kx = a.f32(8);
    const vx = a.f32(8);
    const qx = a.f32(8);
    const out = a.f32(8);
    const want = new Set(at);
    for (let pos = 0; pos < keys.length; pos++) {
      eng.f32(kx).set(keys[pos]!);
      eng.f32(vx).set(vals[pos]!);
      cachePut8(kb.ptr, vb.ptr, pos, kx.ptr, vx.ptr, ki.ptr, vi.ptr);
      if (!want.has(pos)) continue;
      const q = queries[pos]!;
      eng.f32(qx).set(q);
      attend8q(qx.ptr, Math.LOG2E / Math.sqrt(8), ks.ptr, vs.ptr, kb.ptr, vb.ptr, S.ptr, P.ptr, pos, out.ptr);
      const got = eng.f32(out);
      const ref = attnRef(q, keys, vals, pos);
      for (let c = 0; c < 8; c++) {
        assert.ok(Math.abs(got[c]! - ref[c]!) <= tol * vB, `${what}: position ${pos}, dim ${c}: ${got[c]} vs ${ref[c]}`);
      }
    }
  });
}

test('attend8q (16-bit cache) matches float64 attention in all loop shapes: 1-3 blocks, pairs, 4-block passes, 2+ 256-key segments', () => {
  const r = rng(11);
  const T = 700;
  const kB = 3;
  const vB = 2;
  const vec = (s: number): Float32Array => Float32Array.from({ length: 8 }, () => 2 * s * r());
  const keys = Array.from({ length: T }, () => vec(kB));
  const vals = Array.from({ length: T }, () => vec(vB));
  const queries = Array.from({ length: T }, () => vec(2));
  const at = [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 63, 255, 256, 257, 263, 511, 512, 513, 699];
  checkAttention(keys, vals, queries, kB, vB, at, 2e-3, 'random');
  // a sharp query: one key dominates
  const sharp = queries.map((q) => q.map((v) => v * 40));
  checkAttention(keys, vals, sharp, kB, vB, at, 2e-3, 'sharp');
});

test('attend8q: uniform attention with every value at the bound does not overflow (2048 positions)', () => {
  const T = 2048;
  for (const sign of [1, -1]) {
    const keys = Array.from({ length: T }, () => new Float32Array(8).fill(0.5));
    const vals = Array.from({ length: T }, () => new Float32Array(8).fill(sign * 2));
    const queries = Array.from({ length: T }, () => new Float32Array(8).fill(1));
    checkAttention(keys, vals, queries, 1, 2, [255, 256, 1023, 2047], 1e-4, `all values ${sign * 2}`);
  }
});
