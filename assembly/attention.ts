// Fused causal multi-head attention, forward and backward, one sequence at a time.
// Per query row i the kernel scores only keys 0..i (the masked half is never computed), holds one
// row of T scores (memory O(T) per head, never T x T), and saves logsumexp per row so the backward
// pass recomputes the probabilities instead of storing them. Keys and values are transposed per
// head into [dh, T] scratch so that the inner loops run SIMD over 4 key positions at a time.
// Fixed orders: scores sum over c = 0..dh-1; the row sum and the weighted value sums run in four
// lanes over key blocks, combined ((l0+l1)+(l2+l3)).
import { expv, logf_, hsum } from './mathf';

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

/**
 * O[t, h*dh + c] = sum_j softmax_j(scale q_t . k_j, j <= t) v_j[c]; LSE[h*T + t] = logsumexp of the row.
 * Q, K, V: [T, H*dh] with row stride ld (they may be column blocks of one [T, 3d] buffer).
 * Scratch: Kt, Vt of dh * padT(T) floats, S of padT(T) floats.
 */
export function attn_fwd(T: i32, H: i32, dh: i32, Q: usize, K: usize, V: usize, ld: i32, O: usize, ldo: i32, LSE: usize, Kt: usize, Vt: usize, S: usize, scale: f32): void {
  const Tp = padT(T);
  const sc = f32x4.splat(scale);
  const ninf = f32x4.splat(-Infinity);
  for (let h = 0; h < H; h++) {
    const off = h * dh;
    toHeadMajor(T, dh, K, ld, off, Kt);
    toHeadMajor(T, dh, V, ld, off, Vt);
    for (let i = 0; i < T; i++) {
      const q = at(Q, i * ld + off);
      const nb = (i + 4) >> 2; // blocks covering keys 0..i
      let mv = ninf;
      for (let b = 0; b < nb; b++) {
        const j0 = b << 2;
        let s = f32x4.splat(0);
        const kb = at(Kt, j0 * dh);
        for (let c = 0; c < dh; c++) s = f32x4.add(s, f32x4.mul(f32x4.splat(load<f32>(at(q, c))), v128.load(kb + (<usize>c << 4))));
        s = f32x4.mul(s, sc);
        if (b == nb - 1) s = v128.bitselect(ninf, s, maskFor(j0, i));
        v128.store(at(S, j0), s);
        mv = f32x4.max(mv, s);
      }
      const m = max<f32>(max<f32>(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max<f32>(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
      const mm = f32x4.splat(m);
      let lv = f32x4.splat(0);
      for (let b = 0; b < nb; b++) {
        const j0 = b << 2;
        let p = expv(f32x4.sub(v128.load(at(S, j0)), mm));
        if (b == nb - 1) p = v128.andnot(p, maskFor(j0, i));
        v128.store(at(S, j0), p);
        lv = f32x4.add(lv, p);
      }
      const l = hsum(lv);
      const inv: f32 = 1.0 / l;
      const o = at(O, i * ldo + off);
      for (let c = 0; c < dh; c++) {
        const vr = Vt + (<usize>c << 4);
        const vstep = <usize>dh << 4;
        let acc = f32x4.splat(0);
        for (let b = 0; b < nb; b++) acc = f32x4.add(acc, f32x4.mul(v128.load(at(S, b << 2)), v128.load(vr + <usize>b * vstep)));
        store<f32>(at(o, c), hsum(acc) * inv);
      }
      store<f32>(at(LSE, h * T + i), m + logf_(l));
    }
  }
}

/**
 * Backward of attn_fwd. Writes (not accumulates) dQ, dK, dV ([T, H*dh], row stride ldg).
 * dO and O have row stride ldo. Scratch: Kt, Vt, dKt, dVt of dh * padT(T) floats, S of padT(T).
 */
export function attn_bwd(
  T: i32, H: i32, dh: i32, Q: usize, K: usize, V: usize, ld: i32, O: usize, dO: usize, ldo: i32, LSE: usize,
  dQ: usize, dK: usize, dV: usize, ldg: i32, Kt: usize, Vt: usize, dKt: usize, dVt: usize, S: usize, scale: f32,
): void {
  const Tp = padT(T);
  const sc = f32x4.splat(scale);
  for (let h = 0; h < H; h++) {
    const off = h * dh;
    toHeadMajor(T, dh, K, ld, off, Kt);
    toHeadMajor(T, dh, V, ld, off, Vt);
    memory.fill(dKt, 0, <usize>(dh * Tp) << 2);
    memory.fill(dVt, 0, <usize>(dh * Tp) << 2);
    for (let i = 0; i < T; i++) {
      const q = at(Q, i * ld + off);
      const o = at(O, i * ldo + off);
      const dout = at(dO, i * ldo + off);
      let Dl: f32 = 0;
      for (let c = 0; c < dh; c++) Dl += load<f32>(at(dout, c)) * load<f32>(at(o, c));
      const Dv = f32x4.splat(Dl);
      const lse = f32x4.splat(load<f32>(at(LSE, h * T + i)));
      const nb = (i + 4) >> 2;
      for (let b = 0; b < nb; b++) {
        const j0 = b << 2;
        let s = f32x4.splat(0);
        let dp = f32x4.splat(0);
        const bo = <usize>(j0 * dh) << 2;
        for (let c = 0; c < dh; c++) {
          const co = bo + (<usize>c << 4);
          s = f32x4.add(s, f32x4.mul(f32x4.splat(load<f32>(at(q, c))), v128.load(Kt + co)));
          dp = f32x4.add(dp, f32x4.mul(f32x4.splat(load<f32>(at(dout, c))), v128.load(Vt + co)));
        }
        let p = expv(f32x4.sub(f32x4.mul(s, sc), lse));
        if (b == nb - 1) p = v128.andnot(p, maskFor(j0, i));
        const ds = f32x4.mul(p, f32x4.sub(dp, Dv));
        const dss = f32x4.mul(ds, sc);
        v128.store(at(S, j0), ds);
        for (let c = 0; c < dh; c++) {
          const co = bo + (<usize>c << 4);
          const kp = dKt + co;
          v128.store(kp, f32x4.add(v128.load(kp), f32x4.mul(dss, f32x4.splat(load<f32>(at(q, c))))));
          const vp = dVt + co;
          v128.store(vp, f32x4.add(v128.load(vp), f32x4.mul(p, f32x4.splat(load<f32>(at(dout, c))))));
        }
      }
      const dq = at(dQ, i * ldg + off);
      for (let c = 0; c < dh; c++) {
        const kr = Kt + (<usize>c << 4);
        const kstep = <usize>dh << 4;
        let acc = f32x4.splat(0);
        for (let b = 0; b < nb; b++) acc = f32x4.add(acc, f32x4.mul(v128.load(at(S, b << 2)), v128.load(kr + <usize>b * kstep)));
        store<f32>(at(dq, c), hsum(acc) * scale);
      }
    }
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
