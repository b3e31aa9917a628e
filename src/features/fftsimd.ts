/**
 * Two real FFTs at once in WebAssembly SIMD (assembly/features/pairfft.ts): frame A in lane 0 and frame B in lane 1
 * of every f64x2, so each scalar operation of the mixed-radix Stockham FFT (radix 2, 3, 4, 5) becomes one vector
 * operation on two frames; and the MFCC's DCT over blocks of frames (assembly/features/dct.ts).
 *
 * Why: the scalar FFT is about a third of a mel spectrogram's time and cannot go faster in JavaScript; lanes over
 * frames double the arithmetic per instruction without changing a single operation's order. Unsupported lengths
 * (prime factors > 5, n_fft > 4096, odd n_fft) use the scalar FFT.
 *
 * Memory (bytes from the instance's base): regions of H = 64 KiB hold one complex vector's re (then im at +H):
 *   A = [0, 2H) and B = [2H, 4H) ping-pong between stages, OUT = [4H, 7H) gets re, im and power of bins 0..n/2,
 *   the two raw frames (f64) at YA = 7H and YB = 7H + H/2, the window (each value splatted) at 8H, twiddles from 9H,
 *   then the packed mel weights.
 */
import { ensureMemory, featureKernels, type FeatureKernels, type StageKernel } from './wasm.js';

/** The kernels' distance from a vector's re to its im (PLANE in assembly/features/pairfft.ts). */
const H = 65536;
const REGION_A = 0;
const REGION_B = 2 * H;
const REGION_OUT = 4 * H;
const REGION_YA = 7 * H;
/** The second frame, where fill() reads it (FRAME_B in assembly/features/pairfft.ts). */
const REGION_YB = REGION_YA + H / 2;
const REGION_WIN = 8 * H;
const REGION_TW = 9 * H;
/** Largest complex half-length the fixed regions hold (n_fft = 2 * MAX_HALF). */
const MAX_HALF = 2048;

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

function stageKernel(k: FeatureKernels, radix: number): StageKernel {
  switch (radix) {
    case 2:
      return k.stage2;
    case 3:
      return k.stage3;
    case 4:
      return k.stage4;
    default:
      return k.stage5;
  }
}

/** Writes exp(-2 pi i j / len) as splatted (re, re, im, im) at v[o..o+4). */
function putTwiddle(v: Float64Array, o: number, a: number): void {
  v[o] = v[o + 1] = Math.cos(a);
  v[o + 2] = v[o + 3] = Math.sin(a);
}

/**
 * Real FFT of two windowed frames per call: `setWindow` once, write each lane's raw samples at `frameOffset(lane)`,
 * call `run()`, then read bin k from `view` at `reOffset(lane) + 2k`, `imOffset(lane) + 2k`, `powOffset(lane) + 2k`.
 */
export class PairRealFFT {
  readonly n: number;
  readonly bins: number;
  private readonly k: FeatureKernels;
  /** Byte address of region offset 0. */
  private readonly base: number;
  private readonly stages: { fn: StageKernel; tw: number; m: number; s: number }[];
  private readonly twEnd: number;
  private melLayout: { w: number; start: number; off: number; out: number; nMels: number } | undefined;
  /** The view; replaced when memory grows (setMel), so read it after setMel. */
  view: Float64Array;
  private readonly ptw: number;
  private readonly finalSrc: number;

  private constructor(n: number, factors: number[], k: FeatureKernels) {
    this.n = n;
    this.bins = n / 2 + 1;
    this.k = k;
    const base = k.base;
    this.base = base;
    const h = n / 2;
    // Twiddle bytes: per stage m*(r-1)*32, plus (h+1)*32 for the post step.
    let twBytes = (h + 1) * 32;
    {
      let len = h;
      for (const r of factors) {
        len /= r;
        twBytes += len * (r - 1) * 32;
      }
    }
    this.twEnd = base + REGION_TW + twBytes;
    ensureMemory(k.memory, this.twEnd);
    this.view = new Float64Array(k.memory.buffer);
    const v = this.view;
    this.stages = [];
    let off = base + REGION_TW;
    let len = h;
    let s = 1;
    for (const r of factors) {
      const m = len / r;
      for (let p = 0; p < m; p++) {
        for (let j = 1; j < r; j++) putTwiddle(v, (off + (p * (r - 1) + (j - 1)) * 32) / 8, (-2 * Math.PI * p * j) / len);
      }
      this.stages.push({ fn: stageKernel(k, r), tw: off, m, s });
      off += m * (r - 1) * 32;
      len = m;
      s *= r;
    }
    this.ptw = off;
    for (let j = 0; j <= h; j++) putTwiddle(v, (off + j * 32) / 8, (-2 * Math.PI * j) / n);
    this.finalSrc = base + (factors.length % 2 === 0 ? REGION_A : REGION_B);
  }

  /** A pair FFT for n, or undefined when n is unsupported here or SIMD is unavailable. */
  static create(n: number): PairRealFFT | undefined {
    if (n % 2 !== 0 || n < 4 || n / 2 > MAX_HALF) return undefined;
    const factors = factorize(n / 2);
    if (!factors) return undefined;
    const k = featureKernels();
    return k && new PairRealFFT(n, factors, k);
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
    const mem = this.k.memory;
    ensureMemory(mem, outPtr + nMels * 16);
    this.view = new Float64Array(mem.buffer);
    this.view.set(w, wPtr / 8);
    new Int32Array(mem.buffer, sPtr, nMels).set(start);
    new Int32Array(mem.buffer, oPtr, nMels + 1).set(off);
    this.melLayout = { w: wPtr, start: sPtr, off: oPtr, out: outPtr, nMels };
    return outPtr / 8;
  }

  /** Applies the loaded mel weights to both lanes' power spectra (after `run()`). */
  applyMel(): void {
    const l = this.melLayout!;
    this.k.mel(l.w, l.start, l.off, l.nMels, this.base + REGION_OUT + 2 * H, l.out);
  }

  /** Sets the window (length n) applied to both frames. */
  setWindow(w: Float64Array): void {
    const o = (this.base + REGION_WIN) / 8;
    for (let i = 0; i < this.n; i++) this.view[o + 2 * i] = this.view[o + 2 * i + 1] = w[i]!;
  }

  /** Index in `view` where a lane's n raw (unwindowed) samples go before `run()`. */
  frameOffset(lane: 0 | 1): number {
    return (this.base + (lane === 0 ? REGION_YA : REGION_YB)) / 8;
  }

  reOffset(lane: 0 | 1): number {
    return (this.base + REGION_OUT) / 8 + lane;
  }
  imOffset(lane: 0 | 1): number {
    return (this.base + REGION_OUT + H) / 8 + lane;
  }
  powOffset(lane: 0 | 1): number {
    return (this.base + REGION_OUT + 2 * H) / 8 + lane;
  }

  run(): void {
    const base = this.base;
    this.k.fill(this.n / 2, base + REGION_YA, base + REGION_WIN, base + REGION_A);
    let src = base + REGION_A;
    let dst = base + REGION_B;
    for (const st of this.stages) {
      st.fn(src, dst, st.tw, st.m, st.s);
      const t = src;
      src = dst;
      dst = t;
    }
    this.k.post(this.finalSrc, this.ptw, this.n / 2, base + REGION_OUT);
  }
}

/** Block size in frames for the SIMD DCT. */
const DCT_BLOCK = 256;

/**
 * Column-wise DCT (out[k][t] = sum_i basis[k][i] * map(S[i][t])) in WebAssembly SIMD, blocks of 256 frames; returns
 * undefined when SIMD is unavailable. The sum over i runs in the same order as the scalar loop's, per lane.
 */
export class SimdDct {
  private readonly view: Float64Array;
  private readonly dct: FeatureKernels['dct'];
  private readonly basisPtr: number;
  private readonly srcPtr: number;
  private readonly outPtr: number;

  private constructor(
    private readonly nIn: number,
    private readonly nOut: number,
    basis: Float64Array,
    k: FeatureKernels,
  ) {
    this.basisPtr = k.base;
    this.srcPtr = this.basisPtr + Math.ceil((nIn * nOut * 8) / 64) * 64;
    this.outPtr = this.srcPtr + nIn * DCT_BLOCK * 8;
    ensureMemory(k.memory, this.outPtr + nOut * DCT_BLOCK * 8);
    this.view = new Float64Array(k.memory.buffer);
    this.view.set(basis, this.basisPtr / 8);
    this.dct = k.dct;
  }

  static create(nIn: number, nOut: number, basis: Float64Array): SimdDct | undefined {
    const k = featureKernels();
    return k && new SimdDct(nIn, nOut, basis, k);
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
      this.dct(this.srcPtr, this.basisPtr, this.outPtr, nIn, nOut, tbPad);
      for (let k = 0; k < nOut; k++) out.set(v.subarray(o8 + k * tbPad, o8 + k * tbPad + tb), k * T + t0);
    }
    return out;
  }
}
