// Fused causal multi-head attention, forward and backward, one sequence at a time.
// Per query row i the kernel scores only keys 0..i (the masked half is never computed), holds one
// row of T scores (memory O(T) per head, never T x T), and saves logsumexp per row so the backward
// pass recomputes the probabilities instead of storing them. Keys and values are transposed per
// head into [dh, T] scratch so that the inner loops run SIMD over 4 key positions at a time.
// Fixed orders: scores sum over c = 0..dh-1; the row sum and the weighted value sums run in four
// lanes over key blocks, combined ((l0+l1)+(l2+l3)).
import { expv_fast as expv, logf_, hsum } from './mathf';

// @ts-ignore: decorator
@inline
function at(base: usize, idx: i32): usize {
  return base + (<usize>idx << 2);
}

/** Padded row length of the transposed scratch (multiple of 4). */
// @ts-ignore: decorator
@inline
function padT(T: i32): i32 {
  return (T + 3) & ~3;
}

// Packed key blocks: Kt[(b*dh + c)*4 + l] = K[(4b+l)*ld + off + c], zero past T. One block of four
// keys is dh contiguous vectors, so the inner loops stream through memory (a [dh, T] layout with a
// power-of-two T puts every row in the same L1 set and thrashes).
function toHeadMajor(T: i32, dh: i32, K: usize, ld: i32, off: i32, Kt: usize): void {
  const Tp = padT(T);
  for (let t = 0; t < T; t++) {
    const row = at(K, t * ld + off);
    const dst = at(Kt, (t >> 2) * dh * 4 + (t & 3));
    for (let c = 0; c < dh; c++) store<f32>(dst + (<usize>c << 4), load<f32>(at(row, c)));
  }
  for (let t = T; t < Tp; t++) {
    const dst = at(Kt, (t >> 2) * dh * 4 + (t & 3));
    for (let c = 0; c < dh; c++) store<f32>(dst + (<usize>c << 4), 0);
  }
}

// Lanes of block starting at key j0 that are beyond query i (masked).
// @ts-ignore: decorator
@inline
function maskFor(j0: i32, i: i32): v128 {
  const idx = i32x4.add(i32x4.splat(j0), i32x4(0, 1, 2, 3));
  return i32x4.gt_s(idx, i32x4.splat(i));
}

/** Floats of the S scratch that attn_fwd / attn_bwd need: four score rows and pre-splatted query vectors. */
export function attn_scratch_size(T: i32, dh: i32): i32 {
  return 4 * padT(T) + 32 * dh;
}

/**
 * O[t, h*dh + c] = sum_j softmax_j(scale q_t . k_j, j <= t) v_j[c]; LSE[h*T + t] = logsumexp of the row.
 * Q, K, V: [T, H*dh] with row stride ld (they may be column blocks of one [T, 3d] buffer).
 * Scratch: Kt, Vt of dh * padT(T) floats, S of attn_scratch_size(T, dh) floats.
 * Queries go four at a time (sharing each key block's loads); every row's sums run in the same
 * order as a single-row pass would, so the blocking does not change any bit.
 */
export function attn_fwd(T: i32, H: i32, dh: i32, Q: usize, K: usize, V: usize, ld: i32, O: usize, ldo: i32, LSE: usize, Kt: usize, Vt: usize, S: usize, scale: f32): void {
  const Tp = padT(T);
  const sc = f32x4.splat(scale);
  const ninf = f32x4.splat(-Infinity);
  const rowB = <usize>Tp << 2; // bytes per score row
  const S0 = S, S1 = S + rowB, S2 = S + 2 * rowB, S3 = S + 3 * rowB;
  const QS = S + 4 * rowB; // [4][dh] splatted q
  const kstep = <usize>dh << 4;
  for (let h = 0; h < H; h++) {
    const off = h * dh;
    toHeadMajor(T, dh, K, ld, off, Kt);
    toHeadMajor(T, dh, V, ld, off, Vt);
    let i0 = 0;
    for (; i0 + 4 <= T; i0 += 4) {
      for (let r = 0; r < 4; r++) {
        const q = at(Q, (i0 + r) * ld + off);
        for (let c = 0; c < dh; c++) v128.store(QS + (<usize>(r * dh + c) << 4), f32x4.splat(load<f32>(at(q, c))));
      }
      const nb = (i0 >> 2) + 1;
      let m0 = ninf, m1 = ninf, m2 = ninf, m3 = ninf;
      for (let b = 0; b < nb; b++) {
        const j0 = b << 2;
        const kb = Kt + <usize>b * kstep;
        let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
        for (let c = 0; c < dh; c++) {
          const kv = v128.load(kb + (<usize>c << 4));
          const qc = QS + (<usize>c << 4);
          s0 = f32x4.add(s0, f32x4.mul(v128.load(qc), kv));
          s1 = f32x4.add(s1, f32x4.mul(v128.load(qc + kstep), kv));
          s2 = f32x4.add(s2, f32x4.mul(v128.load(qc + 2 * kstep), kv));
          s3 = f32x4.add(s3, f32x4.mul(v128.load(qc + 3 * kstep), kv));
        }
        s0 = f32x4.mul(s0, sc); s1 = f32x4.mul(s1, sc); s2 = f32x4.mul(s2, sc); s3 = f32x4.mul(s3, sc);
        if (b == nb - 1) {
          s0 = v128.bitselect(ninf, s0, maskFor(j0, i0));
          s1 = v128.bitselect(ninf, s1, maskFor(j0, i0 + 1));
          s2 = v128.bitselect(ninf, s2, maskFor(j0, i0 + 2));
          s3 = v128.bitselect(ninf, s3, maskFor(j0, i0 + 3));
        }
        const so = <usize>j0 << 2;
        v128.store(S0 + so, s0); v128.store(S1 + so, s1); v128.store(S2 + so, s2); v128.store(S3 + so, s3);
        m0 = f32x4.max(m0, s0); m1 = f32x4.max(m1, s1); m2 = f32x4.max(m2, s2); m3 = f32x4.max(m3, s3);
      }
      const inv0 = softmaxRow(S0, nb, m0, i0, LSE + (<usize>(h * T + i0) << 2));
      const inv1 = softmaxRow(S1, nb, m1, i0 + 1, LSE + (<usize>(h * T + i0 + 1) << 2));
      const inv2 = softmaxRow(S2, nb, m2, i0 + 2, LSE + (<usize>(h * T + i0 + 2) << 2));
      const inv3 = softmaxRow(S3, nb, m3, i0 + 3, LSE + (<usize>(h * T + i0 + 3) << 2));
      const o0 = at(O, i0 * ldo + off);
      const ostep = <usize>ldo << 2;
      for (let c = 0; c < dh; c++) {
        const vr = Vt + (<usize>c << 4);
        let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
        for (let b = 0; b < nb; b++) {
          const vv = v128.load(vr + <usize>b * kstep);
          const so = <usize>b << 4;
          a0 = f32x4.add(a0, f32x4.mul(v128.load(S0 + so), vv));
          a1 = f32x4.add(a1, f32x4.mul(v128.load(S1 + so), vv));
          a2 = f32x4.add(a2, f32x4.mul(v128.load(S2 + so), vv));
          a3 = f32x4.add(a3, f32x4.mul(v128.load(S3 + so), vv));
        }
        const co = <usize>c << 2;
        store<f32>(o0 + co, hsum(a0) * inv0);
        store<f32>(o0 + ostep + co, hsum(a1) * inv1);
        store<f32>(o0 + 2 * ostep + co, hsum(a2) * inv2);
        store<f32>(o0 + 3 * ostep + co, hsum(a3) * inv3);
      }
    }
    for (let i = i0; i < T; i++) fwdRow(i, T, h, dh, Q, ld, O, ldo, LSE, Kt, Vt, S, sc);
  }
}

// Turns one row of scores (nb blocks, max lanes mv) into p = exp(s - m), writes logsumexp and
// returns 1/l for the output pass.
function softmaxRow(Srow: usize, nb: i32, mv: v128, i: i32, lseOut: usize): f32 {
  const m = max<f32>(max<f32>(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max<f32>(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  const mm = f32x4.splat(m);
  let lv = f32x4.splat(0);
  for (let b = 0; b < nb; b++) {
    const j0 = b << 2;
    let p = expv(f32x4.sub(v128.load(at(Srow, j0)), mm));
    if (b == nb - 1) p = v128.andnot(p, maskFor(j0, i));
    v128.store(at(Srow, j0), p);
    lv = f32x4.add(lv, p);
  }
  const l = hsum(lv);
  store<f32>(lseOut, m + logf_(l));
  return 1.0 / l;
}

// One query row (the T % 4 tail), same arithmetic as the blocked path.
function fwdRow(i: i32, T: i32, h: i32, dh: i32, Q: usize, ld: i32, O: usize, ldo: i32, LSE: usize, Kt: usize, Vt: usize, S: usize, sc: v128): void {
  const off = h * dh;
  const q = at(Q, i * ld + off);
  const nb = (i + 4) >> 2;
  const kstep = <usize>dh << 4;
  let mv = f32x4.splat(-Infinity);
  for (let b = 0; b < nb; b++) {
    const j0 = b << 2;
    const kb = Kt + <usize>b * kstep;
    let s = f32x4.splat(0);
    for (let c = 0; c < dh; c++) s = f32x4.add(s, f32x4.mul(f32x4.splat(load<f32>(at(q, c))), v128.load(kb + (<usize>c << 4))));
    s = f32x4.mul(s, sc);
    if (b == nb - 1) s = v128.bitselect(f32x4.splat(-Infinity), s, maskFor(j0, i));
    v128.store(at(S, j0), s);
    mv = f32x4.max(mv, s);
  }
  const inv = softmaxRow(S, nb, mv, i, LSE + (<usize>(h * T + i) << 2));
  const o = at(O, i * ldo + off);
  for (let c = 0; c < dh; c++) {
    const vr = Vt + (<usize>c << 4);
    let acc = f32x4.splat(0);
    for (let b = 0; b < nb; b++) acc = f32x4.add(acc, f32x4.mul(v128.load(at(S, b << 2)), v128.load(vr + <usize>b * kstep)));
    store<f32>(at(o, c), hsum(acc) * inv);
  }
}

/**
 * Backward of attn_fwd. Writes (not accumulates) dQ, dK, dV ([T, H*dh], row stride ldg).
 * dO and O have row stride ldo. Scratch: Kt, Vt, dKt, dVt of dh * padT(T) floats, S of
 * attn_scratch_size(T, dh). Four queries at a time; the key/value gradients add the four rows'
 * contributions one after the other, the order a single-row pass uses.
 */
export function attn_bwd(
  T: i32, H: i32, dh: i32, Q: usize, K: usize, V: usize, ld: i32, O: usize, dO: usize, ldo: i32, LSE: usize,
  dQ: usize, dK: usize, dV: usize, ldg: i32, Kt: usize, Vt: usize, dKt: usize, dVt: usize, S: usize, scale: f32,
): void {
  const Tp = padT(T);
  const sc = f32x4.splat(scale);
  const rowB = <usize>Tp << 2;
  const S0 = S, S1 = S + rowB, S2 = S + 2 * rowB, S3 = S + 3 * rowB;
  const kstep = <usize>dh << 4;
  const QS = S + 4 * rowB; // [4][dh] splatted q
  const OS = QS + 4 * kstep; // [4][dh] splatted dO
  for (let h = 0; h < H; h++) {
    const off = h * dh;
    toHeadMajor(T, dh, K, ld, off, Kt);
    toHeadMajor(T, dh, V, ld, off, Vt);
    memory.fill(dKt, 0, <usize>(dh * Tp) << 2);
    memory.fill(dVt, 0, <usize>(dh * Tp) << 2);
    let i0 = 0;
    for (; i0 + 4 <= T; i0 += 4) {
      for (let r = 0; r < 4; r++) {
        const q = at(Q, (i0 + r) * ld + off);
        const dout = at(dO, (i0 + r) * ldo + off);
        for (let c = 0; c < dh; c++) {
          v128.store(QS + (<usize>(r * dh + c) << 4), f32x4.splat(load<f32>(at(q, c))));
          v128.store(OS + (<usize>(r * dh + c) << 4), f32x4.splat(load<f32>(at(dout, c))));
        }
      }
      const D0 = f32x4.splat(rowDot(dO, O, (i0) * ldo + off, dh));
      const D1 = f32x4.splat(rowDot(dO, O, (i0 + 1) * ldo + off, dh));
      const D2 = f32x4.splat(rowDot(dO, O, (i0 + 2) * ldo + off, dh));
      const D3 = f32x4.splat(rowDot(dO, O, (i0 + 3) * ldo + off, dh));
      const l0 = f32x4.splat(load<f32>(at(LSE, h * T + i0)));
      const l1 = f32x4.splat(load<f32>(at(LSE, h * T + i0 + 1)));
      const l2 = f32x4.splat(load<f32>(at(LSE, h * T + i0 + 2)));
      const l3 = f32x4.splat(load<f32>(at(LSE, h * T + i0 + 3)));
      const nb = (i0 >> 2) + 1;
      for (let b = 0; b < nb; b++) {
        const j0 = b << 2;
        const bo = <usize>b * kstep;
        let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
        for (let c = 0; c < dh; c++) {
          const kv = v128.load(Kt + bo + (<usize>c << 4));
          const qc = QS + (<usize>c << 4);
          s0 = f32x4.add(s0, f32x4.mul(v128.load(qc), kv));
          s1 = f32x4.add(s1, f32x4.mul(v128.load(qc + kstep), kv));
          s2 = f32x4.add(s2, f32x4.mul(v128.load(qc + 2 * kstep), kv));
          s3 = f32x4.add(s3, f32x4.mul(v128.load(qc + 3 * kstep), kv));
        }
        let p0 = expv(f32x4.sub(f32x4.mul(s0, sc), l0));
        let p1 = expv(f32x4.sub(f32x4.mul(s1, sc), l1));
        let p2 = expv(f32x4.sub(f32x4.mul(s2, sc), l2));
        let p3 = expv(f32x4.sub(f32x4.mul(s3, sc), l3));
        if (b == nb - 1) {
          p0 = v128.andnot(p0, maskFor(j0, i0));
          p1 = v128.andnot(p1, maskFor(j0, i0 + 1));
          p2 = v128.andnot(p2, maskFor(j0, i0 + 2));
          p3 = v128.andnot(p3, maskFor(j0, i0 + 3));
        }
        let d0 = f32x4.splat(0), d1 = f32x4.splat(0), d2 = f32x4.splat(0), d3 = f32x4.splat(0);
        for (let c = 0; c < dh; c++) {
          const vv = v128.load(Vt + bo + (<usize>c << 4));
          const oc = OS + (<usize>c << 4);
          d0 = f32x4.add(d0, f32x4.mul(v128.load(oc), vv));
          d1 = f32x4.add(d1, f32x4.mul(v128.load(oc + kstep), vv));
          d2 = f32x4.add(d2, f32x4.mul(v128.load(oc + 2 * kstep), vv));
          d3 = f32x4.add(d3, f32x4.mul(v128.load(oc + 3 * kstep), vv));
        }
        const ds0 = f32x4.mul(p0, f32x4.sub(d0, D0));
        const ds1 = f32x4.mul(p1, f32x4.sub(d1, D1));
        const ds2 = f32x4.mul(p2, f32x4.sub(d2, D2));
        const ds3 = f32x4.mul(p3, f32x4.sub(d3, D3));
        const so = <usize>j0 << 2;
        v128.store(S0 + so, ds0); v128.store(S1 + so, ds1); v128.store(S2 + so, ds2); v128.store(S3 + so, ds3);
        const e0 = f32x4.mul(ds0, sc), e1 = f32x4.mul(ds1, sc), e2 = f32x4.mul(ds2, sc), e3 = f32x4.mul(ds3, sc);
        for (let c = 0; c < dh; c++) {
          const co = bo + (<usize>c << 4);
          const qc = QS + (<usize>c << 4);
          let kacc = v128.load(dKt + co);
          kacc = f32x4.add(kacc, f32x4.mul(e0, v128.load(qc)));
          kacc = f32x4.add(kacc, f32x4.mul(e1, v128.load(qc + kstep)));
          kacc = f32x4.add(kacc, f32x4.mul(e2, v128.load(qc + 2 * kstep)));
          kacc = f32x4.add(kacc, f32x4.mul(e3, v128.load(qc + 3 * kstep)));
          v128.store(dKt + co, kacc);
          const oc = OS + (<usize>c << 4);
          let vacc = v128.load(dVt + co);
          vacc = f32x4.add(vacc, f32x4.mul(p0, v128.load(oc)));
          vacc = f32x4.add(vacc, f32x4.mul(p1, v128.load(oc + kstep)));
          vacc = f32x4.add(vacc, f32x4.mul(p2, v128.load(oc + 2 * kstep)));
          vacc = f32x4.add(vacc, f32x4.mul(p3, v128.load(oc + 3 * kstep)));
          v128.store(dVt + co, vacc);
        }
      }
      const dq0 = at(dQ, i0 * ldg + off);
      const gstep = <usize>ldg << 2;
      for (let c = 0; c < dh; c++) {
        const kr = Kt + (<usize>c << 4);
        let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
        for (let b = 0; b < nb; b++) {
          const kv = v128.load(kr + <usize>b * kstep);
          const so = <usize>b << 4;
          a0 = f32x4.add(a0, f32x4.mul(v128.load(S0 + so), kv));
          a1 = f32x4.add(a1, f32x4.mul(v128.load(S1 + so), kv));
          a2 = f32x4.add(a2, f32x4.mul(v128.load(S2 + so), kv));
          a3 = f32x4.add(a3, f32x4.mul(v128.load(S3 + so), kv));
        }
        const co = <usize>c << 2;
        store<f32>(dq0 + co, hsum(a0) * scale);
        store<f32>(dq0 + gstep + co, hsum(a1) * scale);
        store<f32>(dq0 + 2 * gstep + co, hsum(a2) * scale);
        store<f32>(dq0 + 3 * gstep + co, hsum(a3) * scale);
      }
    }
    for (let i = i0; i < T; i++) bwdRow(i, T, h, dh, Q, ld, O, dO, ldo, LSE, dQ, ldg, Kt, Vt, dKt, dVt, S, sc, scale);
    for (let t = 0; t < T; t++) {
      const kr = at(dK, t * ldg + off);
      const vr = at(dV, t * ldg + off);
      const src = <usize>((t >> 2) * dh * 4 + (t & 3)) << 2;
      for (let c = 0; c < dh; c++) {
        store<f32>(at(kr, c), load<f32>(dKt + src + (<usize>c << 4)));
        store<f32>(at(vr, c), load<f32>(dVt + src + (<usize>c << 4)));
      }
    }
  }
}

// @ts-ignore: decorator
@inline
function rowDot(A: usize, B: usize, idx: i32, n: i32): f32 {
  let s: f32 = 0;
  for (let c = 0; c < n; c++) s += load<f32>(at(A, idx + c)) * load<f32>(at(B, idx + c));
  return s;
}

// One query row of the backward pass (the T % 4 tail), same arithmetic as the blocked path.
function bwdRow(
  i: i32, T: i32, h: i32, dh: i32, Q: usize, ld: i32, O: usize, dO: usize, ldo: i32, LSE: usize,
  dQ: usize, ldg: i32, Kt: usize, Vt: usize, dKt: usize, dVt: usize, S: usize, sc: v128, scale: f32,
): void {
  const off = h * dh;
  const q = at(Q, i * ld + off);
  const dout = at(dO, i * ldo + off);
  const Dv = f32x4.splat(rowDot(dO, O, i * ldo + off, dh));
  const lse = f32x4.splat(load<f32>(at(LSE, h * T + i)));
  const nb = (i + 4) >> 2;
  const kstep = <usize>dh << 4;
  for (let b = 0; b < nb; b++) {
    const j0 = b << 2;
    const bo = <usize>b * kstep;
    let s = f32x4.splat(0);
    for (let c = 0; c < dh; c++) s = f32x4.add(s, f32x4.mul(f32x4.splat(load<f32>(at(q, c))), v128.load(Kt + bo + (<usize>c << 4))));
    let p = expv(f32x4.sub(f32x4.mul(s, sc), lse));
    if (b == nb - 1) p = v128.andnot(p, maskFor(j0, i));
    let dp = f32x4.splat(0);
    for (let c = 0; c < dh; c++) dp = f32x4.add(dp, f32x4.mul(f32x4.splat(load<f32>(at(dout, c))), v128.load(Vt + bo + (<usize>c << 4))));
    const ds = f32x4.mul(p, f32x4.sub(dp, Dv));
    v128.store(at(S, j0), ds);
    const e = f32x4.mul(ds, sc);
    for (let c = 0; c < dh; c++) {
      const co = bo + (<usize>c << 4);
      v128.store(dKt + co, f32x4.add(v128.load(dKt + co), f32x4.mul(e, f32x4.splat(load<f32>(at(q, c))))));
      v128.store(dVt + co, f32x4.add(v128.load(dVt + co), f32x4.mul(p, f32x4.splat(load<f32>(at(dout, c))))));
    }
  }
  const dq = at(dQ, i * ldg + off);
  for (let c = 0; c < dh; c++) {
    const kr = Kt + (<usize>c << 4);
    let acc = f32x4.splat(0);
    for (let b = 0; b < nb; b++) acc = f32x4.add(acc, f32x4.mul(v128.load(at(S, b << 2)), v128.load(kr + <usize>b * kstep)));
    store<f32>(at(dq, c), hsum(acc) * scale);
  }
}
