// The predictor's projections (assembly/lm.ts) in 16-bit integers: y = x W (+ b) with W quantised once
// per column and x once per call, the products summed exactly in i32 lanes by i32x4.dot_i16x8_s, eight
// multiply-adds per instruction where f32x4 takes two instructions for four. About twice the f32 gemv's
// speed (docs/engine.md), and W takes half the memory.
//
// Packed matrix (pack16): K rows rounded up to even (Kp), N columns rounded up to a multiple of 4 (Np),
// i16 [Kp/2][Np][2] (rows in pairs, interleaved, so that one dot_i16x8_s multiplies a broadcast pair of
// x by four columns' pairs), then f32 steps[Np]: W[k][n] ~ wq * steps[n], |wq| <= 32767 (the column's
// largest |W| maps to 32767). Padding rows and columns are zero.
//
// x is scaled so that sum |xq| <= 65536 - Kp and max |xq| <= 32767: every partial sum of products then
// stays below 65536 * 32767 < 2^31, whatever the values. y[n] = f32(sum) * (steps[n] / sx) (+ b[n]).

const MAGIC: f32 = 12582912.0; // 1.5 * 2^23

// @ts-ignore: decorator
@inline
function at(base: usize, idx: i32): usize {
  return base + (<usize>idx << 2);
}

/** Bytes of a packed K x N matrix and its steps. */
export function pack16_bytes(N: i32, K: i32): i32 {
  const Kp = (K + 1) & ~1;
  const Np = (N + 3) & ~3;
  return Kp * Np * 2 + Np * 4;
}

/**
 * Packs W (f32 [K][ld], columns c0..c0+N) into columns n0..n0+N of the packed matrix at P, whose full
 * width is Ntot (so several matrices can share one packed matrix and one call, e.g. Q, K and V).
 * P must start zeroed (the padding).
 */
export function pack16(Ntot: i32, K: i32, P: usize, n0: i32, W: usize, ld: i32, N: i32): void {
  const Kp = (K + 1) & ~1;
  const Np = (Ntot + 3) & ~3;
  const steps = P + <usize>(Kp * Np * 2);
  for (let n = 0; n < N; n++) {
    let m: f32 = 0;
    for (let k = 0; k < K; k++) m = max<f32>(m, abs<f32>(load<f32>(at(W, k * ld + n))));
    const inv: f32 = m > 0 ? <f32>32767.0 / m : 0;
    store<f32>(at(steps, n0 + n), m > 0 ? m / <f32>32767.0 : 0);
    for (let k = 0; k < K; k++) {
      const q = min<f32>(max<f32>(nearest<f32>(load<f32>(at(W, k * ld + n)) * inv), -32767), 32767);
      store<i16>(P + (<usize>(((k >> 1) * Np + n0 + n) * 2 + (k & 1)) << 1), <i16><i32>q);
    }
  }
}

/** y[N] = x[K] W (+ b[N] when b != 0), W packed by pack16 with width N; xq: scratch of Kp i16. */
export function gemv16(N: i32, K: i32, x: usize, P: usize, b: usize, y: usize, xq: usize): void {
  const Kp = (K + 1) & ~1;
  const Np = (N + 3) & ~3;
  const steps = P + <usize>(Kp * Np * 2);
  // the scale of x, from its sum and maximum of absolute values (four lanes, then combined in a fixed
  // order, so every machine agrees)
  let lv = f32x4.splat(0);
  let mv = f32x4.splat(0);
  let k = 0;
  for (; k + 4 <= K; k += 4) {
    const a = f32x4.abs(v128.load(at(x, k)));
    lv = f32x4.add(lv, a);
    mv = f32x4.pmax(mv, a);
  }
  let l1: f32 = (f32x4.extract_lane(lv, 0) + f32x4.extract_lane(lv, 1)) + (f32x4.extract_lane(lv, 2) + f32x4.extract_lane(lv, 3));
  let mx: f32 = max<f32>(max<f32>(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max<f32>(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  for (; k < K; k++) {
    const a = abs<f32>(load<f32>(at(x, k)));
    l1 += a;
    mx = max<f32>(mx, a);
  }
  // (f32 rounding of l1 can undercount it by a relative 1e-5; the rounding of each xq adds at most 1/2)
  const sx: f32 = l1 > 0 ? min<f32>(<f32>(<i32>65536 - Kp) / l1, <f32>32767.0 / mx) : 1;
  // xq = round(x sx): x sx + 1.5 * 2^23 rounds to nearest even, and its low bits are the integer
  const sv = f32x4.splat(sx);
  const magic = f32x4.splat(MAGIC);
  const mbits = i32x4.splat(0x4b400000);
  k = 0;
  for (; k + 8 <= K; k += 8) {
    const r0 = i32x4.sub(f32x4.add(f32x4.mul(v128.load(at(x, k)), sv), magic), mbits);
    const r1 = i32x4.sub(f32x4.add(f32x4.mul(v128.load(at(x, k + 4)), sv), magic), mbits);
    v128.store(xq + (<usize>k << 1), i16x8.narrow_i32x4_s(r0, r1));
  }
  for (; k < K; k++) store<i16>(xq + (<usize>k << 1), <i16><i32>nearest<f32>(load<f32>(at(x, k)) * sx));
  if (K & 1) store<i16>(xq + (<usize>K << 1), 0);
  const isx = f32x4.splat(<f32>1.0 / sx);
  const stride = <usize>Np << 2; // bytes per row pair
  const xe = xq + (<usize>Kp << 1);
  let j = 0;
  // 24 columns per pass: six independent accumulators, x's pair broadcast by one load
  for (; j + 24 <= N; j += 24) {
    let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0), a4 = i32x4.splat(0), a5 = i32x4.splat(0);
    let wp = P + (<usize>j << 2);
    for (let xp = xq; xp < xe; xp += 4) {
      const xv = v128.load32_splat(xp);
      a0 = i32x4.add(a0, i32x4.dot_i16x8_s(xv, v128.load(wp)));
      a1 = i32x4.add(a1, i32x4.dot_i16x8_s(xv, v128.load(wp, 16)));
      a2 = i32x4.add(a2, i32x4.dot_i16x8_s(xv, v128.load(wp, 32)));
      a3 = i32x4.add(a3, i32x4.dot_i16x8_s(xv, v128.load(wp, 48)));
      a4 = i32x4.add(a4, i32x4.dot_i16x8_s(xv, v128.load(wp, 64)));
      a5 = i32x4.add(a5, i32x4.dot_i16x8_s(xv, v128.load(wp, 80)));
      wp += stride;
    }
    out4(a0, isx, steps, b, y, j);
    out4(a1, isx, steps, b, y, j + 4);
    out4(a2, isx, steps, b, y, j + 8);
    out4(a3, isx, steps, b, y, j + 12);
    out4(a4, isx, steps, b, y, j + 16);
    out4(a5, isx, steps, b, y, j + 20);
  }
  for (; j + 8 <= N; j += 8) {
    let a0 = i32x4.splat(0), a1 = i32x4.splat(0);
    let wp = P + (<usize>j << 2);
    for (let xp = xq; xp < xe; xp += 4) {
      const xv = v128.load32_splat(xp);
      a0 = i32x4.add(a0, i32x4.dot_i16x8_s(xv, v128.load(wp)));
      a1 = i32x4.add(a1, i32x4.dot_i16x8_s(xv, v128.load(wp, 16)));
      wp += stride;
    }
    out4(a0, isx, steps, b, y, j);
    out4(a1, isx, steps, b, y, j + 4);
  }
  for (; j < N; j += 4) {
    let a0 = i32x4.splat(0);
    let wp = P + (<usize>j << 2);
    for (let xp = xq; xp < xe; xp += 4) {
      a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load32_splat(xp), v128.load(wp)));
      wp += stride;
    }
    if (j + 4 <= N) out4(a0, isx, steps, b, y, j);
    else {
      // the last 1-3 columns, lane by lane (y may have live data after its N floats)
      const r = f32x4.mul(f32x4.convert_i32x4_s(a0), f32x4.mul(v128.load(at(steps, j)), isx));
      for (let c = 0; c < N - j; c++) {
        let v = f32x4.extract_lane(r, 0);
        if (c == 1) v = f32x4.extract_lane(r, 1);
        else if (c == 2) v = f32x4.extract_lane(r, 2);
        store<f32>(at(y, j + c), b ? v + load<f32>(at(b, j + c)) : v);
      }
    }
  }
}

// @ts-ignore: decorator
@inline
function out4(a: v128, isx: v128, steps: usize, b: usize, y: usize, j: i32): void {
  const r = f32x4.mul(f32x4.convert_i32x4_s(a), f32x4.mul(v128.load(at(steps, j)), isx));
  v128.store(at(y, j), b ? f32x4.add(r, v128.load(at(b, j))) : r);
}
