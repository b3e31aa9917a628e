// One incremental step of the LMIC transformer with a key/value cache: the whole layer stack and
// the output softmax in a single call, so per-token cost has no JavaScript overhead and grows with
// the context length only through the attention scores.
// The step reads its configuration and pointers from a table of i32 in memory (layout: LM_* below,
// filled by src/model/predictor.ts).
import { expf_, hsum } from './mathf';
import { ln_fwd, rotary } from './nn';
import { attend8q, cache_put8 } from './attend16';
import { gemv16, pack16, pack16_bytes } from './gemv16';

// @ts-ignore: decorator
@inline
function at(base: usize, idx: i32): usize {
  return base + (<usize>idx << 2);
}

// Table slots (i32 each).
const LM_D = 0;
const LM_L = 1;
const LM_H = 2;
const LM_F = 3;
const LM_V = 4;
const LM_CAP = 5; // cache capacity in positions (multiple of 4)
const LM_ROTARY = 6;
const LM_POS = 7; // position of the token being fed
const LM_EMBED = 8;
const LM_POSTAB = 9; // sinusoid table [CAP, d] or rotary cos [CAP, dh/2]
const LM_SINTAB = 10; // rotary sin
const LM_OUTW = 11;
const LM_OUTB = 12;
const LM_PROBS = 13;
const LM_SCRATCH = 14; // needs 8 d + 2 f + CAP + V + CAP/2 + f/2 + 4 floats
const LM_QSCALE = 15; // head size 8: per layer 4 d floats, key steps, 1/key steps, value steps, 1/value steps (lm_prepare)
const LM_PACK = 16; // lm_pack_bytes: the projections packed by lm_prepare (gemv16.ts)
const LM_LAYERS = 18; // per layer 14 pointers:
// q k v o ln1s ln1o fc1w fc1b fc2w fc2b ln2s ln2o kcache vcache

// @ts-ignore: decorator
@inline
function tab(t: usize, i: i32): usize {
  return <usize>load<i32>(t + (<usize>i << 2));
}

/**
 * y[N] = x[K] @ W[K,N] (+ b when b != 0). Every column is summed the same way whatever its place:
 * 0 + x0 w0 + x1 w1 + ... in k order, then + b. Columns go 24 at a time (x[k] broadcast by a single
 * load), then 16 at a time with two k per iteration: six accumulators with their weight vectors fit in
 * V8's 15 usable xmm registers. (28 columns was slower, and 32 at a time 30% slower: V8 issues all of
 * an iteration's loads first, ran out of registers and kept accumulators on the stack.)
 */
export function gemv(N: i32, K: i32, x: usize, W: usize, b: usize, y: usize): void {
  const step = <usize>N << 2;
  let j = 0;
  // 24 columns, one k per iteration: six independent accumulator chains hide the add latency, which
  // bounds the 16-column loop below (6% faster overall, the same sums in the same order)
  for (; j + 24 <= N; j += 24) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0), a4 = f32x4.splat(0), a5 = f32x4.splat(0);
    let wp = at(W, j);
    const xe = at(x, K);
    for (let xp = x; xp < xe; xp += 4) {
      const xv = v128.load32_splat(xp);
      a0 = f32x4.add(a0, f32x4.mul(xv, v128.load(wp)));
      a1 = f32x4.add(a1, f32x4.mul(xv, v128.load(wp, 16)));
      a2 = f32x4.add(a2, f32x4.mul(xv, v128.load(wp, 32)));
      a3 = f32x4.add(a3, f32x4.mul(xv, v128.load(wp, 48)));
      a4 = f32x4.add(a4, f32x4.mul(xv, v128.load(wp, 64)));
      a5 = f32x4.add(a5, f32x4.mul(xv, v128.load(wp, 80)));
      wp += step;
    }
    const bp = at(b, j), yp = at(y, j);
    put(a0, b, bp, yp, 0);
    put(a1, b, bp, yp, 16);
    put(a2, b, bp, yp, 32);
    put(a3, b, bp, yp, 48);
    put(a4, b, bp, yp, 64);
    put(a5, b, bp, yp, 80);
  }
  for (; j + 16 <= N; j += 16) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let wp = at(W, j);
    let xp = x;
    const xe = at(x, K & ~1);
    for (; xp < xe; xp += 8) {
      let xv = v128.load32_splat(xp);
      a0 = f32x4.add(a0, f32x4.mul(xv, v128.load(wp)));
      a1 = f32x4.add(a1, f32x4.mul(xv, v128.load(wp, 16)));
      a2 = f32x4.add(a2, f32x4.mul(xv, v128.load(wp, 32)));
      a3 = f32x4.add(a3, f32x4.mul(xv, v128.load(wp, 48)));
      wp += step;
      xv = v128.load32_splat(xp, 4);
      a0 = f32x4.add(a0, f32x4.mul(xv, v128.load(wp)));
      a1 = f32x4.add(a1, f32x4.mul(xv, v128.load(wp, 16)));
      a2 = f32x4.add(a2, f32x4.mul(xv, v128.load(wp, 32)));
      a3 = f32x4.add(a3, f32x4.mul(xv, v128.load(wp, 48)));
      wp += step;
    }
    if (K & 1) {
      const xv = v128.load32_splat(xp);
      a0 = f32x4.add(a0, f32x4.mul(xv, v128.load(wp)));
      a1 = f32x4.add(a1, f32x4.mul(xv, v128.load(wp, 16)));
      a2 = f32x4.add(a2, f32x4.mul(xv, v128.load(wp, 32)));
      a3 = f32x4.add(a3, f32x4.mul(xv, v128.load(wp, 48)));
    }
    const bp = at(b, j), yp = at(y, j);
    put(a0, b, bp, yp, 0);
    put(a1, b, bp, yp, 16);
    put(a2, b, bp, yp, 32);
    put(a3, b, bp, yp, 48);
  }
  for (; j + 4 <= N; j += 4) {
    let a = f32x4.splat(0);
    for (let k = 0; k < K; k++) a = f32x4.add(a, f32x4.mul(v128.load32_splat(at(x, k)), v128.load(at(W, k * N + j))));
    if (b) a = f32x4.add(a, v128.load(at(b, j)));
    v128.store(at(y, j), a);
  }
  for (; j < N; j++) {
    let a: f32 = 0;
    for (let k = 0; k < K; k++) a += load<f32>(at(x, k)) * load<f32>(at(W, k * N + j));
    if (b) a += load<f32>(at(b, j));
    store<f32>(at(y, j), a);
  }
}

/** gemv's output: y[off..off+16) = a (+ the bias b[off..], when there is one). */
// @ts-ignore: decorator
@inline
function put(a: v128, b: usize, bp: usize, yp: usize, off: usize): void {
  v128.store(yp + off, b ? f32x4.add(a, v128.load(bp + off)) : a);
}

/** y[n] += x[n] (elementwise, so SIMD and scalar give the same bits). */
// @ts-ignore: decorator
@inline
function vadd(n: i32, y: usize, x: usize): void {
  let c = 0;
  for (; c + 4 <= n; c += 4) v128.store(at(y, c), f32x4.add(v128.load(at(y, c)), v128.load(at(x, c))));
  for (; c < n; c++) store<f32>(at(y, c), load<f32>(at(y, c)) + load<f32>(at(x, c)));
}

/**
 * Feeds the token at position table[LM_POS] and writes the next-token distribution to table[LM_PROBS].
 * The caller advances LM_POS (and grows the cache) between calls.
 */
export function lm_step(t: usize, token: i32): void {
  const d = <i32>tab(t, LM_D);
  const L = <i32>tab(t, LM_L);
  const H = <i32>tab(t, LM_H);
  const f = <i32>tab(t, LM_F);
  const V = <i32>tab(t, LM_V);
  const cap = <i32>tab(t, LM_CAP);
  const rot = <i32>tab(t, LM_ROTARY);
  const pos = <i32>tab(t, LM_POS);
  const dh = d / H;
  // queries are scaled by log2(e) / sqrt(dh), so the scores come out in base-2 units for exp2
  const qsc: f32 = <f32>(1.4426950408889634 / Math.sqrt(<f64>dh));
  const scr = tab(t, LM_SCRATCH);
  const x = scr;
  const q = at(scr, d);
  const kk = at(scr, 2 * d);
  const vv = at(scr, 3 * d);
  const o = at(scr, 4 * d);
  const r = at(scr, 5 * d);
  const a = at(scr, 6 * d);
  const stat = at(scr, 7 * d); // mean, rstd
  const f1 = at(scr, 8 * d);
  const g = at(scr, 8 * d + f);
  const S = at(scr, 8 * d + 2 * f);
  const logits = at(scr, 8 * d + 2 * f + cap);
  const xq = at(scr, 8 * d + 2 * f + cap + V + (cap >> 1)); // gemv16's quantised input
  const pk = tab(t, LM_PACK);
  const layerBytes = <usize>lm_layer_bytes(d, f);

  // x = E[token] * sqrt(d) (+ sinusoid row)
  const e = at(tab(t, LM_EMBED), token * d);
  const es: f32 = <f32>Math.sqrt(<f64>d);
  if (rot) {
    for (let c = 0; c < d; c++) store<f32>(at(x, c), load<f32>(at(e, c)) * es);
  } else {
    const p = at(tab(t, LM_POSTAB), pos * d);
    for (let c = 0; c < d; c++) store<f32>(at(x, c), load<f32>(at(e, c)) * es + load<f32>(at(p, c)));
  }
  const nb = (pos + 4) >> 2;
  const bo = <usize>((pos >> 2) * dh * 4 + (pos & 3)) << 2; // this position inside a head's packed blocks
  const headStride = <usize>(cap * dh) << 2;
  for (let l = 0; l < L; l++) {
    const lt = LM_LAYERS + l * 14;
    const qkvP = pk + <usize>l * layerBytes;
    const oP = qkvP + <usize>pack16_bytes(3 * d, d);
    const f1P = oP + <usize>pack16_bytes(d, d);
    const f2P = f1P + <usize>pack16_bytes(f, d);
    gemv16(3 * d, d, x, qkvP, 0, q, xq); // q, kk, vv are consecutive
    if (rot) {
      rotary(1, H, dh, q, d, tab(t, LM_POSTAB), tab(t, LM_SINTAB), pos, 1);
      rotary(1, H, dh, kk, d, tab(t, LM_POSTAB), tab(t, LM_SINTAB), pos, 1);
    }
    const kc = tab(t, lt + 12);
    const vc = tab(t, lt + 13);
    if (dh == 8) {
      // 16-bit cache and integer attention (attend16.ts); capacity is a multiple of 8 positions
      const qs = tab(t, LM_QSCALE) + (<usize>(l * 4 * d) << 2);
      const ks = qs, ki = at(qs, d), vs = at(qs, 2 * d), vi = at(qs, 3 * d);
      const hs = <usize>(cap * 8) << 1;
      const P = at(scr, 8 * d + 2 * f + cap + V);
      for (let h = 0; h < H; h++) {
        const kb = kc + <usize>h * hs;
        const vb = vc + <usize>h * hs;
        const c0 = h * 8;
        cache_put8(kb, vb, pos, at(kk, c0), at(vv, c0), at(ki, c0), at(vi, c0));
        attend8q(at(q, c0), qsc, at(ks, c0), at(vs, c0), kb, vb, S, P, pos, at(o, c0));
      }
    } else {
      for (let h = 0; h < H; h++) {
        const kb = kc + <usize>h * headStride;
        const vb = vc + <usize>h * headStride;
        if ((pos & 3) == 0) {
          // a new block: clear it, so that the positions after this one hold zero keys and values
          // (masked keys get weight exactly 0, and 0 times a zero value adds nothing)
          for (let c = 0; c < dh; c++) {
            v128.store(kb + bo + (<usize>c << 4), f32x4.splat(0));
            v128.store(vb + bo + (<usize>c << 4), f32x4.splat(0));
          }
        }
        for (let c = 0; c < dh; c++) {
          store<f32>(kb + bo + (<usize>c << 4), load<f32>(at(kk, h * dh + c)));
          store<f32>(vb + bo + (<usize>c << 4), load<f32>(at(vv, h * dh + c)));
        }
        attendAny(at(q, h * dh), qsc, kb, vb, S, nb, pos, dh, at(o, h * dh));
      }
    }
    // r = x + o Wo ; a = LN1(r)
    gemv16(d, d, o, oP, 0, r, xq);
    vadd(d, r, x);
    ln_fwd(1, d, r, tab(t, lt + 4), tab(t, lt + 5), a, stat, stat + 4, 1e-5);
    gemv16(f, d, a, f1P, tab(t, lt + 7), f1, xq);
    lm_gelu(f, f1, g);
    gemv16(d, f, g, f2P, tab(t, lt + 9), r, xq);
    vadd(d, r, a);
    ln_fwd(1, d, r, tab(t, lt + 10), tab(t, lt + 11), x, stat, stat + 4, 1e-5);
  }
  gemv16(V, d, x, pk + <usize>L * layerBytes, tab(t, LM_OUTB), logits, xq);
  lm_softmax(V, logits, tab(t, LM_PROBS));
}

/** Bytes of the packed projections: per layer Q|K|V (one matrix), O, FC1, FC2; then the output layer. */
export function lm_pack_bytes(d: i32, f: i32, V: i32, L: i32): i32 {
  return L * lm_layer_bytes(d, f) + pack16_bytes(V, d);
}

function lm_layer_bytes(d: i32, f: i32): i32 {
  return pack16_bytes(3 * d, d) + pack16_bytes(d, d) + pack16_bytes(f, d) + pack16_bytes(d, f);
}

/**
 * Packs the projections into the LM_PACK block (gemv16.ts) and, for head size 8, fills the table's
 * LM_QSCALE block (the 16-bit cache's steps, attend16.ts) from the weights: per layer and dimension c, a bound
 * B[c] on |k[c]| and |v[c]| over every possible input, and the steps B/32767 (keys) and B/4095 (values)
 * with their inverses. Layer 0's input is E[token] sqrt(d) + a sinusoid row (each entry within +-1):
 * B = max over tokens |E[token] sqrt(d) . W[:,c]| + sum |W[:,c]|. Later layers read a LayerNorm output
 * g x^ + b, where x^ sums to 0 and |x^|^2 < d: B = sqrt(d) |u - mean u| + |b . W[:,c]| with u = g W[:,c]
 * (Cauchy-Schwarz). With rotary embeddings a key dimension gets its head's norm bound, which rotations
 * keep. Bounds are widened by 1% for rounding and the projections' quantisation; the cache also clamps. Deterministic: f64 sums in
 * a fixed order and IEEE sqrt.
 */
export function lm_prepare(t: usize): void {
  const d = <i32>tab(t, LM_D);
  const L = <i32>tab(t, LM_L);
  const H = <i32>tab(t, LM_H);
  const f = <i32>tab(t, LM_F);
  const V = <i32>tab(t, LM_V);
  const rot = <i32>tab(t, LM_ROTARY);
  const dh = d / H;
  // the projections, packed for gemv16 (the block is zeroed by the caller)
  let p = tab(t, LM_PACK);
  for (let l = 0; l < L; l++) {
    const lt = LM_LAYERS + l * 14;
    for (let i = 0; i < 3; i++) pack16(3 * d, d, p, i * d, tab(t, lt + i), d, d);
    p += <usize>pack16_bytes(3 * d, d);
    pack16(d, d, p, 0, tab(t, lt + 3), d, d);
    p += <usize>pack16_bytes(d, d);
    pack16(f, d, p, 0, tab(t, lt + 6), f, f);
    p += <usize>pack16_bytes(f, d);
    pack16(d, f, p, 0, tab(t, lt + 8), d, d);
    p += <usize>pack16_bytes(d, f);
  }
  pack16(V, d, p, 0, tab(t, LM_OUTW), V, V);
  if (dh != 8) return;
  const y = tab(t, LM_SCRATCH); // d floats
  const es: f64 = Math.sqrt(<f64>d);
  for (let l = 0; l < L; l++) {
    const lt = LM_LAYERS + l * 14;
    const qs = tab(t, LM_QSCALE) + (<usize>(l * 4 * d) << 2);
    for (let which = 0; which < 2; which++) {
      const W = tab(t, lt + 1 + which);
      const B = at(qs, (2 * which + 1) * d); // bounds go where the inverse steps will be
      for (let c = 0; c < d; c++) store<f32>(at(B, c), 0);
      if (l == 0) {
        // the largest |E[token] . W[:,c]| (gemv in f32; the 1e-4 widening covers its rounding)
        const E = tab(t, LM_EMBED);
        const bmax = at(qs, 2 * which * d); // scratch for the maximum, in the step slots
        for (let c = 0; c < d; c++) store<f32>(at(bmax, c), 0);
        for (let tok = 0; tok < V; tok++) {
          gemv(d, d, at(E, tok * d), W, 0, y);
          for (let c = 0; c < d; c++) store<f32>(at(bmax, c), max<f32>(load<f32>(at(bmax, c)), abs<f32>(load<f32>(at(y, c)))));
        }
        for (let c = 0; c < d; c++) {
          let s: f64 = 0;
          for (let k = 0; k < d; k++) s += Math.abs(<f64>load<f32>(at(W, k * d + c)));
          store<f32>(at(B, c), <f32>(<f64>load<f32>(at(bmax, c)) * es + (rot ? 0 : s)));
        }
      } else {
        const g = tab(t, lt - 14 + 10);
        const b = tab(t, lt - 14 + 11);
        for (let c = 0; c < d; c++) {
          let mu: f64 = 0;
          let sb: f64 = 0;
          for (let k = 0; k < d; k++) {
            const w = <f64>load<f32>(at(W, k * d + c));
            mu += <f64>load<f32>(at(g, k)) * w;
            sb += <f64>load<f32>(at(b, k)) * w;
          }
          mu /= <f64>d;
          let ss: f64 = 0;
          for (let k = 0; k < d; k++) {
            const u = <f64>load<f32>(at(g, k)) * <f64>load<f32>(at(W, k * d + c)) - mu;
            ss += u * u;
          }
          store<f32>(at(B, c), <f32>(es * Math.sqrt(ss) + Math.abs(sb)));
        }
      }
      if (which == 0 && rot) {
        for (let h = 0; h < H; h++) {
          let n: f64 = 0;
          for (let c = h * dh; c < (h + 1) * dh; c++) n += <f64>load<f32>(at(B, c)) * <f64>load<f32>(at(B, c));
          const r = <f32>Math.sqrt(n);
          for (let c = h * dh; c < (h + 1) * dh; c++) store<f32>(at(B, c), r);
        }
      }
      const lim: f64 = which == 0 ? 32767 : 4095;
      for (let c = 0; c < d; c++) {
        const bound = <f64>load<f32>(at(B, c)) * 1.01;
        store<f32>(at(qs, 2 * which * d + c), bound > 0 ? <f32>(bound / lim) : 0);
        store<f32>(at(B, c), bound > 0 ? <f32>(lim / bound) : 0);
      }
    }
  }
}

// Attention weights: 2^t for t = score - max <= 0 (scores are in base-2 units): 2^n times a degree-4
// polynomial for 2^f on [-1/2, 1/2] (relative error 2.6e-6, fitted for relative error; the training
// pass's expv_fast uses degree 5 at 1.5e-7, and the lower degree makes the predictor 2% faster while
// its probabilities stay within 1e-6 of the training forward), with n = round(t) taken by the 1.5 * 2^23
// rounding trick (the same round-to-nearest-even as f32x4.nearest, in two adds) and a single-instruction
// clamp (pmax). The clamp at -127 makes 2^n exactly zero there, which is how masked keys (score -inf)
// get weight 0; true weights below 2^-126.5 (87 nats under the maximum) also become 0.
const MAGIC: f32 = 12582912.0;
const F0: f32 = 0.9999992847442627;
const F1: f32 = 0.6931217908859253;
const F2: f32 = 0.240247443318367;
const F3: f32 = 0.05591785907745361;
const F4: f32 = 0.009570099413394928;

// Vector constants are read from this table rather than written as v128.const: V8 (11.x) builds
// every v128.const inside a loop from scratch (three instructions) on every iteration, while a load
// from memory is one.
const KG: f32 = -2.302208198;  // -2 sqrt(2/pi) log2(e): lm_gelu's exponent per unit of x + 0.044715 x^3
const KW = memory.data<f32>([
  -127.0, -127.0, -127.0, -127.0, MAGIC, MAGIC, MAGIC, MAGIC, F4, F4, F4, F4,
  F3, F3, F3, F3, F2, F2, F2, F2, F1, F1, F1, F1, F0, F0, F0, F0,
  126.0, 126.0, 126.0, 126.0, KG, KG, KG, KG,
], 16);
const KW_I127 = memory.data<i32>([127, 127, 127, 127], 16);

// @ts-ignore: decorator
@inline
function kw(i: i32): v128 {
  return v128.load(KW + (<usize>i << 4));
}

// @ts-ignore: decorator
@inline
function exp2w(t0: v128, magic: v128): v128 {
  const t = f32x4.pmax(t0, kw(0));
  const big = f32x4.add(t, magic);
  const f = f32x4.sub(t, f32x4.sub(big, magic));
  let p = f32x4.add(f32x4.mul(kw(2), f), kw(3));
  p = f32x4.add(f32x4.mul(p, f), kw(4));
  p = f32x4.add(f32x4.mul(p, f), kw(5));
  p = f32x4.add(f32x4.mul(p, f), kw(6));
  // the low bits of big hold n (two's complement); (n + 127) << 23 is 2^n
  return f32x4.mul(p, i32x4.shl(i32x4.add(big, v128.load(KW_I127)), 23));
}

// Pass 2 of a head: S[0..4nb) = 2^(S - m) in place (nb >= 1); returns the sum of the weights, summed
// in four lanes in block order, then ((l0 + l1) + (l2 + l3)). Four blocks per iteration (four independent
// polynomial chains: the exp is latency-bound, 6% faster than two), the same
// sequence of operations as one at a time.
function weights(S: usize, nb: i32, m: f32): f32 {
  const mm = f32x4.splat(m);
  const magic = kw(1);
  let lv = f32x4.splat(0);
  const end = S + (<usize>nb << 4);
  let sp = S;
  for (; sp + 64 <= end; sp += 64) {
    const p0 = exp2w(f32x4.sub(v128.load(sp), mm), magic);
    const p1 = exp2w(f32x4.sub(v128.load(sp, 16), mm), magic);
    const p2 = exp2w(f32x4.sub(v128.load(sp, 32), mm), magic);
    const p3 = exp2w(f32x4.sub(v128.load(sp, 48), mm), magic);
    v128.store(sp, p0);
    v128.store(sp, p1, 16);
    v128.store(sp, p2, 32);
    v128.store(sp, p3, 48);
    lv = f32x4.add(f32x4.add(f32x4.add(f32x4.add(lv, p0), p1), p2), p3);
  }
  while (sp < end) {
    const p = exp2w(f32x4.sub(v128.load(sp), mm), magic);
    v128.store(sp, p);
    lv = f32x4.add(lv, p);
    sp += 16;
  }
  return hsum(lv);
}

// Single-query attention for head sizes other than 8 (f32 cache, keys and values stored
// [block][dim][4 positions]), in three passes over a row of scores S: s = (q0 c) k0 + (q1 c) k1 + ...
// for four keys at a time and their maximum; weights 2^(s - max) and their sum; out[c] =
// hsum(sum_b p v[c]) / sum p. Keys past pos in the last block score -inf (weight exactly 0; their
// values are zero).
function attendAny(qh: usize, qsc: f32, kb: usize, vb: usize, S: usize, nb: i32, pos: i32, dh: i32, out: usize): void {
  const kstep = <usize>dh << 4;
  let mv = f32x4.splat(-Infinity);
  for (let b = 0; b < nb; b++) {
    const kp = kb + <usize>b * kstep;
    let s = f32x4.mul(f32x4.splat(load<f32>(qh) * qsc), v128.load(kp));
    for (let c = 1; c < dh; c++) s = f32x4.add(s, f32x4.mul(f32x4.splat(load<f32>(at(qh, c)) * qsc), v128.load(kp + (<usize>c << 4))));
    if (b == nb - 1) s = v128.bitselect(f32x4.splat(-Infinity), s, lastMask(b, pos));
    v128.store(at(S, b << 2), s);
    mv = f32x4.pmax(mv, s);
  }
  const inv: f32 = 1.0 / weights(S, nb, hmax(mv));
  for (let c = 0; c < dh; c++) {
    let acc = f32x4.splat(0);
    const vr = vb + (<usize>c << 4);
    for (let b = 0; b < nb; b++) acc = f32x4.add(acc, f32x4.mul(v128.load(at(S, b << 2)), v128.load(vr + <usize>b * kstep)));
    store<f32>(at(out, c), hsum(acc) * inv);
  }
}

// @ts-ignore: decorator
@inline
function lastMask(b: i32, pos: i32): v128 {
  return i32x4.gt_s(i32x4.add(i32x4.splat(b << 2), i32x4(0, 1, 2, 3)), i32x4.splat(pos));
}

// @ts-ignore: decorator
@inline
function hmax(v: v128): f32 {
  return max<f32>(max<f32>(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max<f32>(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

// The output softmax, bit-identical to nn.ts softmax (tested) but about twice as fast in V8: the Cephes exp of mathf.ts with single-instruction clamps (pmin/pmax equal
// min/max for these non-NaN arguments) and n = nearest(x log2 e) by the 1.5 * 2^23 rounding trick
// (the same round-to-nearest-even) instead of nearest + trunc_sat, which V8 expands to several
// instructions each.
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
const GA: f32 = 0.044715;

// the constants as four-lane vectors in memory (see KW)
const KE = memory.data<f32>([
  EXP_HI, EXP_HI, EXP_HI, EXP_HI, EXP_LO, EXP_LO, EXP_LO, EXP_LO, LOG2E, LOG2E, LOG2E, LOG2E, MAGIC, MAGIC, MAGIC, MAGIC,
  LN2_HI, LN2_HI, LN2_HI, LN2_HI, LN2_LO, LN2_LO, LN2_LO, LN2_LO, P0, P0, P0, P0, P1, P1, P1, P1,
  P2, P2, P2, P2, P3, P3, P3, P3, P4, P4, P4, P4, P5, P5, P5, P5,
  1.0, 1.0, 1.0, 1.0, GA, GA, GA, GA,
], 16);
const KE_I = memory.data<i32>([127, 127, 127, 127], 16);
const E_HI = 0, E_LO = 1, E_LOG2E = 2, E_MAGIC = 3, E_LN2HI = 4, E_LN2LO = 5, E_P0 = 6, E_P1 = 7, E_P2 = 8, E_P3 = 9, E_P4 = 10, E_P5 = 11;
const E_ONE = 12, E_GA = 13;

// @ts-ignore: decorator
@inline
function ke(i: i32): v128 {
  return v128.load(KE + (<usize>i << 4));
}
// @ts-ignore: decorator
@inline
function kei(i: i32): v128 {
  return v128.load(KE_I + (<usize>i << 4));
}

// @ts-ignore: decorator
@inline
function expq(x0: v128): v128 {
  let x = f32x4.pmin(x0, ke(E_HI));
  x = f32x4.pmax(x, ke(E_LO));
  const big = f32x4.add(f32x4.mul(x, ke(E_LOG2E)), ke(E_MAGIC));
  const n = f32x4.sub(big, ke(E_MAGIC));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(n, ke(E_LN2HI))), f32x4.mul(n, ke(E_LN2LO)));
  const r2 = f32x4.mul(r, r);
  let p = ke(E_P0);
  p = f32x4.add(f32x4.mul(p, r), ke(E_P1));
  p = f32x4.add(f32x4.mul(p, r), ke(E_P2));
  p = f32x4.add(f32x4.mul(p, r), ke(E_P3));
  p = f32x4.add(f32x4.mul(p, r), ke(E_P4));
  p = f32x4.add(f32x4.mul(p, r), ke(E_P5));
  p = f32x4.add(f32x4.add(f32x4.mul(p, r2), r), ke(E_ONE));
  return f32x4.mul(p, i32x4.shl(i32x4.add(big, kei(0)), 23));
}

/**
 * Y[n] = tanh-GELU(X), 0.5 x (1 + tanh u) with u = sqrt(2/pi) (x + 0.044715 x^3) as in nn.ts gelu_fwd,
 * computed as x / (1 + 2^(-2 u log2 e)) (the identity 0.5 (1 + tanh u) = 1 / (1 + e^-2u)) with pass 2's
 * degree-4 exp2: about 2.5 times fewer instructions than tanh's two branches and the Cephes exp, within
 * 1e-5 of gelu_fwd (tested). The exponent is clamped to [-127, 126]: for x below about -9 the result is
 * x / 2^126 instead of a value as tiny.
 */
export function lm_gelu(n: i32, X: usize, Y: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(Y, i), gelu4(v128.load(at(X, i))));
  for (; i < n; i++) store<f32>(at(Y, i), f32x4.extract_lane(gelu4(f32x4.splat(load<f32>(at(X, i)))), 0));
}

// @ts-ignore: decorator
@inline
function gelu4(x: v128): v128 {
  const t = f32x4.mul(kw(8), f32x4.add(x, f32x4.mul(ke(E_GA), f32x4.mul(x, f32x4.mul(x, x)))));
  return f32x4.div(x, f32x4.add(ke(E_ONE), exp2w(f32x4.pmin(t, kw(7)), kw(1))));
}

/** P[V] = softmax(X[V]) (P may alias X), the same bits as nn.ts softmax(1, V, X, P). */
export function lm_softmax(V: i32, X: usize, P: usize): void {
  let mv = f32x4.splat(-Infinity);
  let j = 0;
  for (; j + 4 <= V; j += 4) mv = f32x4.pmax(mv, v128.load(at(X, j)));
  let m = max<f32>(max<f32>(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max<f32>(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  for (; j < V; j++) m = max<f32>(m, load<f32>(at(X, j)));
  const mm = f32x4.splat(m);
  let sv = f32x4.splat(0);
  j = 0;
  for (; j + 4 <= V; j += 4) {
    const e = expq(f32x4.sub(v128.load(at(X, j)), mm));
    v128.store(at(P, j), e);
    sv = f32x4.add(sv, e);
  }
  let s = hsum(sv);
  for (; j < V; j++) {
    const e = expf_(load<f32>(at(X, j)) - m);
    store<f32>(at(P, j), e);
    s += e;
  }
  const inv: f32 = 1.0 / s;
  const iv = f32x4.splat(inv);
  j = 0;
  for (; j + 4 <= V; j += 4) v128.store(at(P, j), f32x4.mul(v128.load(at(P, j)), iv));
  for (; j < V; j++) store<f32>(at(P, j), load<f32>(at(P, j)) * inv);
}
