/**
 * Two real FFTs at once in WebAssembly SIMD: frame A in lane 0 and frame B in lane 1 of every f64x2, so each
 * scalar operation of the mixed-radix Stockham FFT (radix 2, 3, 4, 5) becomes one vector operation on two frames.
 *
 * Why: the scalar FFT is about a third of a mel spectrogram's time and cannot go faster in JavaScript; lanes over
 * frames double the arithmetic per instruction without changing a single operation's order, so the result equals
 * the scalar float64 algorithm's up to rounding of the same kind. Built from opcodes here (no build step), like
 * the resampler's kernel; unsupported lengths (prime factors > 5, n_fft > 4096, odd n_fft) use the scalar FFT.
 *
 * Memory (bytes): regions of H = 64 KiB hold one complex vector's re (then im at +H):
 *   A = [0, 2H) and B = [2H, 4H) ping-pong between stages, OUT = [4H, 7H) gets re, im and power of bins 0..n/2,
 *   the two raw frames (f64) at YA = 7H and YB = 7H + H/2, the window (each value splatted) at 8H, twiddles from 9H.
 */
import { WA, name, section, uleb, type WasmMemory } from './simd.js';

const H = 65536;
const REGION_A = 0;
const REGION_B = 2 * H;
const REGION_OUT = 4 * H;
const REGION_YA = 7 * H;
const REGION_YB = 7 * H + H / 2;
const REGION_WIN = 8 * H;
const REGION_TW = 9 * H;
/** Largest complex half-length the fixed regions hold (n_fft = 2 * MAX_HALF). */
const MAX_HALF = 2048;

const I32 = 0x7f;
const V128 = 0x7b;
const SIMD = 0xfd;
const OP = { add: 240, sub: 241, mul: 242 } as const;

/** A function body under construction: params are i32, locals are allocated as needed. */
class Fn {
  readonly code: number[] = [];
  private readonly localTypes: number[] = [];
  constructor(readonly nParams: number) {}

  private local(type: number): number {
    this.localTypes.push(type);
    return this.nParams + this.localTypes.length - 1;
  }
  i32(): number {
    return this.local(I32);
  }
  v(): number {
    return this.local(V128);
  }
  emit(...b: number[]): void {
    for (const x of b) this.code.push(x);
  }
  get(i: number): void {
    this.emit(0x20, ...uleb(i));
  }
  set(i: number): void {
    this.emit(0x21, ...uleb(i));
  }
  /** i32.const with a signed LEB128 immediate. */
  const32(v: number): void {
    const out: number[] = [];
    let more = true;
    while (more) {
      let b = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) more = false;
      else b |= 0x80;
      out.push(b);
    }
    this.emit(0x41, ...out);
  }
  /** dst = a (+|*) b for i32 locals or constants. */
  i32op(dst: number, a: number, op: 'add' | 'mul' | 'shl' | 'sub', b: number | { c: number }): void {
    this.get(a);
    if (typeof b === 'number') this.get(b);
    else this.const32(b.c);
    this.emit({ add: 0x6a, sub: 0x6b, mul: 0x6c, shl: 0x74 }[op]);
    this.set(dst);
  }
  /** A new v128 local loaded from addr + offset. */
  load(addr: number, offset: number): number {
    const r = this.v();
    this.get(addr);
    this.emit(SIMD, 0x00, 4, ...uleb(offset));
    this.set(r);
    return r;
  }
  store(addr: number, offset: number, val: number): void {
    this.get(addr);
    this.get(val);
    this.emit(SIMD, 0x0b, 4, ...uleb(offset));
  }
  /** A new v128 local = a op b (f64x2). */
  op(op: keyof typeof OP, a: number, b: number): number {
    const r = this.v();
    this.get(a);
    this.get(b);
    this.emit(SIMD, ...uleb(OP[op]));
    this.set(r);
    return r;
  }
  /** A new v128 local holding the constant c in both lanes. */
  splat(c: number): number {
    const r = this.v();
    const bytes = new Uint8Array(16);
    const dv = new DataView(bytes.buffer);
    dv.setFloat64(0, c, true);
    dv.setFloat64(8, c, true);
    this.emit(SIMD, 0x0c, ...bytes);
    this.set(r);
    return r;
  }
  body(): number[] {
    const groups: [number, number][] = [];
    for (const t of this.localTypes) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    const decl = [...uleb(groups.length), ...groups.flatMap(([n, t]) => [...uleb(n), t])];
    const b = [...decl, ...this.code, 0x0b];
    return [...uleb(b.length), ...b];
  }
}

type Cx = [number, number];

/** Butterflies: inputs (re, im) locals -> outputs, before twiddles. Same formulas as fft.ts. */
function butterfly(f: Fn, r: number, a: Cx[]): Cx[] {
  const add = (x: number, y: number): number => f.op('add', x, y);
  const sub = (x: number, y: number): number => f.op('sub', x, y);
  const mul = (x: number, y: number): number => f.op('mul', x, y);
  switch (r) {
    case 2:
      return [
        [add(a[0]![0], a[1]![0]), add(a[0]![1], a[1]![1])],
        [sub(a[0]![0], a[1]![0]), sub(a[0]![1], a[1]![1])],
      ];
    case 4: {
      const [[ar, ai], [br, bi], [cr, ci], [dr, di]] = a as [Cx, Cx, Cx, Cx];
      const s02r = add(ar, cr);
      const s02i = add(ai, ci);
      const d02r = sub(ar, cr);
      const d02i = sub(ai, ci);
      const s13r = add(br, dr);
      const s13i = add(bi, di);
      const d13r = sub(bi, di);
      const d13i = sub(dr, br);
      return [
        [add(s02r, s13r), add(s02i, s13i)],
        [add(d02r, d13r), add(d02i, d13i)],
        [sub(s02r, s13r), sub(s02i, s13i)],
        [sub(d02r, d13r), sub(d02i, d13i)],
      ];
    }
    case 3: {
      const [[ar, ai], [br, bi], [cr, ci]] = a as [Cx, Cx, Cx];
      const c3 = f.splat(-0.5);
      const s3 = f.splat(-Math.sqrt(3) / 2);
      const ns3 = f.splat(Math.sqrt(3) / 2);
      const sr = add(br, cr);
      const si = add(bi, ci);
      const mr = add(ar, mul(c3, sr));
      const mi = add(ai, mul(c3, si));
      const nr = mul(ns3, sub(bi, ci));
      const ni = mul(s3, sub(br, cr));
      return [
        [add(ar, sr), add(ai, si)],
        [add(mr, nr), add(mi, ni)],
        [sub(mr, nr), sub(mi, ni)],
      ];
    }
    case 5: {
      const [[ar, ai], [br, bi], [cr, ci], [dr, di], [er, ei]] = a as [Cx, Cx, Cx, Cx, Cx];
      const c51 = f.splat(Math.cos((2 * Math.PI) / 5));
      const c52 = f.splat(Math.cos((4 * Math.PI) / 5));
      const s51 = f.splat(Math.sin((2 * Math.PI) / 5));
      const s52 = f.splat(Math.sin((4 * Math.PI) / 5));
      const s14r = add(br, er);
      const s14i = add(bi, ei);
      const d14r = sub(br, er);
      const d14i = sub(bi, ei);
      const s23r = add(cr, dr);
      const s23i = add(ci, di);
      const d23r = sub(cr, dr);
      const d23i = sub(ci, di);
      const m1r = add(add(ar, mul(c51, s14r)), mul(c52, s23r));
      const m1i = add(add(ai, mul(c51, s14i)), mul(c52, s23i));
      const m2r = add(add(ar, mul(c52, s14r)), mul(c51, s23r));
      const m2i = add(add(ai, mul(c52, s14i)), mul(c51, s23i));
      const n1r = add(mul(s51, d14i), mul(s52, d23i));
      const n1i = sub(f.splat(0), add(mul(s51, d14r), mul(s52, d23r)));
      const n2r = sub(mul(s52, d14i), mul(s51, d23i));
      const n2i = sub(f.splat(0), sub(mul(s52, d14r), mul(s51, d23r)));
      return [
        [add(add(ar, s14r), s23r), add(add(ai, s14i), s23i)],
        [add(m1r, n1r), add(m1i, n1i)],
        [add(m2r, n2r), add(m2i, n2i)],
        [sub(m2r, n2r), sub(m2i, n2i)],
        [sub(m1r, n1r), sub(m1i, n1i)],
      ];
    }
    default:
      throw new Error(`no SIMD butterfly for radix ${r}`);
  }
}

/** stage_r(src, dst, tw, m, s): one Stockham stage (see ComplexFFT in fft.ts), twiddles splatted, 32 bytes per j. */
function stageFn(r: number): number[] {
  const f = new Fn(5);
  const [src, dst, tw, m, s] = [0, 1, 2, 3, 4];
  const S16 = f.i32();
  const mS16 = f.i32();
  const p = f.i32();
  const q16 = f.i32();
  const inBase = f.i32();
  const outBase = f.i32();
  const twp = f.i32();
  const kOff = Array.from({ length: r }, () => f.i32());
  const addr = Array.from({ length: r }, () => f.i32());
  f.i32op(S16, s, 'shl', { c: 4 });
  f.i32op(mS16, m, 'mul', S16);
  for (let k = 1; k < r; k++) f.i32op(kOff[k]!, mS16, 'mul', { c: k });
  f.const32(0);
  f.set(p);
  f.get(src);
  f.set(inBase);
  f.get(dst);
  f.set(outBase);
  f.get(tw);
  f.set(twp);
  f.emit(0x03, 0x40); // loop P
  const w: Cx[] = [];
  for (let j = 1; j < r; j++) w[j] = [f.load(twp, (j - 1) * 32), f.load(twp, (j - 1) * 32 + 16)];
  f.const32(0);
  f.set(q16);
  f.emit(0x03, 0x40); // loop Q
  const a: Cx[] = [];
  for (let k = 0; k < r; k++) {
    f.i32op(addr[k]!, inBase, 'add', q16);
    if (k > 0) f.i32op(addr[k]!, addr[k]!, 'add', kOff[k]!);
    a.push([f.load(addr[k]!, 0), f.load(addr[k]!, H)]);
  }
  const y = butterfly(f, r, a);
  for (let j = 0; j < r; j++) {
    // Output j of this butterfly goes to outBase + q16 + j*S16.
    f.i32op(addr[j]!, outBase, 'add', q16);
    for (let t = 0; t < j; t++) f.i32op(addr[j]!, addr[j]!, 'add', S16);
    let [yr, yi] = y[j]!;
    if (j > 0) {
      const [wr, wi] = w[j]!;
      const tr = f.op('sub', f.op('mul', yr, wr), f.op('mul', yi, wi));
      const ti = f.op('add', f.op('mul', yr, wi), f.op('mul', yi, wr));
      yr = tr;
      yi = ti;
    }
    f.store(addr[j]!, 0, yr);
    f.store(addr[j]!, H, yi);
  }
  f.i32op(q16, q16, 'add', { c: 16 });
  f.get(q16);
  f.get(S16);
  f.emit(0x49, 0x0d, 0); // i32.lt_u; br_if Q
  f.emit(0x0b); // end Q
  f.i32op(twp, twp, 'add', { c: (r - 1) * 32 });
  f.i32op(inBase, inBase, 'add', S16);
  for (let t = 0; t < r; t++) f.i32op(outBase, outBase, 'add', S16);
  f.i32op(p, p, 'add', { c: 1 });
  f.get(p);
  f.get(m);
  f.emit(0x49, 0x0d, 0); // br_if P
  f.emit(0x0b); // end P
  return f.body();
}

/** post(src, ptw, h): untangles the packed real FFT into bins 0..h at OUT (re, im at +H, power at +2H). */
function postFn(): number[] {
  const f = new Fn(3);
  const [src, ptw, h] = [0, 1, 2];
  const k = f.i32();
  const aAddr = f.i32();
  const bAddr = f.i32();
  const oAddr = f.i32();
  const wAddr = f.i32();
  const half = f.splat(0.5);
  f.const32(0);
  f.set(k);
  f.emit(0x03, 0x40);
  // a = Z[k mod h], b = Z[(h - k) mod h]
  f.get(src);
  f.const32(0);
  f.get(k);
  f.get(k);
  f.get(h);
  f.emit(0x46); // i32.eq
  f.emit(0x1b); // select: k == h ? 0 : k (select yields its first operand when the condition is nonzero)
  f.const32(4);
  f.emit(0x74, 0x6a); // shl, add
  f.set(aAddr);
  // (h - k) mod h: k == 0 -> 0
  f.get(src);
  f.const32(0);
  f.get(h);
  f.get(k);
  f.emit(0x6b); // h - k
  f.get(k);
  f.emit(0x45); // k == 0
  f.emit(0x1b); // k == 0 ? 0 : h - k
  f.const32(4);
  f.emit(0x74, 0x6a);
  f.set(bAddr);
  f.i32op(oAddr, k, 'shl', { c: 4 });
  f.i32op(oAddr, oAddr, 'add', { c: REGION_OUT });
  f.i32op(wAddr, k, 'shl', { c: 5 });
  f.i32op(wAddr, wAddr, 'add', ptw);
  const ar = f.load(aAddr, 0);
  const ai = f.load(aAddr, H);
  const br = f.load(bAddr, 0);
  const nbi = f.load(bAddr, H); // bi = -nbi (conjugate)
  const er = f.op('mul', half, f.op('add', ar, br));
  const ei = f.op('mul', half, f.op('sub', ai, nbi));
  const or = f.op('mul', half, f.op('add', ai, nbi));
  const oi = f.op('mul', half, f.op('sub', br, ar));
  const wr = f.load(wAddr, 0);
  const wi = f.load(wAddr, 16);
  const xr = f.op('add', er, f.op('sub', f.op('mul', or, wr), f.op('mul', oi, wi)));
  const xi = f.op('add', ei, f.op('add', f.op('mul', or, wi), f.op('mul', oi, wr)));
  f.store(oAddr, 0, xr);
  f.store(oAddr, H, xi);
  f.store(oAddr, 2 * H, f.op('add', f.op('mul', xr, xr), f.op('mul', xi, xi)));
  f.i32op(k, k, 'add', { c: 1 });
  f.get(k);
  f.get(h);
  f.emit(0x4d, 0x0d, 0); // i32.le_u; br_if
  f.emit(0x0b);
  return f.body();
}

/** fill(h): A[j] = (win[2j] * (YA[2j], YB[2j]), win[2j+1] * (YA[2j+1], YB[2j+1])): windowing and real-to-complex packing of both frames. */
function fillFn(): number[] {
  const f = new Fn(1);
  const h = 0;
  const j16 = f.i32();
  const w32 = f.i32();
  const end = f.i32();
  f.i32op(end, h, 'shl', { c: 4 });
  f.const32(0);
  f.set(j16);
  f.const32(REGION_WIN);
  f.set(w32);
  f.emit(0x03, 0x40);
  const lanes = (off: number): number => {
    const r = f.v();
    f.get(j16);
    f.emit(SIMD, 0x0a, 3, ...uleb(REGION_YA + off)); // v128.load64_splat
    f.get(j16);
    f.emit(0x2b, 3, ...uleb(REGION_YB + off)); // f64.load
    f.emit(SIMD, 0x22, 1); // f64x2.replace_lane 1
    f.set(r);
    return r;
  };
  const even = lanes(0);
  const odd = lanes(8);
  const re = f.op('mul', even, f.load(w32, 0));
  const im = f.op('mul', odd, f.load(w32, 16));
  f.store(j16, REGION_A, re);
  f.store(j16, REGION_A + H, im);
  f.i32op(j16, j16, 'add', { c: 16 });
  f.i32op(w32, w32, 'add', { c: 32 });
  f.get(j16);
  f.get(end);
  f.emit(0x49, 0x0d, 0);
  f.emit(0x0b);
  return f.body();
}

/**
 * mel(w, start, off, nMels, out): for both lanes, out[m] = sum_j w[off[m] + j] * pow[start[m] + j] over filter m's
 * packed nonzero weights (f64 w, i32 start/off), reading the power spectrum at OUT + 2H. Same summation order as
 * the scalar applyMel, so the same bits.
 */
function melFn(): number[] {
  const f = new Fn(5);
  const [w, start, off, nMels, out] = [0, 1, 2, 3, 4];
  const m4 = f.i32();
  const end4 = f.i32();
  const wa = f.i32();
  const wend = f.i32();
  const pa = f.i32();
  const oa = f.i32();
  const acc = f.v();
  f.i32op(end4, nMels, 'shl', { c: 2 });
  f.const32(0);
  f.set(m4);
  f.get(out);
  f.set(oa);
  f.emit(0x03, 0x40); // loop M
  // pa = OUT + 2H + start[m]*16; wa = w + off[m]*8; wend = w + off[m+1]*8
  f.get(m4);
  f.get(start);
  f.emit(0x6a, 0x28, 2, 0); // add; i32.load
  f.const32(4);
  f.emit(0x74);
  f.const32(REGION_OUT + 2 * H);
  f.emit(0x6a);
  f.set(pa);
  f.get(m4);
  f.get(off);
  f.emit(0x6a, 0x28, 2, 0);
  f.const32(3);
  f.emit(0x74);
  f.get(w);
  f.emit(0x6a);
  f.set(wa);
  f.get(m4);
  f.get(off);
  f.emit(0x6a, 0x28, 2, 4); // i32.load offset=4: off[m+1]
  f.const32(3);
  f.emit(0x74);
  f.get(w);
  f.emit(0x6a);
  f.set(wend);
  f.emit(SIMD, 0x0c, ...new Array<number>(16).fill(0));
  f.set(acc);
  f.get(wa);
  f.get(wend);
  f.emit(0x49, 0x04, 0x40); // if wa < wend
  f.emit(0x03, 0x40); // loop J
  const b = f.v();
  f.get(wa);
  f.emit(SIMD, 0x0a, 3, 0); // v128.load64_splat
  f.set(b);
  const x = f.load(pa, 0);
  const prod = f.op('mul', b, x);
  f.get(acc);
  f.get(prod);
  f.emit(SIMD, ...uleb(OP.add));
  f.set(acc);
  f.i32op(wa, wa, 'add', { c: 8 });
  f.i32op(pa, pa, 'add', { c: 16 });
  f.get(wa);
  f.get(wend);
  f.emit(0x49, 0x0d, 0);
  f.emit(0x0b); // end J
  f.emit(0x0b); // end if
  f.store(oa, 0, acc);
  f.i32op(oa, oa, 'add', { c: 16 });
  f.i32op(m4, m4, 'add', { c: 4 });
  f.get(m4);
  f.get(end4);
  f.emit(0x49, 0x0d, 0);
  f.emit(0x0b); // end M
  return f.body();
}

const RADICES = [2, 3, 4, 5];

function moduleBytes(): Uint8Array {
  const bodies = [...RADICES.map(stageFn), postFn(), fillFn(), melFn()];
  const types = [0x60, 5, I32, I32, I32, I32, I32, 0, 0x60, 3, I32, I32, I32, 0, 0x60, 1, I32, 0];
  const exportsList: number[] = [];
  RADICES.forEach((r, i) => exportsList.push(...name(`stage${r}`), 0x00, i));
  exportsList.push(...name('post'), 0x00, RADICES.length, ...name('fill'), 0x00, RADICES.length + 1);
  exportsList.push(...name('mel'), 0x00, RADICES.length + 2, ...name('mem'), 0x02, 0);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [3, ...types]),
    ...section(3, [bodies.length, ...RADICES.map(() => 0), 1, 2, 0]),
    ...section(5, [1, 0x00, 10]),
    ...section(7, [RADICES.length + 4, ...exportsList]),
    ...section(10, [bodies.length, ...bodies.flat()]),
  ];
  return new Uint8Array(bytes);
}

let compiled: object | null | undefined;

function factorize(n: number): number[] | undefined {
  const f: number[] = [];
  while (n % 4 === 0) {
    f.push(4);
    n /= 4;
  }
  while (n % 2 === 0) {
    f.push(2);
    n /= 2;
  }
  for (const p of [3, 5]) {
    while (n % p === 0) {
      f.push(p);
      n /= p;
    }
  }
  return n === 1 ? f : undefined;
}

type StageExport = (src: number, dst: number, tw: number, m: number, s: number) => void;

/**
 * Real FFT of two windowed frames per call: `setWindow` once, write each lane's raw samples at `frameOffset(lane)`,
 * call `run()`, then read bin k from `view` at `reOffset(lane) + 2k`, `imOffset(lane) + 2k`, `powOffset(lane) + 2k`.
 */
export class PairRealFFT {
  readonly n: number;
  readonly bins: number;
  private readonly stages: { fn: StageExport; tw: number; m: number; s: number }[];
  private readonly post: (src: number, ptw: number, h: number) => void;
  private readonly fill: (h: number) => void;
  private readonly melK: (w: number, start: number, off: number, nMels: number, out: number) => void;
  private readonly mem: WasmMemory;
  private readonly twEnd: number;
  private melLayout: { w: number; start: number; off: number; out: number; nMels: number } | undefined;
  /** The view; replaced when memory grows (setMel), so read it after setMel. */
  view: Float64Array;
  private readonly ptw: number;
  private readonly finalSrc: number;

  private constructor(n: number, factors: number[], inst: { exports: Record<string, unknown> }) {
    this.n = n;
    this.bins = n / 2 + 1;
    const h = n / 2;
    const mem = inst.exports.mem as WasmMemory;
    // Twiddle bytes: per stage m*(r-1)*32, plus (h+1)*32 for the post step.
    let twBytes = (h + 1) * 32;
    {
      let len = h;
      for (const r of factors) {
        len /= r;
        twBytes += len * (r - 1) * 32;
      }
    }
    const need = REGION_TW + twBytes;
    if (need > mem.buffer.byteLength) mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536));
    this.view = new Float64Array(mem.buffer);
    const v = this.view;
    this.stages = [];
    let off = REGION_TW;
    let len = h;
    let s = 1;
    for (const r of factors) {
      const m = len / r;
      for (let p = 0; p < m; p++) {
        for (let j = 1; j < r; j++) {
          const a = (-2 * Math.PI * p * j) / len;
          const o = (off + (p * (r - 1) + (j - 1)) * 32) / 8;
          v[o] = v[o + 1] = Math.cos(a);
          v[o + 2] = v[o + 3] = Math.sin(a);
        }
      }
      this.stages.push({ fn: inst.exports[`stage${r}`] as StageExport, tw: off, m, s });
      off += m * (r - 1) * 32;
      len = m;
      s *= r;
    }
    this.ptw = off;
    for (let k = 0; k <= h; k++) {
      const a = (-2 * Math.PI * k) / n;
      const o = (off + k * 32) / 8;
      v[o] = v[o + 1] = Math.cos(a);
      v[o + 2] = v[o + 3] = Math.sin(a);
    }
    this.post = inst.exports.post as (src: number, ptw: number, h: number) => void;
    this.fill = inst.exports.fill as (h: number) => void;
    this.melK = inst.exports.mel as PairRealFFT['melK'];
    this.mem = mem;
    this.twEnd = need;
    this.finalSrc = factors.length % 2 === 0 ? REGION_A : REGION_B;
  }

  /** A pair FFT for n, or undefined when n is unsupported here or SIMD is unavailable. */
  static create(n: number): PairRealFFT | undefined {
    if (process.env.WAVELM_NO_SIMD === '1' || WA === undefined) return undefined;
    if (n % 2 !== 0 || n < 4 || n / 2 > MAX_HALF) return undefined;
    const factors = factorize(n / 2);
    if (!factors) return undefined;
    if (compiled === undefined) {
      try {
        compiled = new WA.Module(moduleBytes());
      } catch {
        compiled = null;
      }
    }
    if (compiled === null) return undefined;
    return new PairRealFFT(n, factors, new WA.Instance(compiled, {}));
  }

  /**
   * Loads packed mel weights (filter m: w[off[m] .. off[m+1]) against bins start[m]..) for `applyMel`. Returns the
   * index in `view` of the result: mel m of lane l at melOut + 2m + l.
   */
  setMel(start: Int32Array, off: Int32Array, w: Float64Array): number {
    const nMels = start.length;
    const wPtr = Math.ceil(this.twEnd / 16) * 16;
    const sPtr = wPtr + w.length * 8;
    const oPtr = sPtr + nMels * 4;
    const outPtr = Math.ceil((oPtr + (nMels + 1) * 4) / 16) * 16;
    const need = outPtr + nMels * 16;
    if (need > this.mem.buffer.byteLength) this.mem.grow(Math.ceil((need - this.mem.buffer.byteLength) / 65536));
    this.view = new Float64Array(this.mem.buffer);
    this.view.set(w, wPtr / 8);
    new Int32Array(this.mem.buffer, sPtr, nMels).set(start);
    new Int32Array(this.mem.buffer, oPtr, nMels + 1).set(off);
    this.melLayout = { w: wPtr, start: sPtr, off: oPtr, out: outPtr, nMels };
    return outPtr / 8;
  }

  /** Applies the loaded mel weights to both lanes' power spectra (after `run()`). */
  applyMel(): void {
    const l = this.melLayout!;
    this.melK(l.w, l.start, l.off, l.nMels, l.out);
  }

  /** Sets the window (length n) applied to both frames. */
  setWindow(w: Float64Array): void {
    const o = REGION_WIN / 8;
    for (let i = 0; i < this.n; i++) this.view[o + 2 * i] = this.view[o + 2 * i + 1] = w[i]!;
  }

  /** Index in `view` where a lane's n raw (unwindowed) samples go before `run()`. */
  frameOffset(lane: 0 | 1): number {
    return (lane === 0 ? REGION_YA : REGION_YB) / 8;
  }

  reOffset(lane: 0 | 1): number {
    return REGION_OUT / 8 + lane;
  }
  imOffset(lane: 0 | 1): number {
    return (REGION_OUT + H) / 8 + lane;
  }
  powOffset(lane: 0 | 1): number {
    return (REGION_OUT + 2 * H) / 8 + lane;
  }

  run(): void {
    this.fill(this.n / 2);
    let src = REGION_A;
    let dst = REGION_B;
    for (const st of this.stages) {
      st.fn(src, dst, st.tw, st.m, st.s);
      const t = src;
      src = dst;
      dst = t;
    }
    this.post(this.finalSrc, this.ptw, this.n / 2);
  }
}

/**
 * dct(src, basis, out, nIn, nOut, tb): out[k][t] = sum_i basis[k][i] * src[i][t] for a block of tb frames (tb a
 * multiple of 8), eight frames (four f64x2 accumulators) at a time; each src row segment read is one cache line.
 */
function dctFn(): number[] {
  const f = new Fn(6);
  const [src, basis, out, nIn, nOut, tb] = [0, 1, 2, 3, 4, 5];
  const k = f.i32();
  const t8 = f.i32();
  const i = f.i32();
  const bp = f.i32();
  const sp = f.i32();
  const op = f.i32();
  const row = f.i32();
  const t8end = f.i32();
  f.i32op(row, tb, 'shl', { c: 3 });
  f.i32op(t8end, tb, 'shl', { c: 3 });
  f.const32(0);
  f.set(k);
  f.emit(0x03, 0x40); // loop K
  f.const32(0);
  f.set(t8);
  f.emit(0x03, 0x40); // loop T (t8 is a byte offset into a row, step 64)
  const acc = [f.splat(0), f.splat(0), f.splat(0), f.splat(0)];
  // bp = basis + k*nIn*8; sp = src + t8
  f.i32op(bp, k, 'mul', nIn);
  f.i32op(bp, bp, 'shl', { c: 3 });
  f.i32op(bp, bp, 'add', basis);
  f.i32op(sp, src, 'add', t8);
  f.const32(0);
  f.set(i);
  f.emit(0x03, 0x40); // loop I
  const b = f.v();
  f.get(bp);
  f.emit(SIMD, 0x0a, 3, 0); // v128.load64_splat
  f.set(b);
  for (let j = 0; j < 4; j++) {
    const x = f.load(sp, 16 * j);
    const prod = f.op('mul', b, x);
    f.get(acc[j]!);
    f.get(prod);
    f.emit(SIMD, ...uleb(OP.add));
    f.set(acc[j]!);
  }
  f.i32op(bp, bp, 'add', { c: 8 });
  f.i32op(sp, sp, 'add', row);
  f.i32op(i, i, 'add', { c: 1 });
  f.get(i);
  f.get(nIn);
  f.emit(0x49, 0x0d, 0);
  f.emit(0x0b); // end I
  // op = out + k*row + t8
  f.i32op(op, k, 'mul', row);
  f.i32op(op, op, 'add', out);
  f.i32op(op, op, 'add', t8);
  for (let j = 0; j < 4; j++) f.store(op, 16 * j, acc[j]!);
  // Reset accumulators for the next eight frames.
  for (let j = 0; j < 4; j++) {
    f.emit(SIMD, 0x0c, ...new Array<number>(16).fill(0));
    f.set(acc[j]!);
  }
  f.i32op(t8, t8, 'add', { c: 64 });
  f.get(t8);
  f.get(t8end);
  f.emit(0x49, 0x0d, 0);
  f.emit(0x0b); // end T
  f.i32op(k, k, 'add', { c: 1 });
  f.get(k);
  f.get(nOut);
  f.emit(0x49, 0x0d, 0);
  f.emit(0x0b); // end K
  return f.body();
}

let dctCompiled: object | null | undefined;

/** Block size in frames for the SIMD DCT. */
const DCT_BLOCK = 256;

/**
 * Column-wise DCT (out[k][t] = sum_i basis[k][i] * map(S[i][t])) in WebAssembly SIMD, blocks of 256 frames; returns
 * undefined when SIMD is unavailable. The sum over i runs in the same order as the scalar loop's, per lane.
 */
export class SimdDct {
  private readonly view: Float64Array;
  private readonly dct: (src: number, basis: number, out: number, nIn: number, nOut: number, tb: number) => void;
  private readonly srcPtr: number;
  private readonly outPtr: number;

  private constructor(private readonly nIn: number, private readonly nOut: number, basis: Float64Array, inst: { exports: Record<string, unknown> }) {
    const mem = inst.exports.mem as WasmMemory;
    const basisBytes = Math.ceil((nIn * nOut * 8) / 64) * 64;
    this.srcPtr = basisBytes;
    this.outPtr = this.srcPtr + nIn * DCT_BLOCK * 8;
    const need = this.outPtr + nOut * DCT_BLOCK * 8;
    if (need > mem.buffer.byteLength) mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536));
    this.view = new Float64Array(mem.buffer);
    this.view.set(basis, 0);
    this.dct = inst.exports.dct as SimdDct['dct'];
  }

  static create(nIn: number, nOut: number, basis: Float64Array): SimdDct | undefined {
    if (process.env.WAVELM_NO_SIMD === '1' || WA === undefined) return undefined;
    if (dctCompiled === undefined) {
      try {
        const body = dctFn();
        const bytes = [
          0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
          ...section(1, [1, 0x60, 6, I32, I32, I32, I32, I32, I32, 0]),
          ...section(3, [1, 0]),
          ...section(5, [1, 0x00, 1]),
          ...section(7, [2, ...name('dct'), 0x00, 0, ...name('mem'), 0x02, 0]),
          ...section(10, [1, ...body]),
        ];
        dctCompiled = new WA.Module(new Uint8Array(bytes));
      } catch {
        dctCompiled = null;
      }
    }
    if (dctCompiled === null) return undefined;
    return new SimdDct(nIn, nOut, basis, new WA.Instance(dctCompiled, {}));
  }

  /** S is [nIn, T] float32; returns [nOut, T] float32. */
  apply(S: Float32Array, T: number, map: ((v: number) => number) | undefined): Float32Array {
    const { nIn, nOut, view: v } = this;
    const out = new Float32Array(nOut * T);
    const s8 = this.srcPtr / 8;
    const o8 = this.outPtr / 8;
    for (let t0 = 0; t0 < T; t0 += DCT_BLOCK) {
      const tb = Math.min(DCT_BLOCK, T - t0);
      const tbPad = Math.ceil(tb / 8) * 8;
      for (let i = 0; i < nIn; i++) {
        const r = i * T + t0;
        const d = s8 + i * tbPad;
        if (map) for (let t = 0; t < tb; t++) v[d + t] = map(S[r + t]!);
        else for (let t = 0; t < tb; t++) v[d + t] = S[r + t]!;
        for (let t = tb; t < tbPad; t++) v[d + t] = 0;
      }
      this.dct(this.srcPtr, 0, this.outPtr, nIn, nOut, tbPad);
      for (let k = 0; k < nOut; k++) out.set(v.subarray(o8 + k * tbPad, o8 + k * tbPad + tb), k * T + t0);
    }
    return out;
  }
}
