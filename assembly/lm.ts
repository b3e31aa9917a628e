// One incremental step of the LMIC transformer with a key/value cache: the whole layer stack and
// the output softmax in a single call, so per-token cost has no JavaScript overhead and grows with
// the context length only through the attention scores.
// The step reads its configuration and pointers from a table of i32 in memory (layout: LM_* below,
// filled by src/model/predictor.ts).
import { expv_fast as expv, hsum } from './mathf';
import { ln_fwd, gelu_fwd, softmax, rotary } from './nn';

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
const LM_SCRATCH = 14; // needs 8 d + 2 f + CAP + V floats
const LM_LAYERS = 16; // per layer 14 pointers:
// q k v o ln1s ln1o fc1w fc1b fc2w fc2b ln2s ln2o kcache vcache

// @ts-ignore: decorator
@inline
function tab(t: usize, i: i32): usize {
  return <usize>load<i32>(t + (<usize>i << 2));
}

/** y[N] = x[K] @ W[K,N] (+ b when b != 0). Sum over k sequential. */
export function gemv(N: i32, K: i32, x: usize, W: usize, b: usize, y: usize): void {
  let j = 0;
  for (; j + 16 <= N; j += 16) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let wp = at(W, j);
    const step = <usize>N << 2;
    for (let k = 0; k < K; k++) {
      const xv = f32x4.splat(load<f32>(at(x, k)));
      a0 = f32x4.add(a0, f32x4.mul(xv, v128.load(wp)));
      a1 = f32x4.add(a1, f32x4.mul(xv, v128.load(wp, 16)));
      a2 = f32x4.add(a2, f32x4.mul(xv, v128.load(wp, 32)));
      a3 = f32x4.add(a3, f32x4.mul(xv, v128.load(wp, 48)));
      wp += step;
    }
    if (b) {
      a0 = f32x4.add(a0, v128.load(at(b, j)));
      a1 = f32x4.add(a1, v128.load(at(b, j + 4)));
      a2 = f32x4.add(a2, v128.load(at(b, j + 8)));
      a3 = f32x4.add(a3, v128.load(at(b, j + 12)));
    }
    v128.store(at(y, j), a0);
    v128.store(at(y, j + 4), a1);
    v128.store(at(y, j + 8), a2);
    v128.store(at(y, j + 12), a3);
  }
  for (; j + 4 <= N; j += 4) {
    let a = f32x4.splat(0);
    for (let k = 0; k < K; k++) a = f32x4.add(a, f32x4.mul(f32x4.splat(load<f32>(at(x, k))), v128.load(at(W, k * N + j))));
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
  const scale: f32 = <f32>(1.0 / Math.sqrt(<f64>dh));
  const sc = f32x4.splat(scale);
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
    gemv(d, d, x, tab(t, lt), 0, q);
    gemv(d, d, x, tab(t, lt + 1), 0, kk);
    gemv(d, d, x, tab(t, lt + 2), 0, vv);
    if (rot) {
      rotary(1, H, dh, q, d, tab(t, LM_POSTAB), tab(t, LM_SINTAB), pos, 1);
      rotary(1, H, dh, kk, d, tab(t, LM_POSTAB), tab(t, LM_SINTAB), pos, 1);
    }
    const kc = tab(t, lt + 12);
    const vc = tab(t, lt + 13);
    for (let h = 0; h < H; h++) {
      const kb = kc + <usize>h * headStride;
      const vb = vc + <usize>h * headStride;
      for (let c = 0; c < dh; c++) {
        store<f32>(kb + bo + (<usize>c << 4), load<f32>(at(kk, h * dh + c)));
        store<f32>(vb + bo + (<usize>c << 4), load<f32>(at(vv, h * dh + c)));
      }
      // the rest of the last block must be zero (masked keys multiply zero values)
      for (let p2 = pos + 1; p2 < (nb << 2); p2++) {
        const b2 = <usize>((p2 >> 2) * dh * 4 + (p2 & 3)) << 2;
        for (let c = 0; c < dh; c++) {
          store<f32>(kb + b2 + (<usize>c << 4), 0);
          store<f32>(vb + b2 + (<usize>c << 4), 0);
        }
      }
      const qh = at(q, h * dh);
      if (dh == 8) attendHead8(qh, kb, vb, S, nb, pos, sc, at(o, h * dh));
      else attendHead(qh, kb, vb, S, nb, pos, sc, dh, at(o, h * dh));
    }
    // r = x + o Wo ; a = LN1(r)
    gemv(d, d, o, tab(t, lt + 3), 0, r);
    for (let c = 0; c < d; c++) store<f32>(at(r, c), load<f32>(at(r, c)) + load<f32>(at(x, c)));
    ln_fwd(1, d, r, tab(t, lt + 4), tab(t, lt + 5), a, stat, stat + 4, 1e-5);
    gemv(f, d, a, tab(t, lt + 6), tab(t, lt + 7), f1);
    gelu_fwd(f, f1, g);
    gemv(d, f, g, tab(t, lt + 8), tab(t, lt + 9), r);
    for (let c = 0; c < d; c++) store<f32>(at(r, c), load<f32>(at(r, c)) + load<f32>(at(a, c)));
    ln_fwd(1, d, r, tab(t, lt + 10), tab(t, lt + 11), x, stat, stat + 4, 1e-5);
  }
  gemv(V, d, x, tab(t, LM_OUTW), tab(t, LM_OUTB), logits);
  softmax(1, V, logits, tab(t, LM_PROBS));
}

// Single-query attention over the cached keys 0..pos of one head (generic head size).
function attendHead(qh: usize, kb: usize, vb: usize, S: usize, nb: i32, pos: i32, sc: v128, dh: i32, out: usize): void {
  const kstep = <usize>dh << 4;
  let mv = f32x4.splat(-Infinity);
  for (let b = 0; b < nb; b++) {
    const kp = kb + <usize>b * kstep;
    let s = f32x4.splat(0);
    for (let c = 0; c < dh; c++) s = f32x4.add(s, f32x4.mul(f32x4.splat(load<f32>(at(qh, c))), v128.load(kp + (<usize>c << 4))));
    s = f32x4.mul(s, sc);
    if (b == nb - 1) s = v128.bitselect(f32x4.splat(-Infinity), s, lastMask(b, pos));
    v128.store(at(S, b << 2), s);
    mv = f32x4.max(mv, s);
  }
  const mm = f32x4.splat(hmax(mv));
  let lv = f32x4.splat(0);
  for (let b = 0; b < nb; b++) {
    let p = expv(f32x4.sub(v128.load(at(S, b << 2)), mm));
    if (b == nb - 1) p = v128.andnot(p, lastMask(b, pos));
    v128.store(at(S, b << 2), p);
    lv = f32x4.add(lv, p);
  }
  const inv: f32 = 1.0 / hsum(lv);
  for (let c = 0; c < dh; c++) {
    let acc = f32x4.splat(0);
    const vr = vb + (<usize>c << 4);
    for (let b = 0; b < nb; b++) acc = f32x4.add(acc, f32x4.mul(v128.load(at(S, b << 2)), v128.load(vr + <usize>b * kstep)));
    store<f32>(at(out, c), hsum(acc) * inv);
  }
}

// The same for head size 8 (the LMIC default, d=64 with 8 heads): the query and the eight output
// accumulators stay in registers, and the exponentials feed the value sums directly.
function attendHead8(qh: usize, kb: usize, vb: usize, S: usize, nb: i32, pos: i32, sc: v128, out: usize): void {
  const q0 = f32x4.splat(load<f32>(qh)), q1 = f32x4.splat(load<f32>(qh, 4)), q2 = f32x4.splat(load<f32>(qh, 8)), q3 = f32x4.splat(load<f32>(qh, 12));
  const q4 = f32x4.splat(load<f32>(qh, 16)), q5 = f32x4.splat(load<f32>(qh, 20)), q6 = f32x4.splat(load<f32>(qh, 24)), q7 = f32x4.splat(load<f32>(qh, 28));
  let mv = f32x4.splat(-Infinity);
  for (let b = 0; b < nb; b++) {
    const kp = kb + (<usize>b << 7);
    let s = f32x4.add(f32x4.splat(0), f32x4.mul(q0, v128.load(kp)));
    s = f32x4.add(s, f32x4.mul(q1, v128.load(kp, 16)));
    s = f32x4.add(s, f32x4.mul(q2, v128.load(kp, 32)));
    s = f32x4.add(s, f32x4.mul(q3, v128.load(kp, 48)));
    s = f32x4.add(s, f32x4.mul(q4, v128.load(kp, 64)));
    s = f32x4.add(s, f32x4.mul(q5, v128.load(kp, 80)));
    s = f32x4.add(s, f32x4.mul(q6, v128.load(kp, 96)));
    s = f32x4.add(s, f32x4.mul(q7, v128.load(kp, 112)));
    s = f32x4.mul(s, sc);
    if (b == nb - 1) s = v128.bitselect(f32x4.splat(-Infinity), s, lastMask(b, pos));
    v128.store(at(S, b << 2), s);
    mv = f32x4.max(mv, s);
  }
  const mm = f32x4.splat(hmax(mv));
  let lv = f32x4.splat(0);
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
  for (let b = 0; b < nb; b++) {
    let p = expv(f32x4.sub(v128.load(at(S, b << 2)), mm));
    if (b == nb - 1) p = v128.andnot(p, lastMask(b, pos));
    lv = f32x4.add(lv, p);
    const vp = vb + (<usize>b << 7);
    a0 = f32x4.add(a0, f32x4.mul(p, v128.load(vp)));
    a1 = f32x4.add(a1, f32x4.mul(p, v128.load(vp, 16)));
    a2 = f32x4.add(a2, f32x4.mul(p, v128.load(vp, 32)));
    a3 = f32x4.add(a3, f32x4.mul(p, v128.load(vp, 48)));
    a4 = f32x4.add(a4, f32x4.mul(p, v128.load(vp, 64)));
    a5 = f32x4.add(a5, f32x4.mul(p, v128.load(vp, 80)));
    a6 = f32x4.add(a6, f32x4.mul(p, v128.load(vp, 96)));
    a7 = f32x4.add(a7, f32x4.mul(p, v128.load(vp, 112)));
  }
  const inv: f32 = 1.0 / hsum(lv);
  store<f32>(out, hsum(a0) * inv);
  store<f32>(out, hsum(a1) * inv, 4);
  store<f32>(out, hsum(a2) * inv, 8);
  store<f32>(out, hsum(a3) * inv, 12);
  store<f32>(out, hsum(a4) * inv, 16);
  store<f32>(out, hsum(a5) * inv, 20);
  store<f32>(out, hsum(a6) * inv, 24);
  store<f32>(out, hsum(a7) * inv, 28);
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
