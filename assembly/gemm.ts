// Matrix products on row-major f32 matrices with explicit row strides (in elements).
// Every output element is a sum over k in a fixed order that does not depend on the block it
// falls in (SIMD body and scalar tails use the same order), so results never depend on sizes,
// offsets or threads. `acc` != 0 adds the product to C (C = C + sum), else C = sum.

// @ts-ignore: decorator
@inline
function at(base: usize, idx: i32): usize {
  return base + (<usize>idx << 2);
}

/** C[M,N] (+)= A[M,K] @ B[K,N]. Sum order: k = 0..K-1 sequentially. */
export function gemm_nn(M: i32, N: i32, K: i32, A: usize, lda: i32, B: usize, ldb: i32, C: usize, ldc: i32, acc: i32): void {
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const a0 = at(A, i * lda);
    const a1 = a0 + (<usize>lda << 2);
    const a2 = a1 + (<usize>lda << 2);
    const a3 = a2 + (<usize>lda << 2);
    let j = 0;
    for (; j + 8 <= N; j += 8) {
      let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
      let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
      let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
      let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
      let bp = at(B, j);
      const bstep = <usize>ldb << 2;
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(bp);
        const b1 = v128.load(bp, 16);
        const ko = <usize>k << 2;
        let a = f32x4.splat(load<f32>(a0 + ko));
        c00 = f32x4.add(c00, f32x4.mul(a, b0));
        c01 = f32x4.add(c01, f32x4.mul(a, b1));
        a = f32x4.splat(load<f32>(a1 + ko));
        c10 = f32x4.add(c10, f32x4.mul(a, b0));
        c11 = f32x4.add(c11, f32x4.mul(a, b1));
        a = f32x4.splat(load<f32>(a2 + ko));
        c20 = f32x4.add(c20, f32x4.mul(a, b0));
        c21 = f32x4.add(c21, f32x4.mul(a, b1));
        a = f32x4.splat(load<f32>(a3 + ko));
        c30 = f32x4.add(c30, f32x4.mul(a, b0));
        c31 = f32x4.add(c31, f32x4.mul(a, b1));
        bp += bstep;
      }
      const cp0 = at(C, i * ldc + j);
      const cp1 = cp0 + (<usize>ldc << 2);
      const cp2 = cp1 + (<usize>ldc << 2);
      const cp3 = cp2 + (<usize>ldc << 2);
      if (acc) {
        c00 = f32x4.add(v128.load(cp0), c00); c01 = f32x4.add(v128.load(cp0, 16), c01);
        c10 = f32x4.add(v128.load(cp1), c10); c11 = f32x4.add(v128.load(cp1, 16), c11);
        c20 = f32x4.add(v128.load(cp2), c20); c21 = f32x4.add(v128.load(cp2, 16), c21);
        c30 = f32x4.add(v128.load(cp3), c30); c31 = f32x4.add(v128.load(cp3, 16), c31);
      }
      v128.store(cp0, c00); v128.store(cp0, c01, 16);
      v128.store(cp1, c10); v128.store(cp1, c11, 16);
      v128.store(cp2, c20); v128.store(cp2, c21, 16);
      v128.store(cp3, c30); v128.store(cp3, c31, 16);
    }
    if (j < N) nn_rows(i, i + 4, j, N, K, A, lda, B, ldb, C, ldc, acc);
  }
  if (i < M) nn_rows(i, M, 0, N, K, A, lda, B, ldb, C, ldc, acc);
}

// Rows r0..r1, columns j0..N, one row at a time: 4-wide then scalar; same k order as the body.
function nn_rows(r0: i32, r1: i32, j0: i32, N: i32, K: i32, A: usize, lda: i32, B: usize, ldb: i32, C: usize, ldc: i32, acc: i32): void {
  for (let i = r0; i < r1; i++) {
    const ap = at(A, i * lda);
    let j = j0;
    for (; j + 4 <= N; j += 4) {
      let c = f32x4.splat(0);
      for (let k = 0; k < K; k++) c = f32x4.add(c, f32x4.mul(f32x4.splat(load<f32>(ap + (<usize>k << 2))), v128.load(at(B, k * ldb + j))));
      const cp = at(C, i * ldc + j);
      if (acc) c = f32x4.add(v128.load(cp), c);
      v128.store(cp, c);
    }
    for (; j < N; j++) {
      let c: f32 = 0;
      for (let k = 0; k < K; k++) c += load<f32>(ap + (<usize>k << 2)) * load<f32>(at(B, k * ldb + j));
      const cp = at(C, i * ldc + j);
      store<f32>(cp, acc ? load<f32>(cp) + c : c);
    }
  }
}

/** C[M,N] (+)= A^T @ B with A stored [K,M] and B [K,N] (weight gradients X^T dY). Sum order: k sequential. */
export function gemm_tn(M: i32, N: i32, K: i32, A: usize, lda: i32, B: usize, ldb: i32, C: usize, ldc: i32, acc: i32): void {
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    let j = 0;
    for (; j + 8 <= N; j += 8) {
      let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
      let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
      let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
      let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
      let bp = at(B, j);
      let ap = at(A, i);
      const bstep = <usize>ldb << 2;
      const astep = <usize>lda << 2;
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(bp);
        const b1 = v128.load(bp, 16);
        let a = f32x4.splat(load<f32>(ap));
        c00 = f32x4.add(c00, f32x4.mul(a, b0));
        c01 = f32x4.add(c01, f32x4.mul(a, b1));
        a = f32x4.splat(load<f32>(ap, 4));
        c10 = f32x4.add(c10, f32x4.mul(a, b0));
        c11 = f32x4.add(c11, f32x4.mul(a, b1));
        a = f32x4.splat(load<f32>(ap, 8));
        c20 = f32x4.add(c20, f32x4.mul(a, b0));
        c21 = f32x4.add(c21, f32x4.mul(a, b1));
        a = f32x4.splat(load<f32>(ap, 12));
        c30 = f32x4.add(c30, f32x4.mul(a, b0));
        c31 = f32x4.add(c31, f32x4.mul(a, b1));
        bp += bstep;
        ap += astep;
      }
      const cp0 = at(C, i * ldc + j);
      const cp1 = cp0 + (<usize>ldc << 2);
      const cp2 = cp1 + (<usize>ldc << 2);
      const cp3 = cp2 + (<usize>ldc << 2);
      if (acc) {
        c00 = f32x4.add(v128.load(cp0), c00); c01 = f32x4.add(v128.load(cp0, 16), c01);
        c10 = f32x4.add(v128.load(cp1), c10); c11 = f32x4.add(v128.load(cp1, 16), c11);
        c20 = f32x4.add(v128.load(cp2), c20); c21 = f32x4.add(v128.load(cp2, 16), c21);
        c30 = f32x4.add(v128.load(cp3), c30); c31 = f32x4.add(v128.load(cp3, 16), c31);
      }
      v128.store(cp0, c00); v128.store(cp0, c01, 16);
      v128.store(cp1, c10); v128.store(cp1, c11, 16);
      v128.store(cp2, c20); v128.store(cp2, c21, 16);
      v128.store(cp3, c30); v128.store(cp3, c31, 16);
    }
    if (j < N) tn_rows(i, i + 4, j, N, K, A, lda, B, ldb, C, ldc, acc);
  }
  if (i < M) tn_rows(i, M, 0, N, K, A, lda, B, ldb, C, ldc, acc);
}

function tn_rows(r0: i32, r1: i32, j0: i32, N: i32, K: i32, A: usize, lda: i32, B: usize, ldb: i32, C: usize, ldc: i32, acc: i32): void {
  for (let i = r0; i < r1; i++) {
    let j = j0;
    for (; j + 4 <= N; j += 4) {
      let c = f32x4.splat(0);
      for (let k = 0; k < K; k++) c = f32x4.add(c, f32x4.mul(f32x4.splat(load<f32>(at(A, k * lda + i))), v128.load(at(B, k * ldb + j))));
      const cp = at(C, i * ldc + j);
      if (acc) c = f32x4.add(v128.load(cp), c);
      v128.store(cp, c);
    }
    for (; j < N; j++) {
      let c: f32 = 0;
      for (let k = 0; k < K; k++) c += load<f32>(at(A, k * lda + i)) * load<f32>(at(B, k * ldb + j));
      const cp = at(C, i * ldc + j);
      store<f32>(cp, acc ? load<f32>(cp) + c : c);
    }
  }
}

/**
 * C[M,N] (+)= A[M,K] @ B^T with B stored [N,K] (input gradients dY W^T).
 * Sum order: four lane sums over k = l, l+4, l+8, ... (k < K - K%4), combined as ((s0+s1)+(s2+s3)),
 * then the k tail sequentially.
 */
export function gemm_nt(M: i32, N: i32, K: i32, A: usize, lda: i32, B: usize, ldb: i32, C: usize, ldc: i32, acc: i32): void {
  const K4 = K & ~3;
  let i = 0;
  for (; i + 2 <= M; i += 2) {
    const a0 = at(A, i * lda);
    const a1 = a0 + (<usize>lda << 2);
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const b0 = at(B, j * ldb);
      const b1 = b0 + (<usize>ldb << 2);
      const b2 = b1 + (<usize>ldb << 2);
      const b3 = b2 + (<usize>ldb << 2);
      let s00 = f32x4.splat(0), s01 = f32x4.splat(0), s02 = f32x4.splat(0), s03 = f32x4.splat(0);
      let s10 = f32x4.splat(0), s11 = f32x4.splat(0), s12 = f32x4.splat(0), s13 = f32x4.splat(0);
      for (let k = 0; k < K4; k += 4) {
        const ko = <usize>k << 2;
        const x0 = v128.load(a0 + ko);
        const x1 = v128.load(a1 + ko);
        let w = v128.load(b0 + ko);
        s00 = f32x4.add(s00, f32x4.mul(x0, w)); s10 = f32x4.add(s10, f32x4.mul(x1, w));
        w = v128.load(b1 + ko);
        s01 = f32x4.add(s01, f32x4.mul(x0, w)); s11 = f32x4.add(s11, f32x4.mul(x1, w));
        w = v128.load(b2 + ko);
        s02 = f32x4.add(s02, f32x4.mul(x0, w)); s12 = f32x4.add(s12, f32x4.mul(x1, w));
        w = v128.load(b3 + ko);
        s03 = f32x4.add(s03, f32x4.mul(x0, w)); s13 = f32x4.add(s13, f32x4.mul(x1, w));
      }
      nt_store(C, i, j, ldc, acc, s00, a0, b0, K4, K);
      nt_store(C, i, j + 1, ldc, acc, s01, a0, b1, K4, K);
      nt_store(C, i, j + 2, ldc, acc, s02, a0, b2, K4, K);
      nt_store(C, i, j + 3, ldc, acc, s03, a0, b3, K4, K);
      nt_store(C, i + 1, j, ldc, acc, s10, a1, b0, K4, K);
      nt_store(C, i + 1, j + 1, ldc, acc, s11, a1, b1, K4, K);
      nt_store(C, i + 1, j + 2, ldc, acc, s12, a1, b2, K4, K);
      nt_store(C, i + 1, j + 3, ldc, acc, s13, a1, b3, K4, K);
    }
    for (; j < N; j++) {
      nt_one(C, i, j, ldc, acc, a0, at(B, j * ldb), K4, K);
      nt_one(C, i + 1, j, ldc, acc, a1, at(B, j * ldb), K4, K);
    }
  }
  for (; i < M; i++) {
    const a0 = at(A, i * lda);
    for (let j = 0; j < N; j++) nt_one(C, i, j, ldc, acc, a0, at(B, j * ldb), K4, K);
  }
}

// @ts-ignore: decorator
@inline
function nt_store(C: usize, i: i32, j: i32, ldc: i32, acc: i32, s: v128, a: usize, b: usize, K4: i32, K: i32): void {
  let r = (f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1)) + (f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
  for (let k = K4; k < K; k++) r += load<f32>(a + (<usize>k << 2)) * load<f32>(b + (<usize>k << 2));
  const cp = at(C, i * ldc + j);
  store<f32>(cp, acc ? load<f32>(cp) + r : r);
}

function nt_one(C: usize, i: i32, j: i32, ldc: i32, acc: i32, a: usize, b: usize, K4: i32, K: i32): void {
  let s = f32x4.splat(0);
  for (let k = 0; k < K4; k += 4) s = f32x4.add(s, f32x4.mul(v128.load(a + (<usize>k << 2)), v128.load(b + (<usize>k << 2))));
  nt_store(C, i, j, ldc, acc, s, a, b, K4, K);
}
