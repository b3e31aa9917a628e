/**
 * Polyphase FIR resampling between integer rates, matching scipy.signal.resample_poly.
 *
 * scipy's definition (1.10): reduce up/down by their gcd; design h = firwin(2*half_len + 1, 1/max(up, down),
 * window=('kaiser', 5.0)) with half_len = 10*max(up, down); scale by up; upsample by zero insertion, filter, and
 * keep every down-th sample with the filter's delay removed. Output n = ceil(n_in*up/down), input zero-padded.
 * Working through scipy's padding arithmetic, output m is exactly
 *   y[m] = sum_i x[i] * h[m*down + half_len - i*up]
 * so each output only touches the ~L/up taps of one polyphase branch; we compute only those (no zero stuffing,
 * no discarded outputs), in float64, whatever the input type.
 */
import { ConfigError } from '../util/errors.js';
import { ensureMemory, featureKernels, type FeatureKernels } from './wasm.js';

export type ResampleQuality = 'fast' | 'default' | 'best';
export type FloatArray = Float32Array | Float64Array;

export interface ResampleOptions {
  /** 'default' is scipy's resample_poly filter; 'fast' is a 4x shorter filter; 'best' a 3.2x longer one with more stopband. */
  quality?: ResampleQuality;
  /** Overrides the quality's half length, in units of max(up, down) (scipy: 10). */
  halfLengthFactor?: number;
  /** Overrides the quality's Kaiser beta (scipy: 5.0). */
  beta?: number;
}

interface QualityDesign {
  halfLengthFactor: number;
  beta: number;
}

/** Filter designs per quality. 'default' is scipy's; the others trade length (speed) against stopband attenuation. */
export const RESAMPLE_QUALITIES: Readonly<Record<ResampleQuality, QualityDesign>> = {
  fast: { halfLengthFactor: 4, beta: 5.0 },
  default: { halfLengthFactor: 10, beta: 5.0 },
  best: { halfLengthFactor: 32, beta: 9.0 },
};

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function checkPositiveInt(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 1) throw new ConfigError(`resample: ${name} must be a positive integer, got ${v}`, { subject: name });
}

/** up/down reduced by their gcd. */
export function reduceRatio(up: number, down: number): { up: number; down: number } {
  checkPositiveInt('up', up);
  checkPositiveInt('down', down);
  const g = gcd(up, down);
  return { up: up / g, down: down / g };
}

/** Output length of resamplePoly for n input samples: ceil(n*up/down) after reducing the ratio. */
export function resampledLength(n: number, up: number, down: number): number {
  const r = reduceRatio(up, down);
  if (r.up === 1 && r.down === 1) return n;
  return Math.ceil((n * r.up) / r.down);
}

/** Modified Bessel function of the first kind, order 0 (power series; converges fast for the betas used here). */
export function besselI0(x: number): number {
  const q = (x * x) / 4;
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 500; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

/** Symmetric Kaiser window of M points (scipy.signal.windows.kaiser(M, beta, sym=True)). */
export function kaiserWindow(M: number, beta: number): Float64Array {
  const w = new Float64Array(M);
  if (M === 1) {
    w[0] = 1;
    return w;
  }
  const alpha = (M - 1) / 2;
  const den = besselI0(beta);
  for (let n = 0; n < M; n++) {
    const r = (n - alpha) / alpha;
    w[n] = besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / den;
  }
  return w;
}

/**
 * scipy.signal.firwin(numtaps, cutoff, window=('kaiser', beta)) for a low-pass (pass_zero=True, scale=True),
 * cutoff relative to Nyquist.
 */
export function firwinKaiser(numtaps: number, cutoff: number, beta: number): Float64Array {
  checkPositiveInt('numtaps', numtaps);
  if (!(cutoff > 0 && cutoff < 1)) throw new ConfigError(`firwin: cutoff must lie in (0, 1) relative to Nyquist, got ${cutoff}`);
  const alpha = 0.5 * (numtaps - 1);
  const win = kaiserWindow(numtaps, beta);
  const h = new Float64Array(numtaps);
  let sum = 0;
  for (let n = 0; n < numtaps; n++) {
    const m = n - alpha;
    const t = Math.PI * cutoff * m;
    const sinc = m === 0 ? 1 : Math.sin(t) / t;
    h[n] = cutoff * sinc * win[n]!;
    sum += h[n]!;
  }
  // scale=True normalises the gain at DC to exactly 1.
  for (let n = 0; n < numtaps; n++) h[n]! /= sum;
  return h;
}

/** A designed polyphase resampler: the ratio, the prototype filter and its branches laid out for forward dot products. */
export interface ResampleDesign {
  up: number;
  down: number;
  halfLen: number;
  /** The prototype low-pass filter already multiplied by `up` (scipy's `h *= up`), length 2*halfLen + 1. */
  filter: Float64Array;
  /** Taps per polyphase branch. */
  branchLen: number;
  /** Branch stride: branchLen rounded up to a multiple of 8 (the SIMD kernel's step); the extra taps are zero. */
  stride: number;
  /** up * stride taps: branch r holds filter[r + k*up] for k = branchLen-1 .. 0 (reversed), then zeros. */
  branches: Float64Array;
}

/** Designs the filter for an up/down ratio (reduced by gcd first). */
export function designResampler(up: number, down: number, opts: ResampleOptions = {}): ResampleDesign {
  const r = reduceRatio(up, down);
  const q = opts.quality ?? 'default';
  const base = RESAMPLE_QUALITIES[q];
  if (base === undefined)
    throw new ConfigError(`resample: quality must be fast, default or best, got '${String(q)}'`, { subject: 'quality' });
  const factor = opts.halfLengthFactor ?? base.halfLengthFactor;
  const beta = opts.beta ?? base.beta;
  checkPositiveInt('halfLengthFactor', factor);
  if (!(beta >= 0 && Number.isFinite(beta)))
    throw new ConfigError(`resample: beta must be a non-negative number, got ${beta}`, { subject: 'beta' });
  const maxRate = Math.max(r.up, r.down);
  const halfLen = factor * maxRate;
  const L = 2 * halfLen + 1;
  if (L > 50_000_000) {
    throw new ConfigError(`resample: ${r.up}/${r.down} needs a ${L}-tap filter; choose rates with a larger common divisor`, {
      subject: `${r.up}/${r.down}`,
    });
  }
  const filter = maxRate === 1 ? Float64Array.of(1) : firwinKaiser(L, 1 / maxRate, beta);
  for (let i = 0; i < filter.length; i++) filter[i]! *= r.up;
  const branchLen = Math.ceil(L / r.up);
  const stride = Math.ceil(branchLen / 8) * 8;
  const branches = new Float64Array(r.up * stride);
  for (let ph = 0; ph < r.up; ph++) {
    for (let k = 0; k < branchLen; k++) {
      const j = ph + k * r.up;
      branches[ph * stride + (branchLen - 1 - k)] = j < L ? filter[j]! : 0;
    }
  }
  return { up: r.up, down: r.down, halfLen: maxRate === 1 ? 0 : halfLen, filter, branchLen, stride, branches };
}

/**
 * Computes outputs m in [m0, m1) into out[outOff..]. The input is x[i - base] for i in [max(0, base), nIn); every
 * other index reads as zero. Callers guarantee base <= the lowest index any of these outputs needs.
 * The summation order depends only on m and the clamped index range, so streaming and one-shot agree bit for bit.
 */
function scalarKernel(
  d: ResampleDesign,
  x: FloatArray,
  base: number,
  nIn: number,
  m0: number,
  m1: number,
  out: FloatArray,
  outOff: number,
): void {
  const { up, down, halfLen, branchLen: K, stride, branches: B } = d;
  for (let m = m0; m < m1; m++) {
    const p = m * down + halfLen;
    const ph = p % up;
    const iTop = (p - ph) / up; // newest input sample this output touches
    const iLow = iTop - K + 1; // oldest
    const bOff = ph * stride;
    let jStart = 0;
    let jEnd = K;
    if (iLow < 0) jStart = -iLow;
    if (iTop >= nIn) jEnd = nIn - iLow;
    let acc = 0;
    if (jEnd > jStart) {
      const xo = iLow - base;
      let j = jStart;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      const j4 = jStart + ((jEnd - jStart) & ~3);
      for (; j < j4; j += 4) {
        a0 += B[bOff + j]! * x[xo + j]!;
        a1 += B[bOff + j + 1]! * x[xo + j + 1]!;
        a2 += B[bOff + j + 2]! * x[xo + j + 2]!;
        a3 += B[bOff + j + 3]! * x[xo + j + 3]!;
      }
      for (; j < jEnd; j++) a0 += B[bOff + j]! * x[xo + j]!;
      acc = a0 + a1 + (a2 + a3);
    }
    out[outOff + m - m0] = acc;
  }
}

/**
 * Runs the kernel for outputs [m0, m1): outputs whose taps all fall inside [0, nIn) go to the SIMD kernel in
 * blocks, the few at either edge to the scalar loop. Which path computes an output depends only on m and nIn, so
 * results do not depend on how a stream was chunked.
 */
class PolyRunner {
  private readonly k: FeatureKernels | undefined;
  private readonly block: number;
  private readonly xCap: number;
  private readonly branchPtr: number;
  private readonly xPtr: number;
  private readonly outPtr: number;
  private mem64: Float64Array | undefined;

  constructor(readonly d: ResampleDesign) {
    this.k = d.up === 1 && d.down === 1 ? undefined : featureKernels();
    const perOut = Math.ceil(d.down / d.up);
    this.block = Math.max(256, Math.min(8192, Math.floor(2 ** 20 / perOut)));
    this.xCap = (this.block - 1) * perOut + 2 + d.stride;
    // Memory from the kernels' base: the branches, then the input window, then the outputs.
    this.branchPtr = this.k?.base ?? 0;
    this.xPtr = this.branchPtr + d.branches.byteLength;
    this.outPtr = this.xPtr + this.xCap * 8;
    if (this.k) {
      ensureMemory(this.k.memory, this.outPtr + this.block * 8);
      this.mem64 = new Float64Array(this.k.memory.buffer);
      this.mem64.set(d.branches, this.branchPtr / 8);
    }
  }

  run(x: FloatArray, base: number, nIn: number, m0: number, m1: number, out: FloatArray, outOff: number): void {
    const d = this.d;
    const mem = this.mem64;
    if (!this.k || !mem || m1 <= m0) {
      scalarKernel(d, x, base, nIn, m0, m1, out, outOff);
      return;
    }
    // Interior outputs: iLow(m) >= 0 and iTop(m) <= nIn - 1.
    const K = d.branchLen;
    const mA = Math.max(m0, Math.ceil(((K - 1) * d.up - d.halfLen) / d.down));
    const mB = Math.min(m1, Math.floor((nIn * d.up - 1 - d.halfLen) / d.down) + 1);
    if (mA >= mB) {
      scalarKernel(d, x, base, nIn, m0, m1, out, outOff);
      return;
    }
    scalarKernel(d, x, base, nIn, m0, mA, out, outOff);
    const dq = Math.floor(d.down / d.up);
    const dr = d.down % d.up;
    const xSlot = this.xPtr / 8;
    const outSlot = this.outPtr / 8;
    for (let mb = mA; mb < mB; mb += this.block) {
      const me = Math.min(mB, mb + this.block);
      const p = mb * d.down + d.halfLen;
      const ph = p % d.up;
      const iLow = (p - ph) / d.up - K + 1;
      const pLast = (me - 1) * d.down + d.halfLen;
      const iEnd = Math.floor(pLast / d.up) + 1 + (d.stride - K); // one past the last slot the padded taps read
      const avail = Math.min(iEnd, nIn) - iLow;
      mem.set(x.subarray(iLow - base, iLow - base + avail), xSlot);
      if (iEnd - iLow > avail) mem.fill(0, xSlot + avail, xSlot + (iEnd - iLow));
      this.k.poly(this.xPtr, this.branchPtr, this.outPtr, me - mb, ph, 0, d.up, dq, dr, d.stride);
      out.set(mem.subarray(outSlot, outSlot + (me - mb)), outOff + (mb - m0));
    }
    scalarKernel(d, x, base, nIn, mB, m1, out, outOff + (mB - m0));
  }
}

/**
 * scipy.signal.resample_poly(x, up, down) with window ('kaiser', 5.0) and zero padding. Float32 input gives
 * Float32 output (computed in float64, rounded once); Float64 gives Float64.
 */
export function resamplePoly<T extends FloatArray>(x: T, up: number, down: number, opts: ResampleOptions = {}): T {
  return runOneShot(cachedRunner(up, down, opts), x);
}

/**
 * Designs (Kaiser windows of thousands of taps) and their wasm instances, kept for the last few ratios: datasets
 * and codecs resample clip by clip with the same rates. Runs are synchronous, so sharing a runner is safe.
 */
const runnerCache = new Map<string, PolyRunner>();

function cachedRunner(up: number, down: number, opts: ResampleOptions): PolyRunner {
  const r = reduceRatio(up, down);
  const key = JSON.stringify([
    r.up,
    r.down,
    opts.quality ?? 'default',
    opts.halfLengthFactor,
    opts.beta,
    process.env.WAVELM_NO_SIMD === '1',
  ]);
  const hit = runnerCache.get(key);
  if (hit) {
    runnerCache.delete(key);
    runnerCache.set(key, hit);
    return hit;
  }
  const runner = new PolyRunner(designResampler(up, down, opts));
  runnerCache.set(key, runner);
  if (runnerCache.size > 4) runnerCache.delete(runnerCache.keys().next().value as string);
  return runner;
}

function runOneShot<T extends FloatArray>(runner: PolyRunner, x: T): T {
  const d = runner.d;
  const Ctor = (x instanceof Float32Array ? Float32Array : Float64Array) as unknown as new (n: number) => T;
  if (d.up === 1 && d.down === 1) {
    const copy = new Ctor(x.length);
    copy.set(x);
    return copy;
  }
  const nOut = Math.ceil((x.length * d.up) / d.down);
  const out = new Ctor(nOut);
  runner.run(x, 0, x.length, 0, nOut, out, 0);
  return out;
}

/** Runs a designed resampler over a whole signal. */
export function applyResampler<T extends FloatArray>(d: ResampleDesign, x: T): T {
  return runOneShot(new PolyRunner(d), x);
}

/** Resamples from one integer rate to another (ratio reduced by gcd), e.g. resample(x, 44100, 16000). */
export function resample<T extends FloatArray>(x: T, fromRate: number, toRate: number, opts: ResampleOptions = {}): T {
  checkPositiveInt('fromRate', fromRate);
  checkPositiveInt('toRate', toRate);
  return resamplePoly(x, toRate, fromRate, opts);
}

/**
 * Resampling in pieces with bounded memory: push chunks of any size, then flush. The concatenated output equals
 * resample(whole input) exactly. Memory: one filter plus about one filter branch of input history.
 */
export class StreamingResampler {
  readonly design: ResampleDesign;
  readonly outputType: 'float32' | 'float64';
  private readonly runner: PolyRunner;
  /** Input history: x[i] for i in [bufBase, bufBase + bufLen). */
  private buf: Float64Array;
  private bufBase = 0;
  private bufLen = 0;
  /** Samples received so far. */
  private nIn = 0;
  /** Next output index to produce. */
  private nextOut = 0;
  private flushed = false;

  constructor(fromRate: number, toRate: number, opts: ResampleOptions & { output?: 'float32' | 'float64' } = {}) {
    checkPositiveInt('fromRate', fromRate);
    checkPositiveInt('toRate', toRate);
    this.design = designResampler(toRate, fromRate, opts);
    this.outputType = opts.output ?? 'float32';
    this.runner = new PolyRunner(this.design);
    this.buf = new Float64Array(Math.max(1024, 2 * this.design.branchLen));
  }

  /** Total input samples pushed so far. */
  get samplesIn(): number {
    return this.nIn;
  }

  /** Total output samples produced so far. */
  get samplesOut(): number {
    return this.nextOut;
  }

  /** Adds input and returns every output sample that no longer depends on future input. */
  push(chunk: FloatArray): FloatArray {
    if (this.flushed) throw new ConfigError('StreamingResampler: push after flush; create a new resampler for a new stream');
    this.append(chunk);
    const d = this.design;
    if (d.up === 1 && d.down === 1) return this.take(this.nIn);
    // Output m needs inputs up to floor((m*down + halfLen)/up); it is final once that index is below nIn.
    // Largest m with m*down + halfLen <= nIn*up - 1:
    const mReady = Math.floor((this.nIn * d.up - 1 - d.halfLen) / d.down) + 1;
    return this.take(Math.max(this.nextOut, mReady));
  }

  /** Ends the stream (the input is zero beyond its end, as in resample_poly) and returns the remaining output. */
  flush(): FloatArray {
    if (this.flushed) return this.outputType === 'float32' ? new Float32Array(0) : new Float64Array(0);
    const d = this.design;
    const total = d.up === 1 && d.down === 1 ? this.nIn : Math.ceil((this.nIn * d.up) / d.down);
    const out = this.take(total);
    this.flushed = true;
    return out;
  }

  private append(chunk: FloatArray): void {
    const d = this.design;
    // Drop history no future output needs: the oldest index the next output reads.
    const pNext = this.nextOut * d.down + d.halfLen;
    const need = Math.max(0, Math.floor(pNext / d.up) - d.branchLen + 1);
    const drop = Math.min(Math.max(0, need - this.bufBase), this.bufLen);
    if (drop > 0) {
      this.buf.copyWithin(0, drop, this.bufLen);
      this.bufBase += drop;
      this.bufLen -= drop;
    }
    if (this.bufLen + chunk.length > this.buf.length) {
      const grown = new Float64Array(Math.max(this.bufLen + chunk.length, 2 * this.buf.length));
      grown.set(this.buf.subarray(0, this.bufLen));
      this.buf = grown;
    }
    this.buf.set(chunk, this.bufLen);
    this.bufLen += chunk.length;
    this.nIn += chunk.length;
  }

  private take(mEnd: number): FloatArray {
    const n = Math.max(0, mEnd - this.nextOut);
    const out = this.outputType === 'float32' ? new Float32Array(n) : new Float64Array(n);
    const d = this.design;
    if (n === 0) return out;
    if (d.up === 1 && d.down === 1) {
      for (let i = 0; i < n; i++) out[i] = this.buf[this.nextOut + i - this.bufBase]!;
    } else {
      this.runner.run(this.buf, this.bufBase, this.nIn, this.nextOut, mEnd, out, 0);
    }
    this.nextOut = mEnd;
    return out;
  }
}
