// Kernel checks: elementary functions against float64 Math, matrix products against a float64
// reference, and every backward kernel against central finite differences of a float64 reference
// forward (which itself must agree with the kernel's forward to float32 precision).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEngine, type Block } from '../../src/engine/wasm.js';
import { WavelmError } from '../../src/util/errors.js';

const eng = getEngine();
const k = eng.k;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
}
function rand(n: number, seed: number, scale = 1): Float64Array {
  const r = rng(seed);
  return Float64Array.from({ length: n }, () => r() * 2 * scale);
}
const f32 = (x: ArrayLike<number>) => Float32Array.from(x as ArrayLike<number>);
function maxRel(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-6): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / Math.max(floor, Math.abs(b[i]!)));
  return m;
}
function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
/** Central differences of a float64 scalar function at x. */
function numGrad(f: (x: Float64Array) => number, x: Float64Array, h = 1e-5): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const o = x[i]!;
    x[i] = o + h;
    const a = f(x);
    x[i] = o - h;
    const b = f(x);
    x[i] = o;
    g[i] = (a - b) / (2 * h);
  }
  return g;
}
/** Gradient check tolerance: error relative to the largest gradient entry (float32 kernels). */
function assertGradClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string, tol = 2e-4): void {
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  const err = maxAbs(got, want) / Math.max(scale, 1e-12);
  assert.ok(err < tol, `${what}: max error ${err.toExponential(2)} of the largest gradient (tolerance ${tol})`);
}

function withArena<T>(fn: (put: (x: ArrayLike<number>) => Block, get: (b: Block) => Float64Array, alloc: (n: number) => Block) => T): T {
  const a = eng.arena();
  try {
    return fn(
      (x) => a.from(f32(x)),
      (b) => Float64Array.from(eng.f32(b)),
      (n) => a.f32(n, true),
    );
  } finally {
    a.dispose();
  }
}

test('exp, log, tanh: float32 accuracy and SIMD body == scalar tail bit for bit', () => {
  withArena((put, get, alloc) => {
    const xs = Array.from({ length: 4001 }, (_, i) => -80 + (i * 160) / 4000);
    const x = put(xs);
    const y = alloc(xs.length);
    k.vexp(x.ptr, y.ptr, xs.length);
    const expErr = maxRel(
      get(y),
      xs.map((v) => Math.exp(Math.fround(v))),
      0,
    );
    assert.ok(expErr < 4e-7, `exp relative error ${expErr}`);
    // each element once as the scalar tail (n = 1) must equal the SIMD result
    const ys = get(y);
    const one = alloc(1);
    for (let i = 0; i < xs.length; i += 37) {
      k.vexp(x.ptr + 4 * i, one.ptr, 1);
      assert.equal(eng.f32(one)[0], Math.fround(ys[i]!));
    }
    k.vtanh(x.ptr, y.ptr, xs.length);
    assert.ok(
      maxAbs(
        get(y),
        xs.map((v) => Math.tanh(Math.fround(v))),
      ) < 3e-7,
      'tanh absolute error',
    );
    const small = xs.map((v) => v / 100);
    const xsm = put(small);
    k.vtanh(xsm.ptr, y.ptr, small.length);
    const tErr = maxRel(
      get(y),
      small.map((v) => Math.tanh(Math.fround(v))),
      1e-30,
    );
    assert.ok(tErr < 3e-7, `tanh relative error near 0: ${tErr}`);
    // the attention-weight exp: 2.4e-7 near 0, a few 1e-6 down to -20
    const near = Array.from({ length: 1000 }, (_, i) => -1 + i / 1000);
    const fx = put(near);
    k.vexp_fast(fx.ptr, y.ptr, near.length);
    const fastNear = maxRel(
      get(y).subarray(0, near.length),
      near.map((v) => Math.exp(Math.fround(v))),
      0,
    );
    assert.ok(fastNear < 3e-7, `fast exp near 0: ${fastNear}`);
    const far = Array.from({ length: 1000 }, (_, i) => -20 + i / 50);
    const fx2 = put(far);
    k.vexp_fast(fx2.ptr, y.ptr, far.length);
    const fastFar = maxRel(
      get(y).subarray(0, far.length),
      far.map((v) => Math.exp(Math.fround(v))),
      0,
    );
    assert.ok(fastFar < 3e-6, `fast exp on [-20, 0]: ${fastFar}`);
    const ls = Array.from({ length: 2000 }, (_, i) => Math.exp(-30 + i * 0.05));
    const lx = put(ls);
    k.vlog(lx.ptr, y.ptr, ls.length);
    assert.ok(
      maxAbs(
        get(y).subarray(0, ls.length),
        ls.map((v) => Math.log(Math.fround(v))),
      ) < 4e-6,
      'log absolute error',
    );
  });
});

test('gemm nn / tn / nt with strides and accumulation match a float64 reference', () => {
  withArena((put, get) => {
    for (const [M, N, K] of [
      [7, 13, 9],
      [16, 24, 33],
      [5, 3, 1],
      [12, 40, 64],
    ] as const) {
      const lda = K + 3,
        ldb = N + 2,
        ldc = N + 1;
      const A = rand(M * lda, 1),
        B = rand(K * ldb, 2),
        C0 = rand(M * ldc, 3);
      const ref = Float64Array.from(C0);
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let q = 0; q < K; q++) s += Math.fround(A[i * lda + q]!) * Math.fround(B[q * ldb + j]!);
          ref[i * ldc + j] = Math.fround(C0[i * ldc + j]!) + s;
        }
      const a = put(A),
        b = put(B),
        c = put(C0);
      k.gemm_nn(M, N, K, a.ptr, lda, b.ptr, ldb, c.ptr, ldc, 1);
      assert.ok(maxAbs(get(c), ref) < 2e-5 * K, `nn ${M}x${N}x${K}`);
      // tn: A stored [K, M]
      const At = new Float64Array(K * (M + 2));
      for (let i = 0; i < M; i++) for (let q = 0; q < K; q++) At[q * (M + 2) + i] = A[i * lda + q]!;
      const at = put(At),
        c2 = put(new Float64Array(M * ldc));
      k.gemm_tn(M, N, K, at.ptr, M + 2, b.ptr, ldb, c2.ptr, ldc, 0);
      const ref0 = Float64Array.from(ref, (v, i) => v - Math.fround(C0[i]!));
      assert.ok(maxAbs(get(c2), ref0) < 2e-5 * K, `tn ${M}x${N}x${K}`);
      // nt: B stored [N, K]
      const Bt = new Float64Array(N * (K + 1));
      for (let q = 0; q < K; q++) for (let j = 0; j < N; j++) Bt[j * (K + 1) + q] = B[q * ldb + j]!;
      const bt = put(Bt),
        c3 = put(new Float64Array(M * ldc));
      k.gemm_nt(M, N, K, a.ptr, lda, bt.ptr, K + 1, c3.ptr, ldc, 0);
      assert.ok(maxAbs(get(c3), ref0) < 2e-5 * K, `nt ${M}x${N}x${K}`);
    }
  });
});

function lnRef(T: number, D: number, x: Float64Array, s: Float64Array, o: Float64Array): Float64Array {
  const y = new Float64Array(T * D);
  for (let t = 0; t < T; t++) {
    let mu = 0;
    for (let j = 0; j < D; j++) mu += x[t * D + j]!;
    mu /= D;
    let v = 0;
    for (let j = 0; j < D; j++) v += (x[t * D + j]! - mu) ** 2;
    v /= D;
    for (let j = 0; j < D; j++) y[t * D + j] = ((x[t * D + j]! - mu) / Math.sqrt(v + 1e-5)) * s[j]! + o[j]!;
  }
  return y;
}

test('LayerNorm forward and backward (central differences)', () => {
  const T = 3,
    D = 10;
  const x = rand(T * D, 4, 2),
    s = rand(D, 5).map((v) => 1 + v),
    o = rand(D, 6),
    w = rand(T * D, 7);
  const loss = (xx: Float64Array, ss: Float64Array, oo: Float64Array) => lnRef(T, D, xx, ss, oo).reduce((acc, v, i) => acc + v * w[i]!, 0);
  withArena((put, get, alloc) => {
    const X = put(x),
      S = put(s),
      O = put(o),
      Y = alloc(T * D),
      mean = alloc(T),
      rstd = alloc(T);
    k.ln_fwd(T, D, X.ptr, S.ptr, O.ptr, Y.ptr, mean.ptr, rstd.ptr, 1e-5);
    assert.ok(maxAbs(get(Y), lnRef(T, D, x, s, o)) < 2e-6);
    const dY = put(w),
      dX = alloc(T * D),
      dS = alloc(D),
      dO = alloc(D);
    k.ln_bwd(T, D, X.ptr, dY.ptr, S.ptr, mean.ptr, rstd.ptr, dX.ptr, dS.ptr, dO.ptr);
    assertGradClose(
      get(dX),
      numGrad((xx) => loss(xx, s, o), x),
      'dX',
    );
    assertGradClose(
      get(dS),
      numGrad((ss) => loss(x, ss, o), s),
      'dScale',
    );
    assertGradClose(
      get(dO),
      numGrad((oo) => loss(x, s, oo), o),
      'dOffset',
    );
  });
});

test('GELU (tanh approximation) forward and backward', () => {
  const gelu = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
  const x = Float64Array.from({ length: 203 }, (_, i) => -8 + i * 0.08 + 1e-3);
  const w = rand(x.length, 8);
  withArena((put, get, alloc) => {
    const X = put(x),
      Y = alloc(x.length);
    k.gelu_fwd(x.length, X.ptr, Y.ptr);
    assert.ok(maxAbs(get(Y), Array.from(x, gelu)) < 2e-6);
    const dY = put(w),
      dX = alloc(x.length);
    k.gelu_bwd(x.length, X.ptr, dY.ptr, dX.ptr);
    const want = Array.from(x, (v, i) => ((gelu(v + 1e-6) - gelu(v - 1e-6)) / 2e-6) * w[i]!);
    assertGradClose(get(dX), want, 'gelu dX');
  });
});

function attnRef(T: number, H: number, dh: number, q: Float64Array, kk: Float64Array, v: Float64Array): Float64Array {
  const d = H * dh;
  const out = new Float64Array(T * d);
  const sc = 1 / Math.sqrt(dh);
  for (let h = 0; h < H; h++) {
    for (let i = 0; i < T; i++) {
      const s: number[] = [];
      for (let j = 0; j <= i; j++) {
        let a = 0;
        for (let c = 0; c < dh; c++) a += q[i * d + h * dh + c]! * kk[j * d + h * dh + c]!;
        s.push(a * sc);
      }
      const m = Math.max(...s);
      const e = s.map((z) => Math.exp(z - m));
      const z = e.reduce((x, y) => x + y, 0);
      for (let c = 0; c < dh; c++) {
        let a = 0;
        for (let j = 0; j <= i; j++) a += (e[j]! / z) * v[j * d + h * dh + c]!;
        out[i * d + h * dh + c] = a;
      }
    }
  }
  return out;
}

test('fused causal attention forward and backward (central differences)', () => {
  for (const [T, H, dh] of [
    [7, 2, 4],
    [9, 3, 6],
    [12, 1, 8],
    [3, 2, 2],
  ] as const) {
    const d = H * dh;
    const q = rand(T * d, 10),
      kk = rand(T * d, 11),
      v = rand(T * d, 12),
      w = rand(T * d, 13);
    const loss = (qq: Float64Array, k2: Float64Array, vv: Float64Array) =>
      attnRef(T, H, dh, qq, k2, vv).reduce((a, y, i) => a + y * w[i]!, 0);
    withArena((put, get, alloc) => {
      // q, k, v as column blocks of one [T, 3d] buffer, as the model stores them
      const qkv = new Float64Array(T * 3 * d);
      for (let t = 0; t < T; t++)
        for (let c = 0; c < d; c++) {
          qkv[t * 3 * d + c] = q[t * d + c]!;
          qkv[t * 3 * d + d + c] = kk[t * d + c]!;
          qkv[t * 3 * d + 2 * d + c] = v[t * d + c]!;
        }
      const QKV = put(qkv),
        O = alloc(T * d),
        L = alloc(H * T);
      const Tp = (T + 3) & ~3;
      const kt = alloc(dh * Tp),
        vt = alloc(dh * Tp),
        dkt = alloc(dh * Tp),
        dvt = alloc(dh * Tp),
        S = alloc(k.attn_scratch_size(T, dh));
      const sc = 1 / Math.sqrt(dh);
      k.attn_fwd(T, H, dh, QKV.ptr, QKV.ptr + 4 * d, QKV.ptr + 8 * d, 3 * d, O.ptr, d, L.ptr, kt.ptr, vt.ptr, S.ptr, sc);
      assert.ok(maxAbs(get(O), attnRef(T, H, dh, q, kk, v)) < 3e-6, `attention forward T=${T}`);
      const dO = put(w),
        G = alloc(T * 3 * d);
      k.attn_bwd(
        T,
        H,
        dh,
        QKV.ptr,
        QKV.ptr + 4 * d,
        QKV.ptr + 8 * d,
        3 * d,
        O.ptr,
        dO.ptr,
        d,
        L.ptr,
        G.ptr,
        G.ptr + 4 * d,
        G.ptr + 8 * d,
        3 * d,
        kt.ptr,
        vt.ptr,
        dkt.ptr,
        dvt.ptr,
        S.ptr,
        sc,
      );
      const g = get(G);
      const pick = (off: number) => Float64Array.from({ length: T * d }, (_, i) => g[Math.floor(i / d) * 3 * d + off + (i % d)]!);
      assertGradClose(
        pick(0),
        numGrad((x) => loss(x, kk, v), q),
        'dQ',
      );
      assertGradClose(
        pick(d),
        numGrad((x) => loss(q, x, v), kk),
        'dK',
      );
      assertGradClose(
        pick(2 * d),
        numGrad((x) => loss(q, kk, x), v),
        'dV',
      );
    });
  }
});

test('cross-entropy / log-softmax / softmax and its gradient', () => {
  const T = 3,
    V = 11;
  const x = rand(T * V, 14, 4);
  const tg = [3, 0, 10];
  const lossRef = (xx: Float64Array) => {
    let l = 0;
    for (let t = 0; t < T; t++) {
      const row = Array.from(xx.subarray(t * V, (t + 1) * V));
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((a, b) => a + Math.exp(b - m), 0));
      l += lse - row[tg[t]!]!;
    }
    return l;
  };
  withArena((put, get, alloc) => {
    const X = put(x),
      LP = alloc(T * V),
      P = alloc(T * V),
      scr = alloc(V);
    const targets = eng.arena();
    const tb = targets.i32(T);
    eng.i32(tb).set(tg);
    k.log_softmax(T, V, X.ptr, LP.ptr, scr.ptr);
    const lp = get(LP);
    k.softmax(T, V, X.ptr, P.ptr);
    assert.ok(maxAbs(get(P), Array.from(lp, Math.exp)) < 1e-6, 'softmax = exp(log_softmax)');
    const LP2 = alloc(T * V);
    const loss = k.xent(T, V, X.ptr, tb.ptr, 0.5, LP2.ptr);
    assert.ok(Math.abs(loss - lossRef(x)) < 1e-5, `xent loss ${loss}`);
    assert.ok(maxAbs(get(LP2), lp) === 0, 'xent log-probs == log_softmax');
    assertGradClose(
      get(X).map((v) => v / 0.5),
      numGrad(lossRef, x),
      'dlogits',
    );
    targets.dispose();
  });
});

test('embedding lookup and scatter-add; rotary inverse; adam; sumsq', () => {
  withArena((put, get, alloc) => {
    const V = 5,
      D = 6,
      T = 4;
    const E = rand(V * D, 15),
      P = rand(T * D, 16);
    const tokArena = eng.arena();
    const tok = tokArena.i32(T);
    eng.i32(tok).set([2, 4, 2, 0]);
    const Eb = put(E),
      Pb = put(P),
      X = alloc(T * D);
    k.embed_fwd(T, D, tok.ptr, Eb.ptr, 2, Pb.ptr, X.ptr);
    const x = get(X);
    assert.ok(Math.abs(x[D + 3]! - (Math.fround(E[4 * D + 3]!) * 2 + Math.fround(P[D + 3]!))) < 1e-6);
    const dX = put(rand(T * D, 17)),
      dE = alloc(V * D);
    k.embed_bwd(T, D, tok.ptr, dX.ptr, 2, dE.ptr);
    const dx = get(dX),
      de = get(dE);
    for (let j = 0; j < D; j++) {
      assert.ok(Math.abs(de[2 * D + j]! - 2 * (dx[j]! + dx[2 * D + j]!)) < 1e-6);
      assert.equal(de[1 * D + j], 0);
    }
    tokArena.dispose();
    // rotary followed by its inverse gives the input back
    const H = 2,
      dh = 4,
      TT = 5;
    const cos = alloc(TT * 2),
      sin = alloc(TT * 2);
    k.rotary_table(TT, dh, cos.ptr, sin.ptr);
    const r = rand(TT * H * dh, 18);
    const R = put(r);
    k.rotary(TT, H, dh, R.ptr, H * dh, cos.ptr, sin.ptr, 0, 1);
    assert.ok(maxAbs(get(R), r) > 1e-2, 'rotation changes the vector');
    k.rotary(TT, H, dh, R.ptr, H * dh, cos.ptr, sin.ptr, 0, -1);
    assert.ok(maxAbs(get(R), r) < 1e-6);
    // adam against its formula
    const n = 9;
    const p = rand(n, 19),
      g = rand(n, 20),
      m = rand(n, 21, 0.1),
      v = rand(n, 22, 0.1).map(Math.abs);
    const Pp = put(p),
      G = put(g),
      M = put(m),
      Vv = put(v);
    k.adam(n, Pp.ptr, G.ptr, M.ptr, Vv.ptr, 0.01, 0.9, 0.999, 1e-8, 1 - 0.9 ** 3, 1 - 0.999 ** 3, 0.5);
    const pp = get(Pp);
    for (let i = 0; i < n; i++) {
      const gi = Math.fround(g[i]!) * 0.5;
      const mi = 0.9 * Math.fround(m[i]!) + 0.1 * gi;
      const vi = 0.999 * Math.fround(v[i]!) + 0.001 * gi * gi;
      const want = Math.fround(p[i]!) - (0.01 * (mi / (1 - 0.9 ** 3))) / (Math.sqrt(vi / (1 - 0.999 ** 3)) + 1e-8);
      assert.ok(Math.abs(pp[i]! - want) < 1e-6, `adam element ${i}`);
    }
    const z = rand(1003, 23);
    const Z = put(z);
    const ss = Array.from(f32(z)).reduce((a, b) => a + b * b, 0);
    assert.ok(Math.abs(k.sumsq(z.length, Z.ptr) - ss) < 1e-9 * ss);
  });
});

test('allocator: blocks are 16-byte aligned, reused after free, and views survive growth', () => {
  const a = eng.arena();
  const b1 = a.f32(3);
  const b2 = a.f32(5);
  assert.equal(b1.ptr % 16, 0);
  assert.equal(b2.ptr % 16, 0);
  eng.f32(b2).set([1, 2, 3, 4, 5]);
  const before = eng.memory.buffer.byteLength;
  const big = a.f32((before / 4) * 2); // forces the memory to grow
  assert.ok(eng.memory.buffer.byteLength > before);
  assert.deepEqual(Array.from(eng.f32(b2)), [1, 2, 3, 4, 5]);
  const used = eng.bytesInUse;
  a.dispose();
  assert.ok(eng.bytesInUse <= used - big.length * 4);
  const a2 = eng.arena();
  const again = a2.f32(3);
  assert.equal(again.ptr, b1.ptr);
  a2.dispose();
  assert.throws(() => eng.fn('no_such_kernel'), /not found/);
});

test("createEngine(wasmFile) instantiates another build of the kernels, independent of this thread's", async () => {
  const { createEngine, kernelsPath } = await import('../../src/engine/wasm.js');
  const other = createEngine(kernelsPath());
  assert.notEqual(other.memory, eng.memory);
  assert.equal(other.k.abiVersion(), k.abiVersion());
  const a = other.arena();
  const x = a.from([0.5, -1, 2, 3]);
  const y = a.f32(4);
  other.k.vexp(x.ptr, y.ptr, 4);
  const mine = eng.arena();
  const x2 = mine.from([0.5, -1, 2, 3]);
  const y2 = mine.f32(4);
  k.vexp(x2.ptr, y2.ptr, 4);
  assert.deepEqual(Array.from(other.f32(y)), Array.from(eng.f32(y2)));
  a.dispose();
  mine.dispose();
  assert.throws(
    () => createEngine('/nonexistent/kernels.wasm'),
    (e: unknown) => e instanceof WavelmError && e.code === 'ENOENT' && /nonexistent\/kernels.wasm/.test(e.message),
  );
});
