// Single-query attention for head size 8 over a 16-bit key/value cache: the predictor's attention
// (assembly/lm.ts) for the LMIC model. Keys, values, the query and the attention weights are integers,
// and the dot products run on i32x4.dot_i16x8_s, eight multiply-adds in one instruction where f32x4
// needs two instructions for four; the cache takes half the memory. About twice as fast as the f32
// kernels it replaces (docs/engine.md), and every sum of products is an exact integer sum.
//
// Scales (all fixed before the first token, so encoder and decoder agree on every bit):
//   key k[c] ~ kq[c] * ks[c], |kq| <= 32767, ks[c] from a bound on |k[c]| over every possible input
//     (lm_prepare in lm.ts derives it from the weights), so no key is ever clipped;
//   query q'[c] = q[c] * log2(e)/sqrt(dh) * ks[c], quantised per step: qi = round(q' * 4095 / max|q'|);
//     then score (base 2) = sum qi kq * max|q'| / 4095, and |sum qi kq| < 8 * 4095 * 32767 < 2^30;
//   weight p = round(8192 * 2^(score - max score)), 0..8192, summed exactly as an integer;
//   value v[c] ~ vq[c] * vs[c], |vq| <= 4095, vs[c] from the same kind of bound;
//   out[c] = (sum p vq[c]) * vs[c] / (sum p): the products sum in i32 lanes (each lane adds two
//     products per 8 keys, below 2^26) and go to i64 every 256 keys, before a lane could overflow.
//
// Layouts per head (i16): keys in blocks of 4 positions, [block][dimension pair][position][2 dims],
// 64 bytes a block; values in groups of 8 positions, [group][dim][position], 128 bytes a group;
// weights P[position]. Scores S are i32 [position].

const MASKED: i32 = -0x40000000; // score of keys past the current position, below every real score

// 2^f on [-1/2, 1/2], degree 3, fitted for relative error (7.5e-5, below the weights' quantisation step)
const MAGIC: f32 = 12582912.0; // 1.5 * 2^23: x + MAGIC rounds x to an integer held in the low bits
const G0: f32 = 0.9999281167984009;
const G1: f32 = 0.6932609677314758;
const G2: f32 = 0.24261054396629333;
const G3: f32 = 0.05517132207751274;
// Vector constants in memory: V8 rebuilds a v128.const inside a loop on every iteration (lm.ts: KW).
const KQ = memory.data<f32>([
  -127.0, -127.0, -127.0, -127.0, MAGIC, MAGIC, MAGIC, MAGIC, G3, G3, G3, G3,
  G2, G2, G2, G2, G1, G1, G1, G1, G0, G0, G0, G0,
], 16);
// 127 + 13: the exponent bias of 2^(n + 13); then the bits of MAGIC
const KQI = memory.data<i32>([140, 140, 140, 140, 0x4b400000, 0x4b400000, 0x4b400000, 0x4b400000], 16);

// @ts-ignore: decorator
@inline
function kq(i: i32): v128 {
  return v128.load(KQ + (<usize>i << 4));
}
// @ts-ignore: decorator
@inline
function kqi(i: i32): v128 {
  return v128.load(KQI + (<usize>i << 4));
}

/** round(8192 * 2^t) for t <= 0 (t >= -127 after the clamp; below about -14 the result is 0), as i32 lanes. */
// @ts-ignore: decorator
@inline
function weight4(t0: v128, magic: v128): v128 {
  const t = f32x4.pmax(t0, kq(0));
  const big = f32x4.add(t, magic);
  const f = f32x4.sub(t, f32x4.sub(big, magic));
  let p = f32x4.add(f32x4.mul(kq(2), f), kq(3));
  p = f32x4.add(f32x4.mul(p, f), kq(4));
  p = f32x4.add(f32x4.mul(p, f), kq(5));
  // (n + 140) << 23 is 2^(n + 13): the 8192 comes free in the exponent
  const e = f32x4.mul(p, i32x4.shl(i32x4.add(big, kqi(0)), 23));
  return i32x4.sub(f32x4.add(e, magic), kqi(1));
}

// @ts-ignore: decorator
@inline
function tq(s: v128, mm: v128, cc: v128): v128 {
  return f32x4.mul(f32x4.convert_i32x4_s(i32x4.sub(s, mm)), cc);
}

// @ts-ignore: decorator
@inline
function lastMask(b: i32, pos: i32): v128 {
  return i32x4.gt_s(i32x4.add(i32x4.splat(b << 2), i32x4(0, 1, 2, 3)), i32x4.splat(pos));
}

// @ts-ignore: decorator
@inline
function dotq(kp: usize, q0: v128, q1: v128, q2: v128, q3: v128): v128 {
  const s = i32x4.add(i32x4.dot_i16x8_s(q0, v128.load(kp)), i32x4.dot_i16x8_s(q1, v128.load(kp, 16)));
  return i32x4.add(s, i32x4.add(i32x4.dot_i16x8_s(q2, v128.load(kp, 32)), i32x4.dot_i16x8_s(q3, v128.load(kp, 48))));
}

/** round(x * s) for the 8 floats at x (s0, s1: the scales of each half), clamped to +-lim, as i16x8. */
// @ts-ignore: decorator
@inline
function quant8(x: usize, s0: v128, s1: v128, lim: v128): v128 {
  const magic = kq(1);
  const nl = f32x4.neg(lim);
  // clamp, then x + 1.5 * 2^23 rounds to nearest even with the integer in its low bits
  const a = f32x4.pmax(f32x4.pmin(f32x4.mul(v128.load(x), s0), lim), nl);
  const b = f32x4.pmax(f32x4.pmin(f32x4.mul(v128.load(x, 16), s1), lim), nl);
  return i16x8.narrow_i32x4_s(i32x4.sub(f32x4.add(a, magic), kqi(1)), i32x4.sub(f32x4.add(b, magic), kqi(1)));
}

/**
 * Writes the key and value of position pos (8 dims each, f32 at k and v) into a head's caches, quantised
 * with the inverse steps ki[c] and vi[c]; a new key block or value group is cleared first, so positions
 * after pos hold zero keys and values.
 */
export function cache_put8(kb: usize, vb: usize, pos: i32, k: usize, v: usize, ki: usize, vi: usize): void {
  const kblk = kb + (<usize>(pos >> 2) << 6);
  const vgrp = vb + (<usize>(pos >> 3) << 7);
  if ((pos & 3) == 0) for (let i = 0; i < 4; i++) v128.store(kblk + (<usize>i << 4), i32x4.splat(0));
  if ((pos & 7) == 0) for (let i = 0; i < 8; i++) v128.store(vgrp + (<usize>i << 4), i32x4.splat(0));
  // the key's dimension pairs (2p, 2p+1) are the i32 lanes of the quantised vector
  const kv = quant8(k, v128.load(ki), v128.load(ki, 16), f32x4.splat(32767));
  const kj = kblk + (<usize>(pos & 3) << 2);
  v128.store32_lane(kj, kv, 0);
  v128.store32_lane(kj, kv, 1, 16);
  v128.store32_lane(kj, kv, 2, 32);
  v128.store32_lane(kj, kv, 3, 48);
  const vv = quant8(v, v128.load(vi), v128.load(vi, 16), f32x4.splat(4095));
  const vj = vgrp + (<usize>(pos & 7) << 1);
  v128.store16_lane(vj, vv, 0);
  v128.store16_lane(vj, vv, 1, 16);
  v128.store16_lane(vj, vv, 2, 32);
  v128.store16_lane(vj, vv, 3, 48);
  v128.store16_lane(vj, vv, 4, 64);
  v128.store16_lane(vj, vv, 5, 80);
  v128.store16_lane(vj, vv, 6, 96);
  v128.store16_lane(vj, vv, 7, 112);
}

/**
 * out[0..8) = attention of the query at qh (f32, 8 dims, unscaled) over positions 0..pos of one head:
 * qsc = log2(e)/sqrt(dh), ks/vs the key and value steps, S (i32) and P (i16) scratch of the cache's
 * capacity (P padded to a multiple of 8 positions).
 */
export function attend8q(qh: usize, qsc: f32, ks: usize, vs: usize, kb: usize, vb: usize, S: usize, P: usize, pos: i32, out: usize): void {
  // the query, folded with the key steps and quantised to +-4095; its pairs (2p, 2p+1) are the i32
  // lanes of qv, broadcast for dot_i16x8_s
  const qa = f32x4.mul(f32x4.mul(v128.load(qh), f32x4.splat(qsc)), v128.load(ks));
  const qb = f32x4.mul(f32x4.mul(v128.load(qh, 16), f32x4.splat(qsc)), v128.load(ks, 16));
  const am = f32x4.pmax(f32x4.abs(qa), f32x4.abs(qb));
  const qm = max<f32>(max<f32>(f32x4.extract_lane(am, 0), f32x4.extract_lane(am, 1)), max<f32>(f32x4.extract_lane(am, 2), f32x4.extract_lane(am, 3)));
  const sq: f32 = qm > 0 ? <f32>4095.0 / qm : 1;
  const cs: f32 = qm > 0 ? qm / <f32>4095.0 : 1;
  v128.store(S, qa);
  v128.store(S, qb, 16);
  const qv = quant8(S, f32x4.splat(sq), f32x4.splat(sq), f32x4.splat(4095));
  const q0 = i32x4.splat(i32x4.extract_lane(qv, 0)), q1 = i32x4.splat(i32x4.extract_lane(qv, 1));
  const q2 = i32x4.splat(i32x4.extract_lane(qv, 2)), q3 = i32x4.splat(i32x4.extract_lane(qv, 3));
  const nb = (pos + 4) >> 2;
  const last = nb - 1;
  // pass 1: integer scores and their maximum
  let mv = i32x4.splat(MASKED);
  let kp = kb;
  let sp = S;
  const end1 = S + (<usize>last << 4);
  for (; sp + 32 <= end1; sp += 32) {
    const s0 = dotq(kp, q0, q1, q2, q3);
    const s1 = dotq(kp + 64, q0, q1, q2, q3);
    v128.store(sp, s0);
    v128.store(sp, s1, 16);
    mv = i32x4.max_s(i32x4.max_s(mv, s0), s1);
    kp += 128;
  }
  if (sp < end1) {
    const s0 = dotq(kp, q0, q1, q2, q3);
    v128.store(sp, s0);
    mv = i32x4.max_s(mv, s0);
    kp += 64;
    sp += 16;
  }
  const mask = lastMask(last, pos);
  const sl = v128.bitselect(i32x4.splat(MASKED), dotq(kp, q0, q1, q2, q3), mask);
  v128.store(sp, sl);
  mv = i32x4.max_s(mv, sl);
  const m = max<i32>(max<i32>(i32x4.extract_lane(mv, 0), i32x4.extract_lane(mv, 1)), max<i32>(i32x4.extract_lane(mv, 2), i32x4.extract_lane(mv, 3)));
  // pass 2: integer weights (the masked keys' forced to 0) and their exact sum
  const sum = weights8q(S, P, nb, m, cs, mask);
  // pass 3: integer sums of weight x value, dimensions 0-3 then 4-7 (all eight accumulators with their
  // loads would not fit in V8's xmm registers)
  const inv: f64 = 1.0 / <f64>sum;
  const ng = (nb + 1) >> 1;
  accum4q(P, ng, vb, vs, inv, out);
  accum4q(P, ng, vb + 64, vs + 16, inv, out + 16);
}

// Pass 2: P[4b..4b+4) = round(8192 * 2^((S - m) cs)) for blocks 0..nb-1 (the last one masked), returns
// their sum. Four blocks per iteration (four independent polynomial chains), then one at a time.
function weights8q(S: usize, P: usize, nb: i32, m: i32, cs: f32, mask: v128): i32 {
  const mm = i32x4.splat(m);
  const cc = f32x4.splat(cs);
  const magic = kq(1);
  let lv = i32x4.splat(0);
  const end = S + (<usize>(nb - 1) << 4); // the unmasked blocks
  let sp = S;
  let pp = P;
  for (; sp + 64 <= end; sp += 64) {
    const p0 = weight4(tq(v128.load(sp), mm, cc), magic);
    const p1 = weight4(tq(v128.load(sp, 16), mm, cc), magic);
    const p2 = weight4(tq(v128.load(sp, 32), mm, cc), magic);
    const p3 = weight4(tq(v128.load(sp, 48), mm, cc), magic);
    v128.store(pp, i16x8.narrow_i32x4_s(p0, p1));
    v128.store(pp, i16x8.narrow_i32x4_s(p2, p3), 16);
    lv = i32x4.add(lv, i32x4.add(i32x4.add(p0, p1), i32x4.add(p2, p3)));
    pp += 32;
  }
  while (sp < end) {
    const p = weight4(tq(v128.load(sp), mm, cc), magic);
    v128.store64_lane(pp, i16x8.narrow_i32x4_s(p, p), 0);
    lv = i32x4.add(lv, p);
    sp += 16;
    pp += 8;
  }
  const pl = v128.andnot(weight4(tq(v128.load(sp), mm, cc), magic), mask);
  v128.store64_lane(pp, i16x8.narrow_i32x4_s(pl, pl), 0);
  lv = i32x4.add(lv, pl);
  return i32x4.extract_lane(lv, 0) + i32x4.extract_lane(lv, 1) + i32x4.extract_lane(lv, 2) + i32x4.extract_lane(lv, 3);
}

// Pass 3 for four dimensions whose values start at vp: out[c] = (sum_k P[k] vq[k][c]) * vs[c] * inv.
// Groups of 8 positions go in pairs (two independent products per accumulator add); each lane takes two
// products below 2^26 per group, so a segment of 32 groups stays below 2^31 and then moves to i64.
// Positions past the current one in the last group have zero values (and whatever weight): they add 0.
function accum4q(P: usize, ng: i32, vp: usize, vs: usize, inv: f64, out: usize): void {
  let t0: i64 = 0, t1: i64 = 0, t2: i64 = 0, t3: i64 = 0;
  const end = P + (<usize>ng << 4);
  let pp = P;
  while (pp < end) {
    const seg = min<usize>(end, pp + 512);
    let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
    for (; pp + 32 <= seg; pp += 32) {
      const p = v128.load(pp);
      const r = v128.load(pp, 16);
      a0 = i32x4.add(a0, i32x4.add(i32x4.dot_i16x8_s(p, v128.load(vp)), i32x4.dot_i16x8_s(r, v128.load(vp, 128))));
      a1 = i32x4.add(a1, i32x4.add(i32x4.dot_i16x8_s(p, v128.load(vp, 16)), i32x4.dot_i16x8_s(r, v128.load(vp, 144))));
      a2 = i32x4.add(a2, i32x4.add(i32x4.dot_i16x8_s(p, v128.load(vp, 32)), i32x4.dot_i16x8_s(r, v128.load(vp, 160))));
      a3 = i32x4.add(a3, i32x4.add(i32x4.dot_i16x8_s(p, v128.load(vp, 48)), i32x4.dot_i16x8_s(r, v128.load(vp, 176))));
      vp += 256;
    }
    if (pp < seg) {
      const p = v128.load(pp);
      a0 = i32x4.add(a0, i32x4.dot_i16x8_s(p, v128.load(vp)));
      a1 = i32x4.add(a1, i32x4.dot_i16x8_s(p, v128.load(vp, 16)));
      a2 = i32x4.add(a2, i32x4.dot_i16x8_s(p, v128.load(vp, 32)));
      a3 = i32x4.add(a3, i32x4.dot_i16x8_s(p, v128.load(vp, 48)));
      pp += 16;
      vp += 128;
    }
    t0 += lanes64(a0);
    t1 += lanes64(a1);
    t2 += lanes64(a2);
    t3 += lanes64(a3);
  }
  store<f32>(out, <f32>(<f64>t0 * <f64>load<f32>(vs) * inv));
  store<f32>(out, <f32>(<f64>t1 * <f64>load<f32>(vs, 4) * inv), 4);
  store<f32>(out, <f32>(<f64>t2 * <f64>load<f32>(vs, 8) * inv), 8);
  store<f32>(out, <f32>(<f64>t3 * <f64>load<f32>(vs, 12) * inv), 12);
}

// @ts-ignore: decorator
@inline
function lanes64(a: v128): i64 {
  return (<i64>i32x4.extract_lane(a, 0) + <i64>i32x4.extract_lane(a, 1)) + (<i64>i32x4.extract_lane(a, 2) + <i64>i32x4.extract_lane(a, 3));
}
