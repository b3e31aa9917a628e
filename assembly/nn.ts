// Elementwise and row-wise layers (forward and backward), the optimizer and reductions.
// All reductions run in a fixed order: four SIMD lane sums combined as ((l0+l1)+(l2+l3)) and then
// the scalar tail, or plain sequential loops where noted.
import { expv, expf_, logf_, tanhv, tanhf_, hsum } from './mathf';

// @ts-ignore: decorator
@inline
function at(base: usize, idx: i32): usize {
  return base + (<usize>idx << 2);
}

/** Y[M,N] += b[N] on every row. */
export function add_bias(M: i32, N: i32, Y: usize, b: usize): void {
  for (let i = 0; i < M; i++) {
    const y = at(Y, i * N);
    let j = 0;
    for (; j + 4 <= N; j += 4) v128.store(at(y, j), f32x4.add(v128.load(at(y, j)), v128.load(at(b, j))));
    for (; j < N; j++) store<f32>(at(y, j), load<f32>(at(y, j)) + load<f32>(at(b, j)));
  }
}

/** db[N] += sum over rows of dY[M,N], rows in order. */
export function col_sum(M: i32, N: i32, dY: usize, db: usize): void {
  for (let i = 0; i < M; i++) {
    const y = at(dY, i * N);
    let j = 0;
    for (; j + 4 <= N; j += 4) v128.store(at(db, j), f32x4.add(v128.load(at(db, j)), v128.load(at(y, j))));
    for (; j < N; j++) store<f32>(at(db, j), load<f32>(at(db, j)) + load<f32>(at(y, j)));
  }
}

/** Z[n] = X[n] + Y[n] (Z may alias X or Y). */
export function vadd(n: i32, X: usize, Y: usize, Z: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(Z, i), f32x4.add(v128.load(at(X, i)), v128.load(at(Y, i))));
  for (; i < n; i++) store<f32>(at(Z, i), load<f32>(at(X, i)) + load<f32>(at(Y, i)));
}

/** X[n] *= s. */
export function vscale(n: i32, X: usize, s: f32): void {
  const sv = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(X, i), f32x4.mul(v128.load(at(X, i)), sv));
  for (; i < n; i++) store<f32>(at(X, i), load<f32>(at(X, i)) * s);
}

/** Sum of squares of X[n] in float64: two f64x2 accumulators over consecutive quads, then the tail. */
export function sumsq(n: i32, X: usize): f64 {
  let a = f64x2.splat(0);
  let b = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(at(X, i));
    const lo = f64x2.promote_low_f32x4(v);
    const hi = f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1));
    a = f64x2.add(a, f64x2.mul(lo, lo));
    b = f64x2.add(b, f64x2.mul(hi, hi));
  }
  let s = (f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1)) + (f64x2.extract_lane(b, 0) + f64x2.extract_lane(b, 1));
  for (; i < n; i++) {
    const x = <f64>load<f32>(at(X, i));
    s += x * x;
  }
  return s;
}

/** Out[C,R] = In[R,C]^T with row strides ldi (input) and ldo (output). */
export function transpose(R: i32, C: i32, In: usize, ldi: i32, Out: usize, ldo: i32): void {
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) store<f32>(at(Out, c * ldo + r), load<f32>(at(In, r * ldi + c)));
}

/**
 * LayerNorm over rows of X[T,D] (haiku: biased variance, eps inside the sqrt).
 * Saves mean and 1/std per row for the backward pass.
 */
export function ln_fwd(T: i32, D: i32, X: usize, scale: usize, offset: usize, Y: usize, mean: usize, rstd: usize, eps: f32): void {
  const invD: f32 = 1.0 / <f32>D;
  for (let t = 0; t < T; t++) {
    const x = at(X, t * D);
    const y = at(Y, t * D);
    let sv = f32x4.splat(0);
    let j = 0;
    for (; j + 4 <= D; j += 4) sv = f32x4.add(sv, v128.load(at(x, j)));
    let s = hsum(sv);
    for (; j < D; j++) s += load<f32>(at(x, j));
    const mu = s * invD;
    const muv = f32x4.splat(mu);
    let qv = f32x4.splat(0);
    j = 0;
    for (; j + 4 <= D; j += 4) {
      const d = f32x4.sub(v128.load(at(x, j)), muv);
      qv = f32x4.add(qv, f32x4.mul(d, d));
    }
    let q = hsum(qv);
    for (; j < D; j++) {
      const d = load<f32>(at(x, j)) - mu;
      q += d * d;
    }
    const rs: f32 = 1.0 / sqrt<f32>(q * invD + eps);
    store<f32>(at(mean, t), mu);
    store<f32>(at(rstd, t), rs);
    const rv = f32x4.splat(rs);
    j = 0;
    for (; j + 4 <= D; j += 4) {
      const xh = f32x4.mul(f32x4.sub(v128.load(at(x, j)), muv), rv);
      v128.store(at(y, j), f32x4.add(f32x4.mul(xh, v128.load(at(scale, j))), v128.load(at(offset, j))));
    }
    for (; j < D; j++) store<f32>(at(y, j), (load<f32>(at(x, j)) - mu) * rs * load<f32>(at(scale, j)) + load<f32>(at(offset, j)));
  }
}

/**
 * LayerNorm backward. dX = rstd (g - mean(g) - xhat mean(g xhat)) with g = dY scale;
 * dScale += sum_t dY xhat, dOffset += sum_t dY (rows in order). dX may alias dY.
 */
export function ln_bwd(T: i32, D: i32, X: usize, dY: usize, scale: usize, mean: usize, rstd: usize, dX: usize, dScale: usize, dOffset: usize): void {
  const invD: f32 = 1.0 / <f32>D;
  for (let t = 0; t < T; t++) {
    const x = at(X, t * D);
    const dy = at(dY, t * D);
    const dx = at(dX, t * D);
    const mu = load<f32>(at(mean, t));
    const rs = load<f32>(at(rstd, t));
    const muv = f32x4.splat(mu);
    const rv = f32x4.splat(rs);
    let s1v = f32x4.splat(0);
    let s2v = f32x4.splat(0);
    let j = 0;
    for (; j + 4 <= D; j += 4) {
      const xh = f32x4.mul(f32x4.sub(v128.load(at(x, j)), muv), rv);
      const d = v128.load(at(dy, j));
      const g = f32x4.mul(d, v128.load(at(scale, j)));
      s1v = f32x4.add(s1v, g);
      s2v = f32x4.add(s2v, f32x4.mul(g, xh));
      v128.store(at(dScale, j), f32x4.add(v128.load(at(dScale, j)), f32x4.mul(d, xh)));
      v128.store(at(dOffset, j), f32x4.add(v128.load(at(dOffset, j)), d));
    }
    let s1 = hsum(s1v);
    let s2 = hsum(s2v);
    for (; j < D; j++) {
      const xh = (load<f32>(at(x, j)) - mu) * rs;
      const d = load<f32>(at(dy, j));
      const g = d * load<f32>(at(scale, j));
      s1 += g;
      s2 += g * xh;
      store<f32>(at(dScale, j), load<f32>(at(dScale, j)) + d * xh);
      store<f32>(at(dOffset, j), load<f32>(at(dOffset, j)) + d);
    }
    const m1 = s1 * invD;
    const m2 = s2 * invD;
    const m1v = f32x4.splat(m1);
    const m2v = f32x4.splat(m2);
    j = 0;
    for (; j + 4 <= D; j += 4) {
      const xh = f32x4.mul(f32x4.sub(v128.load(at(x, j)), muv), rv);
      const g = f32x4.mul(v128.load(at(dy, j)), v128.load(at(scale, j)));
      v128.store(at(dx, j), f32x4.mul(rv, f32x4.sub(f32x4.sub(g, m1v), f32x4.mul(xh, m2v))));
    }
    for (; j < D; j++) {
      const xh = (load<f32>(at(x, j)) - mu) * rs;
      const g = load<f32>(at(dy, j)) * load<f32>(at(scale, j));
      store<f32>(at(dx, j), rs * (g - m1 - xh * m2));
    }
  }
}

const GC: f32 = 0.7978845608028654; // sqrt(2/pi)
const GA: f32 = 0.044715;

/** Y = 0.5 x (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3))). */
export function gelu_fwd(n: i32, X: usize, Y: usize): void {
  const half = f32x4.splat(0.5);
  const one = f32x4.splat(1.0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const x = v128.load(at(X, i));
    const u = f32x4.mul(f32x4.splat(GC), f32x4.add(x, f32x4.mul(f32x4.splat(GA), f32x4.mul(x, f32x4.mul(x, x)))));
    v128.store(at(Y, i), f32x4.mul(f32x4.mul(half, x), f32x4.add(one, tanhv(u))));
  }
  for (; i < n; i++) {
    const x = load<f32>(at(X, i));
    const u = GC * (x + GA * (x * (x * x)));
    store<f32>(at(Y, i), 0.5 * x * (1.0 + tanhf_(u)));
  }
}

/** dX = dY * gelu'(X) (dX may alias dY). */
export function gelu_bwd(n: i32, X: usize, dY: usize, dX: usize): void {
  const half = f32x4.splat(0.5);
  const one = f32x4.splat(1.0);
  const ga3 = f32x4.splat(3.0 * GA);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const x = v128.load(at(X, i));
    const x2 = f32x4.mul(x, x);
    const u = f32x4.mul(f32x4.splat(GC), f32x4.add(x, f32x4.mul(f32x4.splat(GA), f32x4.mul(x, x2))));
    const t = tanhv(u);
    const du = f32x4.mul(f32x4.splat(GC), f32x4.add(one, f32x4.mul(ga3, x2)));
    const g = f32x4.add(f32x4.mul(half, f32x4.add(one, t)), f32x4.mul(f32x4.mul(half, x), f32x4.mul(f32x4.sub(one, f32x4.mul(t, t)), du)));
    v128.store(at(dX, i), f32x4.mul(v128.load(at(dY, i)), g));
  }
  for (; i < n; i++) {
    const x = load<f32>(at(X, i));
    const x2 = x * x;
    const u = GC * (x + GA * (x * x2));
    const t = tanhf_(u);
    const du = GC * (1.0 + 3.0 * GA * x2);
    const g: f32 = 0.5 * (1.0 + t) + 0.5 * x * ((1.0 - t * t) * du);
    store<f32>(at(dX, i), load<f32>(at(dY, i)) * g);
  }
}

/** X[t] = E[tokens[t]] * s + P[t] (P: [T,D] or 0 for none). tokens: i32. */
export function embed_fwd(T: i32, D: i32, tokens: usize, E: usize, s: f32, P: usize, X: usize): void {
  const sv = f32x4.splat(s);
  for (let t = 0; t < T; t++) {
    const e = at(E, load<i32>(at(tokens, t)) * D);
    const x = at(X, t * D);
    let j = 0;
    if (P) {
      const p = at(P, t * D);
      for (; j + 4 <= D; j += 4) v128.store(at(x, j), f32x4.add(f32x4.mul(v128.load(at(e, j)), sv), v128.load(at(p, j))));
      for (; j < D; j++) store<f32>(at(x, j), load<f32>(at(e, j)) * s + load<f32>(at(p, j)));
    } else {
      for (; j + 4 <= D; j += 4) v128.store(at(x, j), f32x4.mul(v128.load(at(e, j)), sv));
      for (; j < D; j++) store<f32>(at(x, j), load<f32>(at(e, j)) * s);
    }
  }
}

/** dE[tokens[t]] += dX[t] * s, t in order (scatter-add). */
export function embed_bwd(T: i32, D: i32, tokens: usize, dX: usize, s: f32, dE: usize): void {
  const sv = f32x4.splat(s);
  for (let t = 0; t < T; t++) {
    const e = at(dE, load<i32>(at(tokens, t)) * D);
    const x = at(dX, t * D);
    let j = 0;
    for (; j + 4 <= D; j += 4) v128.store(at(e, j), f32x4.add(v128.load(at(e, j)), f32x4.mul(v128.load(at(x, j)), sv)));
    for (; j < D; j++) store<f32>(at(e, j), load<f32>(at(e, j)) + load<f32>(at(x, j)) * s);
  }
}

// Row max (fixed order) of x[0..V).
// @ts-ignore: decorator
@inline
function rowmax(x: usize, V: i32): f32 {
  let mv = f32x4.splat(-Infinity);
  let j = 0;
  for (; j + 4 <= V; j += 4) mv = f32x4.max(mv, v128.load(at(x, j)));
  let m = max<f32>(max<f32>(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max<f32>(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  for (; j < V; j++) m = max<f32>(m, load<f32>(at(x, j)));
  return m;
}

// Writes e = exp(x - m) to out (may alias x) and returns the fixed-order sum of e.
// @ts-ignore: decorator
@inline
function rowexp(x: usize, out: usize, V: i32, m: f32): f32 {
  const mv = f32x4.splat(m);
  let sv = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= V; j += 4) {
    const e = expv(f32x4.sub(v128.load(at(x, j)), mv));
    v128.store(at(out, j), e);
    sv = f32x4.add(sv, e);
  }
  let s = hsum(sv);
  for (; j < V; j++) {
    const e = expf_(load<f32>(at(x, j)) - m);
    store<f32>(at(out, j), e);
    s += e;
  }
  return s;
}

/** P[T,V] = softmax of rows of X (P may alias X): p = exp(x - max) * (1 / sum). */
export function softmax(T: i32, V: i32, X: usize, P: usize): void {
  for (let t = 0; t < T; t++) {
    const x = at(X, t * V);
    const p = at(P, t * V);
    const m = rowmax(x, V);
    const s = rowexp(x, p, V, m);
    const inv: f32 = 1.0 / s;
    const iv = f32x4.splat(inv);
    let j = 0;
    for (; j + 4 <= V; j += 4) v128.store(at(p, j), f32x4.mul(v128.load(at(p, j)), iv));
    for (; j < V; j++) store<f32>(at(p, j), load<f32>(at(p, j)) * inv);
  }
}

/** L[T,V] = log_softmax of rows of X (L may alias X): x - (max + log(sum exp(x - max))). */
export function log_softmax(T: i32, V: i32, X: usize, L: usize, scratch: usize): void {
  for (let t = 0; t < T; t++) {
    const x = at(X, t * V);
    const l = at(L, t * V);
    const m = rowmax(x, V);
    const s = rowexp(x, scratch, V, m);
    const lse = m + logf_(s);
    const lv = f32x4.splat(lse);
    let j = 0;
    for (; j + 4 <= V; j += 4) v128.store(at(l, j), f32x4.sub(v128.load(at(x, j)), lv));
    for (; j < V; j++) store<f32>(at(l, j), load<f32>(at(x, j)) - lse);
  }
}

/**
 * Cross-entropy of rows of logits X[T,V] against targets (i32): returns sum_t -log_softmax(x_t)[target_t]
 * (float64, rows in order). Overwrites X with dLoss/dX * g = (softmax(x) - onehot) * g when g != 0.
 * When LP != 0 it also receives the log-probabilities (before X is overwritten).
 */
export function xent(T: i32, V: i32, X: usize, targets: usize, g: f32, LP: usize): f64 {
  let loss: f64 = 0;
  for (let t = 0; t < T; t++) {
    const x = at(X, t * V);
    const tg = load<i32>(at(targets, t));
    const m = rowmax(x, V);
    const xt = load<f32>(at(x, tg));
    if (LP) {
      const lp = at(LP, t * V);
      const s0 = rowexp(x, lp, V, m);
      const lse0 = m + logf_(s0);
      const lv = f32x4.splat(lse0);
      let j = 0;
      for (; j + 4 <= V; j += 4) v128.store(at(lp, j), f32x4.sub(v128.load(at(x, j)), lv));
      for (; j < V; j++) store<f32>(at(lp, j), load<f32>(at(x, j)) - lse0);
    }
    const s = rowexp(x, x, V, m);
    const lse = m + logf_(s);
    loss += <f64>(lse - xt);
    if (g != 0) {
      const c: f32 = g / s;
      const cv = f32x4.splat(c);
      let j = 0;
      for (; j + 4 <= V; j += 4) v128.store(at(x, j), f32x4.mul(v128.load(at(x, j)), cv));
      for (; j < V; j++) store<f32>(at(x, j), load<f32>(at(x, j)) * c);
      store<f32>(at(x, tg), load<f32>(at(x, tg)) - g);
    }
  }
  return loss;
}

/**
 * Adam (optax.adam): m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr (m / bc1) / (sqrt(v / bc2) + eps),
 * with g = G * gs (gs: gradient scale, e.g. batch mean and clipping) and bc = 1 - beta^step.
 */
export function adam(n: i32, P: usize, G: usize, M: usize, Vv: usize, lr: f32, b1: f32, b2: f32, eps: f32, bc1: f32, bc2: f32, gs: f32): void {
  const b1v = f32x4.splat(b1), c1v = f32x4.splat(1.0 - b1);
  const b2v = f32x4.splat(b2), c2v = f32x4.splat(1.0 - b2);
  const i1 = f32x4.splat(1.0 / bc1), i2 = f32x4.splat(1.0 / bc2);
  const lrv = f32x4.splat(lr), ev = f32x4.splat(eps), gsv = f32x4.splat(gs);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const g = f32x4.mul(v128.load(at(G, i)), gsv);
    const m = f32x4.add(f32x4.mul(b1v, v128.load(at(M, i))), f32x4.mul(c1v, g));
    const v = f32x4.add(f32x4.mul(b2v, v128.load(at(Vv, i))), f32x4.mul(c2v, f32x4.mul(g, g)));
    v128.store(at(M, i), m);
    v128.store(at(Vv, i), v);
    const u = f32x4.div(f32x4.mul(m, i1), f32x4.add(f32x4.sqrt(f32x4.mul(v, i2)), ev));
    v128.store(at(P, i), f32x4.sub(v128.load(at(P, i)), f32x4.mul(lrv, u)));
  }
  const i1s: f32 = 1.0 / bc1, i2s: f32 = 1.0 / bc2;
  for (; i < n; i++) {
    const g = load<f32>(at(G, i)) * gs;
    const m = b1 * load<f32>(at(M, i)) + (1.0 - b1) * g;
    const v = b2 * load<f32>(at(Vv, i)) + (1.0 - b2) * (g * g);
    store<f32>(at(M, i), m);
    store<f32>(at(Vv, i), v);
    store<f32>(at(P, i), load<f32>(at(P, i)) - lr * ((m * i1s) / (sqrt<f32>(v * i2s) + eps)));
  }
}

/**
 * LMIC's sinusoid_position_encoding table [T,D] computed in float64 in wasm (AssemblyScript's own
 * sin/cos/pow, so every machine gets the same bits). The quirk: D/2+1 frequencies, sines in columns
 * 0..D/2, then cosines of the first D/2-1 frequencies (concatenate then truncate to D).
 */
export function sinusoid_table(T: i32, D: i32, out: usize): void {
  const F = (D >> 1) + 1;
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < D; c++) {
      let v: f64;
      if (c < F) {
        const inv = Math.pow(1e4, -(<f64>(2 * c)) / <f64>D);
        v = Math.sin(<f64>t * inv);
      } else {
        const f = c - F;
        const inv = Math.pow(1e4, -(<f64>(2 * f)) / <f64>D);
        v = Math.cos(<f64>t * inv);
      }
      store<f32>(at(out, t * D + c), <f32>v);
    }
  }
}

/** Rotary tables cos/sin [T, dh/2] (float64 in wasm): angle = t * 10000^(-2i/dh). */
export function rotary_table(T: i32, dh: i32, cosT: usize, sinT: usize): void {
  const h = dh >> 1;
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < h; i++) {
      const a = <f64>t * Math.pow(1e4, -(<f64>(2 * i)) / <f64>dh);
      store<f32>(at(cosT, t * h + i), <f32>Math.cos(a));
      store<f32>(at(sinT, t * h + i), <f32>Math.sin(a));
    }
  }
}

/**
 * Rotary position embedding on X[T, H*dh] (row stride ld), rows t0..t0+T-1 of the tables, in place:
 * per head, pairs (i, i + dh/2) rotate by the angle (GPT-NeoX layout). dir = -1 applies the inverse
 * rotation (the backward pass).
 */
export function rotary(T: i32, H: i32, dh: i32, X: usize, ld: i32, cosT: usize, sinT: usize, t0: i32, dir: f32): void {
  const h2 = dh >> 1;
  for (let t = 0; t < T; t++) {
    const row = at(X, t * ld);
    const cr = at(cosT, (t0 + t) * h2);
    const sr = at(sinT, (t0 + t) * h2);
    for (let h = 0; h < H; h++) {
      const x = at(row, h * dh);
      for (let i = 0; i < h2; i++) {
        const c = load<f32>(at(cr, i));
        const s = load<f32>(at(sr, i)) * dir;
        const a = load<f32>(at(x, i));
        const b = load<f32>(at(x, i + h2));
        store<f32>(at(x, i), a * c - b * s);
        store<f32>(at(x, i + h2), b * c + a * s);
      }
    }
  }
}
