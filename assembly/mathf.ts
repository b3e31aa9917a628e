// Deterministic elementary functions for the kernels (scalar and f32x4 SIMD).
// Every operation is a plain IEEE add/mul/div/convert (WebAssembly has no FMA and no relaxed SIMD
// here), so the results are bit-identical on every machine. Scalar and SIMD versions run the same
// operation sequence, so a kernel's scalar tail gives exactly what its SIMD body would.

// exp: Cephes expf. Range reduction x = n ln2 + r with ln2 split in two, degree-6 polynomial on r,
// then scaling by 2^n through the exponent bits. Relative error ~1 ulp on [-87, 88].
const EXP_HI: f32 = 88.3762626647949;
const EXP_LO: f32 = -87.3365447504019;
const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const P0: f32 = 1.9875691500e-4;
const P1: f32 = 1.3981999507e-3;
const P2: f32 = 8.3334519073e-3;
const P3: f32 = 4.1665795894e-2;
const P4: f32 = 1.6666665459e-1;
const P5: f32 = 5.0000001201e-1;

// @ts-ignore: decorator
@inline
export function expf_(x0: f32): f32 {
  let x = x0 > EXP_HI ? EXP_HI : x0;
  x = x < EXP_LO ? EXP_LO : x;
  const n = nearest<f32>(x * LOG2E);
  const r = (x - n * LN2_HI) - n * LN2_LO;
  const r2 = r * r;
  let p = P0;
  p = p * r + P1;
  p = p * r + P2;
  p = p * r + P3;
  p = p * r + P4;
  p = p * r + P5;
  p = p * r2 + r + 1.0;
  const scale = reinterpret<f32>((<i32>n + 127) << 23);
  return p * scale;
}

// @ts-ignore: decorator
@inline
export function expv(x0: v128): v128 {
  let x = f32x4.min(x0, f32x4.splat(EXP_HI));
  x = f32x4.max(x, f32x4.splat(EXP_LO));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI))), f32x4.mul(n, f32x4.splat(LN2_LO)));
  const r2 = f32x4.mul(r, r);
  let p = f32x4.splat(P0);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P4));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P5));
  p = f32x4.add(f32x4.add(f32x4.mul(p, r2), r), f32x4.splat(1.0));
  const e = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, e);
}

// log: Cephes logf. x = m 2^e with m in [sqrt(1/2), sqrt(2)), polynomial in f = m - 1.
const SQRTHF: f32 = 0.707106781186547524;
const L0: f32 = 7.0376836292e-2;
const L1: f32 = -1.1514610310e-1;
const L2: f32 = 1.1676998740e-1;
const L3: f32 = -1.2420140846e-1;
const L4: f32 = 1.4249322787e-1;
const L5: f32 = -1.6668057665e-1;
const L6: f32 = 2.0000714765e-1;
const L7: f32 = -2.4999993993e-1;
const L8: f32 = 3.3333331174e-1;

/** Natural log for finite x > 0 (the kernels only take logs of sums of exponentials, which are >= 1). */
export function logf_(x: f32): f32 {
  let bits = reinterpret<i32>(x);
  let e = ((bits >> 23) & 0xff) - 126;
  let m = reinterpret<f32>((bits & 0x007fffff) | 0x3f000000); // [0.5, 1)
  if (m < SQRTHF) {
    e -= 1;
    m = m + m - 1.0;
  } else {
    m = m - 1.0;
  }
  const z = m * m;
  let y = L0;
  y = y * m + L1;
  y = y * m + L2;
  y = y * m + L3;
  y = y * m + L4;
  y = y * m + L5;
  y = y * m + L6;
  y = y * m + L7;
  y = y * m + L8;
  y = y * m * z;
  const fe = <f32>e;
  y += -2.12194440e-4 * fe;
  y += -0.5 * z;
  return m + y + 0.693359375 * fe;
}

// tanh: Cephes tanhf. |x| < 0.625: odd polynomial; else 1 - 2/(exp(2|x|)+1) with the sign restored.
const T0: f32 = -5.70498872745e-3;
const T1: f32 = 2.06390887954e-2;
const T2: f32 = -5.37397155531e-2;
const T3: f32 = 1.33314422036e-1;
const T4: f32 = -3.33332819422e-1;

// @ts-ignore: decorator
@inline
export function tanhf_(x: f32): f32 {
  const a = abs<f32>(x);
  if (a < 0.625) {
    const z = x * x;
    let p = T0;
    p = p * z + T1;
    p = p * z + T2;
    p = p * z + T3;
    p = p * z + T4;
    return p * z * x + x;
  }
  const e = expf_(a + a);
  const t: f32 = 1.0 - 2.0 / (e + 1.0);
  return x < 0 ? -t : t;
}

// @ts-ignore: decorator
@inline
export function tanhv(x: v128): v128 {
  const a = f32x4.abs(x);
  const z = f32x4.mul(x, x);
  let p = f32x4.splat(T0);
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(T1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(T2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(T3));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(T4));
  const small = f32x4.add(f32x4.mul(f32x4.mul(p, z), x), x);
  const e = expv(f32x4.add(a, a));
  const big = f32x4.sub(f32x4.splat(1.0), f32x4.div(f32x4.splat(2.0), f32x4.add(e, f32x4.splat(1.0))));
  // copy the sign of x onto big
  const signed = v128.or(v128.and(big, i32x4.splat(0x7fffffff)), v128.and(x, i32x4.splat(0x80000000)));
  return v128.bitselect(small, signed, f32x4.lt(a, f32x4.splat(0.625)));
}

/** Horizontal sum of the four lanes in a fixed order ((l0 + l1) + (l2 + l3)). */
// @ts-ignore: decorator
@inline
export function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

// Exported for tests of the elementary functions (map over n floats).
export function vexp(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), expv(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), expf_(load<f32>(x + (<usize>i << 2))));
}
export function vtanh(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), tanhv(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), tanhf_(load<f32>(x + (<usize>i << 2))));
}
export function vlog(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(y + (<usize>i << 2), logf_(load<f32>(x + (<usize>i << 2))));
}

// Faster exp for attention weights: 2^(x log2 e) with a degree-5 minimax polynomial for 2^f on
// [-1/2, 1/2] (relative error 2.4e-7 for |x| < 1, growing to ~2e-6 near |x| = 20 through the
// rounding of x log2 e). 18 operations against Cephes' 27. Attention rows are softmax-normalised by
// sums of these same values, so the error is harmless there; the output distribution (the
// probabilities the coder sees) keeps expv.
const F0: f32 = 1.000000071703448;
const F1: f32 = 0.6931469684618033;
const F2: f32 = 0.2402211956545386;
const F3: f32 = 0.05550710983783569;
const F4: f32 = 0.009675547701283661;
const F5: f32 = 0.0013277213454950464;

// @ts-ignore: decorator
@inline
export function expv_fast(x: v128): v128 {
  let t = f32x4.mul(x, f32x4.splat(LOG2E));
  t = f32x4.max(t, f32x4.splat(-126.0));
  t = f32x4.min(t, f32x4.splat(127.0));
  const n = f32x4.nearest(t);
  const f = f32x4.sub(t, n);
  let p = f32x4.splat(F5);
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(F4));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(F3));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(F2));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(F1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(F0));
  const e = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, e);
}

export function vexp_fast(x: usize, y: usize, n: i32): void {
  for (let i = 0; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), expv_fast(v128.load(x + (<usize>i << 2))));
}
