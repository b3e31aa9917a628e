// EnCodec kernels: convolution as a GEMM over indirect input rows (no im2col copy), the polyphase
// split that turns strided convolutions into unit-stride ones, transposed-convolution overlap-add,
// ELU, one-group GroupNorm, an LSTM layer's recurrence, and the vector quantiser's nearest-entry
// search. Every output is a sum in a fixed order (k = 0..K-1) that does not depend on the tile an
// element falls in, so results are identical for any input length, offset or thread count.
import { expf_, expv, tanhf_, tanhv, hsum } from '../mathf';


// @ts-ignore: decorator
@inline
function f(base: usize, idx: i32): usize {
  return base + (<usize>idx << 2);
}

/**
 * C[i, j] = bias[i] + sum_k A[i*K + k] * B_k[j] for i < M, j < N, where B_k starts at the byte address
 * rows[k] (an i32 array of K pointers). C has row stride ldc (elements). Bp is scratch for a packed
 * panel of the input: K * NB floats, NB = codec_panel_cols(K). Columns are packed 8 at a time into
 * contiguous [K][8] strips so the inner loop streams memory in order whatever the input's row stride.
 */
export function codec_conv_gemm(M: i32, N: i32, K: i32, A: usize, rows: usize, bias: usize, C: usize, ldc: i32, Bp: usize): void {
  // Few output rows reuse each packed value too rarely to repay the packing: read the rows directly.
  if (M < 64) {
    conv_gemm_direct(M, N, K, A, rows, bias, C, ldc);
    return;
  }
  const NB = codec_panel_cols(K);
  for (let j0 = 0; j0 < N; j0 += NB) {
    const j1 = min(N, j0 + NB);
    const strips = (j1 - j0) >> 3;
    // pack
    for (let p = 0; p < strips; p++) {
      const jo = <usize>(j0 + p * 8) << 2;
      let dst = Bp + ((<usize>p * <usize>K) << 5);
      for (let k = 0; k < K; k++) {
        const src = <usize>load<i32>(f(rows, k)) + jo;
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        dst += 32;
      }
    }
    const jt = j0 + strips * 8;
    let i = 0;
    for (; i + 4 <= M; i += 4) {
      const a0 = f(A, i * K);
      const a1 = a0 + (<usize>K << 2);
      const a2 = a1 + (<usize>K << 2);
      const a3 = a2 + (<usize>K << 2);
      const bb0 = f32x4.splat(load<f32>(f(bias, i)));
      const bb1 = f32x4.splat(load<f32>(f(bias, i + 1)));
      const bb2 = f32x4.splat(load<f32>(f(bias, i + 2)));
      const bb3 = f32x4.splat(load<f32>(f(bias, i + 3)));
      for (let p = 0; p < strips; p++) {
        let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
        let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
        let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
        let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
        let bp = Bp + ((<usize>p * <usize>K) << 5);
        for (let k = 0; k < K; k++) {
          const b0 = v128.load(bp);
          const b1 = v128.load(bp, 16);
          bp += 32;
          const ko = <usize>k << 2;
          let a = v128.load32_splat(a0 + ko);
          c00 = f32x4.add(c00, f32x4.mul(a, b0));
          c01 = f32x4.add(c01, f32x4.mul(a, b1));
          a = v128.load32_splat(a1 + ko);
          c10 = f32x4.add(c10, f32x4.mul(a, b0));
          c11 = f32x4.add(c11, f32x4.mul(a, b1));
          a = v128.load32_splat(a2 + ko);
          c20 = f32x4.add(c20, f32x4.mul(a, b0));
          c21 = f32x4.add(c21, f32x4.mul(a, b1));
          a = v128.load32_splat(a3 + ko);
          c30 = f32x4.add(c30, f32x4.mul(a, b0));
          c31 = f32x4.add(c31, f32x4.mul(a, b1));
        }
        let cp = f(C, i * ldc + j0 + p * 8);
        const rs = <usize>ldc << 2;
        v128.store(cp, f32x4.add(bb0, c00));
        v128.store(cp, f32x4.add(bb0, c01), 16);
        cp += rs;
        v128.store(cp, f32x4.add(bb1, c10));
        v128.store(cp, f32x4.add(bb1, c11), 16);
        cp += rs;
        v128.store(cp, f32x4.add(bb2, c20));
        v128.store(cp, f32x4.add(bb2, c21), 16);
        cp += rs;
        v128.store(cp, f32x4.add(bb3, c30));
        v128.store(cp, f32x4.add(bb3, c31), 16);
      }
      if (jt < j1) conv_rows(i, i + 4, jt, j1, K, A, rows, bias, C, ldc);
    }
    if (i < M) conv_rows(i, M, j0, j1, K, A, rows, bias, C, ldc);
  }
}

// The unpacked variant: same tiles and the same k order, B read in place through the row pointers.
function conv_gemm_direct(M: i32, N: i32, K: i32, A: usize, rows: usize, bias: usize, C: usize, ldc: i32): void {
  const NB: i32 = 256;
  for (let j0 = 0; j0 < N; j0 += NB) {
    const j1 = min(N, j0 + NB);
    let i = 0;
    for (; i + 4 <= M; i += 4) {
      const a0 = f(A, i * K);
      const a1 = a0 + (<usize>K << 2);
      const a2 = a1 + (<usize>K << 2);
      const a3 = a2 + (<usize>K << 2);
      const bb0 = f32x4.splat(load<f32>(f(bias, i)));
      const bb1 = f32x4.splat(load<f32>(f(bias, i + 1)));
      const bb2 = f32x4.splat(load<f32>(f(bias, i + 2)));
      const bb3 = f32x4.splat(load<f32>(f(bias, i + 3)));
      let j = j0;
      for (; j + 8 <= j1; j += 8) {
        let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
        let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
        let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
        let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
        const jo = <usize>j << 2;
        for (let k = 0; k < K; k++) {
          const bp = <usize>load<i32>(f(rows, k)) + jo;
          const b0 = v128.load(bp);
          const b1 = v128.load(bp, 16);
          const ko = <usize>k << 2;
          let a = v128.load32_splat(a0 + ko);
          c00 = f32x4.add(c00, f32x4.mul(a, b0));
          c01 = f32x4.add(c01, f32x4.mul(a, b1));
          a = v128.load32_splat(a1 + ko);
          c10 = f32x4.add(c10, f32x4.mul(a, b0));
          c11 = f32x4.add(c11, f32x4.mul(a, b1));
          a = v128.load32_splat(a2 + ko);
          c20 = f32x4.add(c20, f32x4.mul(a, b0));
          c21 = f32x4.add(c21, f32x4.mul(a, b1));
          a = v128.load32_splat(a3 + ko);
          c30 = f32x4.add(c30, f32x4.mul(a, b0));
          c31 = f32x4.add(c31, f32x4.mul(a, b1));
        }
        let cp = f(C, i * ldc + j);
        const rs = <usize>ldc << 2;
        v128.store(cp, f32x4.add(bb0, c00));
        v128.store(cp, f32x4.add(bb0, c01), 16);
        cp += rs;
        v128.store(cp, f32x4.add(bb1, c10));
        v128.store(cp, f32x4.add(bb1, c11), 16);
        cp += rs;
        v128.store(cp, f32x4.add(bb2, c20));
        v128.store(cp, f32x4.add(bb2, c21), 16);
        cp += rs;
        v128.store(cp, f32x4.add(bb3, c30));
        v128.store(cp, f32x4.add(bb3, c31), 16);
      }
      if (j < j1) conv_rows(i, i + 4, j, j1, K, A, rows, bias, C, ldc);
    }
    if (i < M) conv_rows(i, M, j0, j1, K, A, rows, bias, C, ldc);
  }
}

/** Columns per packed panel for depth K: the K x NB panel stays within ~256 KB (L2), 8 <= NB <= 512, NB % 8 == 0. */
export function codec_panel_cols(K: i32): i32 {
  let nb = (65536 / max(K, 1)) & ~7;
  if (nb < 8) nb = 8;
  if (nb > 512) nb = 512;
  return nb;
}

// Rows r0..r1, columns j0..j1 one row at a time (4-wide, then scalar), same k order as the tiles.
function conv_rows(r0: i32, r1: i32, j0: i32, j1: i32, K: i32, A: usize, rows: usize, bias: usize, C: usize, ldc: i32): void {
  for (let i = r0; i < r1; i++) {
    const ap = f(A, i * K);
    const b = load<f32>(f(bias, i));
    let j = j0;
    for (; j + 4 <= j1; j += 4) {
      let c = f32x4.splat(0);
      const jo = <usize>j << 2;
      for (let k = 0; k < K; k++) c = f32x4.add(c, f32x4.mul(v128.load32_splat(ap + (<usize>k << 2)), v128.load(<usize>load<i32>(f(rows, k)) + jo)));
      v128.store(f(C, i * ldc + j), f32x4.add(f32x4.splat(b), c));
    }
    for (; j < j1; j++) {
      let c: f32 = 0;
      const jo = <usize>j << 2;
      for (let k = 0; k < K; k++) c += load<f32>(ap + (<usize>k << 2)) * load<f32>(<usize>load<i32>(f(rows, k)) + jo);
      store<f32>(f(C, i * ldc + j), b + c);
    }
  }
}

/**
 * Row pointers for a convolution of x [cin, tin] with kernel k, dilation dil: rows[ci*k + j] = &x[ci, j*dil].
 * With stride s > 1 the input must first be split into phases (codec_phase_split, U columns each) and the
 * pointers address phase j % s, column j / s, so the strided convolution becomes a unit-stride GEMM.
 */
export function codec_conv_rows(cin: i32, k: i32, dil: i32, stride: i32, X: usize, tcols: i32, rows: usize): void {
  for (let ci = 0; ci < cin; ci++) {
    for (let j = 0; j < k; j++) {
      let p: usize;
      if (stride == 1) p = f(X, ci * tcols + j * dil);
      else {
        const o = j * dil;
        p = f(X, ((o % stride) * cin + ci) * tcols + o / stride);
      }
      store<i32>(f(rows, ci * k + j), <i32>p);
    }
  }
}

/** out[(p*C + c)*U + u] = x[c, u*s + p] (zero past the end), U = ceil(T / s). */
export function codec_phase_split(C: i32, T: i32, s: i32, X: usize, out: usize): void {
  const U = (T + s - 1) / s;
  for (let p = 0; p < s; p++) {
    for (let c = 0; c < C; c++) {
      const xo = f(X, c * T);
      const oo = f(out, (p * C + c) * U);
      for (let u = 0; u < U; u++) {
        const t = u * s + p;
        store<f32>(oo + (<usize>u << 2), t < T ? load<f32>(xo + (<usize>t << 2)) : 0);
      }
    }
  }
}

/**
 * Transposed-convolution overlap-add: Y[co, t*s + j] = bias[co] + sum over (t, j) of Z[(co*k + j)*T + t],
 * Y being [cout, (T-1)*s + k]. Z = W' @ X with W'[co*k + j, ci] = w[ci, co, j]. Terms are added in
 * increasing j for each output sample.
 */
export function codec_col2im(cout: i32, k: i32, T: i32, s: i32, Z: usize, bias: usize, Y: usize): void {
  const L = (T - 1) * s + k;
  for (let co = 0; co < cout; co++) {
    const yo = f(Y, co * L);
    const b = load<f32>(f(bias, co));
    for (let i = 0; i < L; i++) store<f32>(yo + (<usize>i << 2), 0);
    for (let j = 0; j < k; j++) {
      const zo = f(Z, (co * k + j) * T);
      if (s == 1) {
        for (let t = 0; t < T; t++) {
          const p = yo + (<usize>(t + j) << 2);
          store<f32>(p, load<f32>(p) + load<f32>(zo + (<usize>t << 2)));
        }
      } else {
        for (let t = 0; t < T; t++) {
          const p = yo + (<usize>(t * s + j) << 2);
          store<f32>(p, load<f32>(p) + load<f32>(zo + (<usize>t << 2)));
        }
      }
    }
    for (let i = 0; i < L; i++) store<f32>(yo + (<usize>i << 2), load<f32>(yo + (<usize>i << 2)) + b);
  }
}

// exp for ELU's negative side, the Cephes expf scheme of ../mathf (same range reduction and polynomial) but
// with single-instruction clamps (pmin/pmax) and the 2^n scale built by the 1.5 * 2^23 rounding trick instead
// of a saturating float->int conversion, which V8 expands into long sequences. Inputs are <= 0.
const E_LOG2E: f32 = 1.44269504088896341;
const E_LN2_HI: f32 = 0.693359375;
const E_LN2_LO: f32 = -2.12194440e-4;
const E_MAGIC: f32 = 12582912.0; // 1.5 * 2^23: adding it leaves round(x) in the low mantissa bits

// @ts-ignore: decorator
@inline
function eluv(x: v128): v128 {
  const zero = f32x4.splat(0);
  let z = f32x4.pmin(x, zero);
  z = f32x4.pmax(z, f32x4.splat(-87.0));
  const t = f32x4.add(f32x4.mul(z, f32x4.splat(E_LOG2E)), f32x4.splat(E_MAGIC));
  const n = f32x4.sub(t, f32x4.splat(E_MAGIC));
  const r = f32x4.sub(f32x4.sub(z, f32x4.mul(n, f32x4.splat(E_LN2_HI))), f32x4.mul(n, f32x4.splat(E_LN2_LO)));
  const r2 = f32x4.mul(r, r);
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(p, r2), r), f32x4.splat(1.0));
  // 2^n: the low bits of t hold n + 2^22 (as an integer offset of the magic's bits); (n + 127) << 23
  const scale = i32x4.shl(i32x4.add(t, i32x4.splat(127 - 0x4b400000)), 23);
  const neg = f32x4.sub(f32x4.mul(p, scale), f32x4.splat(1.0));
  return v128.bitselect(x, neg, f32x4.gt(x, zero));
}

/** ELU with alpha 1: y = x > 0 ? x : exp(x) - 1. */
export function codec_elu(n: i32, X: usize, Y: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(f(Y, i), eluv(v128.load(f(X, i))));
  for (; i < n; i++) {
    const v = f32x4.splat(load<f32>(f(X, i)));
    store<f32>(f(Y, i), f32x4.extract_lane(eluv(v), 0));
  }
}

/**
 * GroupNorm(1, C) over X [C, T] in place: mean, then variance around it, over all C*T values with float64
 * accumulators (two SIMD lanes of f64, lanes combined at the end), eps 1e-5, per-channel affine.
 */
export function codec_group_norm(C: i32, T: i32, X: usize, w: usize, b: usize): void {
  const n = C * T;
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(f(X, i));
    s0 = f64x2.add(s0, f64x2.promote_low_f32x4(v));
    s1 = f64x2.add(s1, f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)));
  }
  let s: f64 = (f64x2.extract_lane(s0, 0) + f64x2.extract_lane(s0, 1)) + (f64x2.extract_lane(s1, 0) + f64x2.extract_lane(s1, 1));
  for (; i < n; i++) s += <f64>load<f32>(f(X, i));
  const mean = s / <f64>n;
  const mv = f64x2.splat(mean);
  let v0 = f64x2.splat(0), v1 = f64x2.splat(0);
  i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(f(X, i));
    const d0 = f64x2.sub(f64x2.promote_low_f32x4(v), mv);
    const d1 = f64x2.sub(f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)), mv);
    v0 = f64x2.add(v0, f64x2.mul(d0, d0));
    v1 = f64x2.add(v1, f64x2.mul(d1, d1));
  }
  let var_: f64 = (f64x2.extract_lane(v0, 0) + f64x2.extract_lane(v0, 1)) + (f64x2.extract_lane(v1, 0) + f64x2.extract_lane(v1, 1));
  for (; i < n; i++) {
    const d = <f64>load<f32>(f(X, i)) - mean;
    var_ += d * d;
  }
  const inv = 1.0 / Math.sqrt(var_ / <f64>n + 1e-5);
  for (let c = 0; c < C; c++) {
    const a = <f32>(<f64>load<f32>(f(w, c)) * inv);
    const o = <f32>(<f64>load<f32>(f(b, c)) - mean * <f64>a);
    const av = f32x4.splat(a);
    const ov = f32x4.splat(o);
    const xo = f(X, c * T);
    let j = 0;
    for (; j + 4 <= T; j += 4) v128.store(xo + (<usize>j << 2), f32x4.add(f32x4.mul(v128.load(xo + (<usize>j << 2)), av), ov));
    for (; j < T; j++) store<f32>(xo + (<usize>j << 2), load<f32>(xo + (<usize>j << 2)) * a + o);
  }
}

// @ts-ignore: decorator
@inline
function sigmoidf(x: f32): f32 {
  return 1.0 / (1.0 + expf_(-x));
}

// @ts-ignore: decorator
@inline
function sigmoidv(x: v128): v128 {
  return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), expv(f32x4.neg(x))));
}

/**
 * One LSTM layer's recurrence (PyTorch gate order i, f, g, o). GX [4H, T] holds W_ih x_t + b_ih + b_hh
 * for every step; WHH [4H, H]. Writes h_t to OUT [H, T]. h, c (H each) hold the state before the first step
 * (zeros at the start of a signal) and are left holding it after the last, so a signal can be run in blocks.
 * Scratch: g (4H); H % 4 == 0.
 */
export function codec_lstm(H: i32, T: i32, GX: usize, WHH: usize, OUT: usize, h: usize, c: usize, g: usize): void {
  const G = 4 * H;
  for (let s = 0; s < T; s++) {
    // g = GX[:, s] + WHH @ h, four rows at a time
    let r = 0;
    for (; r + 4 <= G; r += 4) {
      const w0 = f(WHH, r * H);
      const w1 = w0 + (<usize>H << 2);
      const w2 = w1 + (<usize>H << 2);
      const w3 = w2 + (<usize>H << 2);
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      for (let i = 0; i < H; i += 4) {
        const io = <usize>i << 2;
        const hv = v128.load(h + io);
        a0 = f32x4.add(a0, f32x4.mul(v128.load(w0 + io), hv));
        a1 = f32x4.add(a1, f32x4.mul(v128.load(w1 + io), hv));
        a2 = f32x4.add(a2, f32x4.mul(v128.load(w2 + io), hv));
        a3 = f32x4.add(a3, f32x4.mul(v128.load(w3 + io), hv));
      }
      store<f32>(f(g, r), load<f32>(f(GX, r * T + s)) + hsum(a0));
      store<f32>(f(g, r + 1), load<f32>(f(GX, (r + 1) * T + s)) + hsum(a1));
      store<f32>(f(g, r + 2), load<f32>(f(GX, (r + 2) * T + s)) + hsum(a2));
      store<f32>(f(g, r + 3), load<f32>(f(GX, (r + 3) * T + s)) + hsum(a3));
    }
    for (let i = 0; i < H; i += 4) {
      const ig = sigmoidv(v128.load(f(g, i)));
      const fg = sigmoidv(v128.load(f(g, H + i)));
      const gg = tanhv(v128.load(f(g, 2 * H + i)));
      const og = sigmoidv(v128.load(f(g, 3 * H + i)));
      const cv = f32x4.add(f32x4.mul(fg, v128.load(f(c, i))), f32x4.mul(ig, gg));
      v128.store(f(c, i), cv);
      const hv = f32x4.mul(og, tanhv(cv));
      v128.store(f(h, i), hv);
      store<f32>(f(OUT, i * T + s), f32x4.extract_lane(hv, 0));
      store<f32>(f(OUT, (i + 1) * T + s), f32x4.extract_lane(hv, 1));
      store<f32>(f(OUT, (i + 2) * T + s), f32x4.extract_lane(hv, 2));
      store<f32>(f(OUT, (i + 3) * T + s), f32x4.extract_lane(hv, 3));
    }
  }
}

/** Scalar LSTM step for H not divisible by 4 (tiny models): same semantics as codec_lstm. */
export function codec_lstm_scalar(H: i32, T: i32, GX: usize, WHH: usize, OUT: usize, h: usize, c: usize, g: usize): void {
  const G = 4 * H;
  for (let s = 0; s < T; s++) {
    for (let r = 0; r < G; r++) {
      let a: f32 = 0;
      for (let i = 0; i < H; i++) a += load<f32>(f(WHH, r * H + i)) * load<f32>(f(h, i));
      store<f32>(f(g, r), load<f32>(f(GX, r * T + s)) + a);
    }
    for (let i = 0; i < H; i++) {
      const cv = sigmoidf(load<f32>(f(g, H + i))) * load<f32>(f(c, i)) + sigmoidf(load<f32>(f(g, i))) * tanhf_(load<f32>(f(g, 2 * H + i)));
      store<f32>(f(c, i), cv);
      const hv = sigmoidf(load<f32>(f(g, 3 * H + i))) * tanhf_(cv);
      store<f32>(f(h, i), hv);
      store<f32>(f(OUT, i * T + s), hv);
    }
  }
}

/** Y = A + B elementwise (residual connections). */
export function codec_add(n: i32, A: usize, B: usize, Y: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(f(Y, i), f32x4.add(v128.load(f(A, i)), v128.load(f(B, i))));
  for (; i < n; i++) store<f32>(f(Y, i), load<f32>(f(A, i)) + load<f32>(f(B, i)));
}

/**
 * Nearest codebook entry for each of T frames, then subtracts it from the residual. D [bins, T] holds the
 * dot products E @ R (from codec_conv_gemm), norms [bins] the squared entry norms; distance = norm - 2 dot,
 * ties to the lowest index. R [dim, T] is the residual, E [bins, dim] the codebook; codes out [T] (i32).
 */
export function codec_vq_assign(bins: i32, dim: i32, T: i32, D: usize, norms: usize, E: usize, R: usize, codes: usize): void {
  for (let t = 0; t < T; t++) {
    let best = 0;
    let bestD: f32 = Infinity;
    for (let b = 0; b < bins; b++) {
      const d = load<f32>(f(norms, b)) - 2 * load<f32>(f(D, b * T + t));
      if (d < bestD) {
        bestD = d;
        best = b;
      }
    }
    store<i32>(f(codes, t), best);
    const eo = f(E, best * dim);
    for (let d = 0; d < dim; d++) {
      const p = f(R, d * T + t);
      store<f32>(p, load<f32>(p) - load<f32>(eo + (<usize>d << 2)));
    }
  }
}

/**
 * Y [C, T + left + right] = X [C, T] padded. mode 0: zeros; 1: reflect (encodec's pad1d: inputs no longer
 * than the padding are zero-extended first, and the extension dropped after); 2: replicate.
 */
export function codec_pad(C: i32, T: i32, left: i32, right: i32, mode: i32, X: usize, Y: usize): void {
  const nt = T + left + right;
  const mx = max(left, right);
  const extra = mode == 1 && T <= mx ? mx - T + 1 : 0;
  const te = T + extra;
  for (let c = 0; c < C; c++) {
    const xo = f(X, c * T);
    const yo = f(Y, c * nt);
    memory.copy(yo + (<usize>left << 2), xo, <usize>T << 2);
    for (let j = 0; j < left; j++) {
      let v: f32 = 0;
      if (mode == 1) {
        const i = left - j;
        v = i < T ? load<f32>(xo + (<usize>i << 2)) : 0;
      } else if (mode == 2) v = load<f32>(xo);
      store<f32>(yo + (<usize>j << 2), v);
    }
    for (let j = left + T; j < nt; j++) {
      let v: f32 = 0;
      if (mode == 1) {
        if (j >= left + te) {
          const i = te - 2 - (j - left - te);
          v = i < T ? load<f32>(xo + (<usize>i << 2)) : 0;
        }
      } else if (mode == 2) v = load<f32>(xo + (<usize>(T - 1) << 2));
      store<f32>(yo + (<usize>j << 2), v);
    }
  }
}

/** Y[c, 0..n) = X[c, off..off+n) for c < C, X rows of length T (trimming transposed-conv outputs). */
export function codec_trim(C: i32, T: i32, off: i32, n: i32, X: usize, Y: usize): void {
  for (let c = 0; c < C; c++) memory.copy(f(Y, c * n), f(X, c * T + off), <usize>n << 2);
}
