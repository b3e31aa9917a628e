/**
 * Real-input FFT of any even length (and any length via a complex transform), as numpy's pocketfft does.
 *
 * fft.js only handles powers of two, but Whisper-style features use n_fft = 400 = 2^4 * 5^2. This is a mixed-radix
 * Stockham FFT (radix 4, 2, 3, 5 butterflies and a generic odd radix) on split re/im Float64Arrays with all
 * twiddles precomputed, plus the usual packing of a length-n real signal into an n/2-point complex one.
 * Powers of two go through fft.js's realTransform when it is faster (see docs/features.md for the measurement).
 */
import FFTJS from 'fft.js';
import { ConfigError } from '../util/errors.js';

interface Stage {
  radix: number;
  /** Sub-length n/r at this stage. */
  m: number;
  /** Stride s. */
  s: number;
  /** Twiddles w_p^j = exp(-2 pi i p j / n) for p < m, j = 1..r-1, as [cos, sin] pairs laid out p-major. */
  tw: Float64Array;
}

function factorize(n: number): number[] {
  const f: number[] = [];
  while (n % 4 === 0) {
    f.push(4);
    n /= 4;
  }
  while (n % 2 === 0) {
    f.push(2);
    n /= 2;
  }
  for (let p = 3; n > 1; p += 2) {
    while (n % p === 0) {
      f.push(p);
      n /= p;
    }
    if (p * p > n && n > 1) {
      f.push(n);
      break;
    }
  }
  return f;
}

/** In-order complex DFT of length n (forward, unnormalised, exp(-2 pi i jk/n)). */
export class ComplexFFT {
  readonly n: number;
  private readonly stages: Stage[];
  private readonly wr: Float64Array;
  private readonly wi: Float64Array;
  /** Scratch for generic odd radices. */
  private readonly gr: Float64Array;
  private readonly gi: Float64Array;

  constructor(n: number) {
    if (!Number.isSafeInteger(n) || n < 1) throw new ConfigError(`fft: length must be a positive integer, got ${n}`);
    this.n = n;
    this.stages = [];
    let len = n;
    let s = 1;
    let maxR = 1;
    for (const r of factorize(n)) {
      const m = len / r;
      const tw = new Float64Array(m * (r - 1) * 2);
      for (let p = 0; p < m; p++) {
        for (let j = 1; j < r; j++) {
          const a = (-2 * Math.PI * p * j) / len;
          tw[(p * (r - 1) + (j - 1)) * 2] = Math.cos(a);
          tw[(p * (r - 1) + (j - 1)) * 2 + 1] = Math.sin(a);
        }
      }
      this.stages.push({ radix: r, m, s, tw });
      maxR = Math.max(maxR, r);
      len = m;
      s *= r;
    }
    this.wr = new Float64Array(n);
    this.wi = new Float64Array(n);
    this.gr = new Float64Array(maxR);
    this.gi = new Float64Array(maxR);
  }

  /** Transforms (re, im) in place. */
  transform(re: Float64Array, im: Float64Array): void {
    let xr = re;
    let xi = im;
    let yr = this.wr;
    let yi = this.wi;
    for (const st of this.stages) {
      switch (st.radix) {
        case 4:
          radix4(st, xr, xi, yr, yi);
          break;
        case 2:
          radix2(st, xr, xi, yr, yi);
          break;
        case 3:
          radix3(st, xr, xi, yr, yi);
          break;
        case 5:
          radix5(st, xr, xi, yr, yi);
          break;
        default:
          this.generic(st, xr, xi, yr, yi);
      }
      const tr = xr;
      const ti = xi;
      xr = yr;
      xi = yi;
      yr = tr;
      yi = ti;
    }
    if (xr !== re) {
      re.set(xr);
      im.set(xi);
    }
  }

  private generic(st: Stage, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array): void {
    const { radix: r, m, s, tw } = st;
    const { gr, gi } = this;
    // Roots of unity for this radix; generic radices are rare (n with prime factors > 5), so no caching.
    const cr = new Float64Array(r);
    const ci = new Float64Array(r);
    for (let k = 0; k < r; k++) {
      cr[k] = Math.cos((-2 * Math.PI * k) / r);
      ci[k] = Math.sin((-2 * Math.PI * k) / r);
    }
    for (let p = 0; p < m; p++) {
      for (let q = 0; q < s; q++) {
        for (let k = 0; k < r; k++) {
          gr[k] = xr[q + s * (p + k * m)]!;
          gi[k] = xi[q + s * (p + k * m)]!;
        }
        for (let j = 0; j < r; j++) {
          let sr = 0;
          let si = 0;
          for (let k = 0; k < r; k++) {
            const idx = (j * k) % r;
            sr += gr[k]! * cr[idx]! - gi[k]! * ci[idx]!;
            si += gr[k]! * ci[idx]! + gi[k]! * cr[idx]!;
          }
          const o = q + s * (r * p + j);
          if (j === 0) {
            yr[o] = sr;
            yi[o] = si;
          } else {
            const t = (p * (r - 1) + (j - 1)) * 2;
            const wr = tw[t]!;
            const wi = tw[t + 1]!;
            yr[o] = sr * wr - si * wi;
            yi[o] = sr * wi + si * wr;
          }
        }
      }
    }
  }
}

function radix2(st: Stage, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array): void {
  const { m, s, tw } = st;
  for (let p = 0; p < m; p++) {
    const wr = tw[2 * p]!;
    const wi = tw[2 * p + 1]!;
    const i0 = s * p;
    const i1 = s * (p + m);
    const o0 = s * 2 * p;
    const o1 = o0 + s;
    for (let q = 0; q < s; q++) {
      const ar = xr[i0 + q]!;
      const ai = xi[i0 + q]!;
      const br = xr[i1 + q]!;
      const bi = xi[i1 + q]!;
      yr[o0 + q] = ar + br;
      yi[o0 + q] = ai + bi;
      const dr = ar - br;
      const di = ai - bi;
      yr[o1 + q] = dr * wr - di * wi;
      yi[o1 + q] = dr * wi + di * wr;
    }
  }
}

function radix4(st: Stage, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array): void {
  const { m, s, tw } = st;
  for (let p = 0; p < m; p++) {
    const t = p * 6;
    const w1r = tw[t]!;
    const w1i = tw[t + 1]!;
    const w2r = tw[t + 2]!;
    const w2i = tw[t + 3]!;
    const w3r = tw[t + 4]!;
    const w3i = tw[t + 5]!;
    const i0 = s * p;
    const i1 = s * (p + m);
    const i2 = s * (p + 2 * m);
    const i3 = s * (p + 3 * m);
    const o0 = s * 4 * p;
    const o1 = o0 + s;
    const o2 = o1 + s;
    const o3 = o2 + s;
    for (let q = 0; q < s; q++) {
      const ar = xr[i0 + q]!;
      const ai = xi[i0 + q]!;
      const br = xr[i1 + q]!;
      const bi = xi[i1 + q]!;
      const cr = xr[i2 + q]!;
      const ci = xi[i2 + q]!;
      const dr = xr[i3 + q]!;
      const di = xi[i3 + q]!;
      const s02r = ar + cr;
      const s02i = ai + ci;
      const d02r = ar - cr;
      const d02i = ai - ci;
      const s13r = br + dr;
      const s13i = bi + di;
      // -i * (b - d)
      const d13r = bi - di;
      const d13i = dr - br;
      yr[o0 + q] = s02r + s13r;
      yi[o0 + q] = s02i + s13i;
      const y1r = d02r + d13r;
      const y1i = d02i + d13i;
      const y2r = s02r - s13r;
      const y2i = s02i - s13i;
      const y3r = d02r - d13r;
      const y3i = d02i - d13i;
      yr[o1 + q] = y1r * w1r - y1i * w1i;
      yi[o1 + q] = y1r * w1i + y1i * w1r;
      yr[o2 + q] = y2r * w2r - y2i * w2i;
      yi[o2 + q] = y2r * w2i + y2i * w2r;
      yr[o3 + q] = y3r * w3r - y3i * w3i;
      yi[o3 + q] = y3r * w3i + y3i * w3r;
    }
  }
}

const C3 = -0.5;
const S3 = -Math.sqrt(3) / 2;

function radix3(st: Stage, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array): void {
  const { m, s, tw } = st;
  for (let p = 0; p < m; p++) {
    const t = p * 4;
    const w1r = tw[t]!;
    const w1i = tw[t + 1]!;
    const w2r = tw[t + 2]!;
    const w2i = tw[t + 3]!;
    const i0 = s * p;
    const i1 = s * (p + m);
    const i2 = s * (p + 2 * m);
    const o0 = s * 3 * p;
    const o1 = o0 + s;
    const o2 = o1 + s;
    for (let q = 0; q < s; q++) {
      const ar = xr[i0 + q]!;
      const ai = xi[i0 + q]!;
      const br = xr[i1 + q]!;
      const bi = xi[i1 + q]!;
      const cr = xr[i2 + q]!;
      const ci = xi[i2 + q]!;
      const sr = br + cr;
      const si = bi + ci;
      const mr = ar + C3 * sr;
      const mi = ai + C3 * si;
      // S3 * i * (b - c)
      const nr = -S3 * (bi - ci);
      const ni = S3 * (br - cr);
      yr[o0 + q] = ar + sr;
      yi[o0 + q] = ai + si;
      const y1r = mr + nr;
      const y1i = mi + ni;
      const y2r = mr - nr;
      const y2i = mi - ni;
      yr[o1 + q] = y1r * w1r - y1i * w1i;
      yi[o1 + q] = y1r * w1i + y1i * w1r;
      yr[o2 + q] = y2r * w2r - y2i * w2i;
      yi[o2 + q] = y2r * w2i + y2i * w2r;
    }
  }
}

const C51 = Math.cos((2 * Math.PI) / 5);
const C52 = Math.cos((4 * Math.PI) / 5);
const S51 = Math.sin((2 * Math.PI) / 5);
const S52 = Math.sin((4 * Math.PI) / 5);

function radix5(st: Stage, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array): void {
  const { m, s, tw } = st;
  for (let p = 0; p < m; p++) {
    const t = p * 8;
    const w1r = tw[t]!;
    const w1i = tw[t + 1]!;
    const w2r = tw[t + 2]!;
    const w2i = tw[t + 3]!;
    const w3r = tw[t + 4]!;
    const w3i = tw[t + 5]!;
    const w4r = tw[t + 6]!;
    const w4i = tw[t + 7]!;
    const i0 = s * p;
    const i1 = s * (p + m);
    const i2 = s * (p + 2 * m);
    const i3 = s * (p + 3 * m);
    const i4 = s * (p + 4 * m);
    const o0 = s * 5 * p;
    const o1 = o0 + s;
    const o2 = o1 + s;
    const o3 = o2 + s;
    const o4 = o3 + s;
    for (let q = 0; q < s; q++) {
      const ar = xr[i0 + q]!;
      const ai = xi[i0 + q]!;
      const br = xr[i1 + q]!;
      const bi = xi[i1 + q]!;
      const cr = xr[i2 + q]!;
      const ci = xi[i2 + q]!;
      const dr = xr[i3 + q]!;
      const di = xi[i3 + q]!;
      const er = xr[i4 + q]!;
      const ei = xi[i4 + q]!;
      const s14r = br + er;
      const s14i = bi + ei;
      const d14r = br - er;
      const d14i = bi - ei;
      const s23r = cr + dr;
      const s23i = ci + di;
      const d23r = cr - dr;
      const d23i = ci - di;
      const m1r = ar + C51 * s14r + C52 * s23r;
      const m1i = ai + C51 * s14i + C52 * s23i;
      const m2r = ar + C52 * s14r + C51 * s23r;
      const m2i = ai + C52 * s14i + C51 * s23i;
      // forward transform: -i * (S51 d14 + S52 d23) and -i * (S52 d14 - S51 d23)
      const n1r = S51 * d14i + S52 * d23i;
      const n1i = -(S51 * d14r + S52 * d23r);
      const n2r = S52 * d14i - S51 * d23i;
      const n2i = -(S52 * d14r - S51 * d23r);
      yr[o0 + q] = ar + s14r + s23r;
      yi[o0 + q] = ai + s14i + s23i;
      const y1r = m1r + n1r;
      const y1i = m1i + n1i;
      const y4r = m1r - n1r;
      const y4i = m1i - n1i;
      const y2r = m2r + n2r;
      const y2i = m2i + n2i;
      const y3r = m2r - n2r;
      const y3i = m2i - n2i;
      yr[o1 + q] = y1r * w1r - y1i * w1i;
      yi[o1 + q] = y1r * w1i + y1i * w1r;
      yr[o2 + q] = y2r * w2r - y2i * w2i;
      yi[o2 + q] = y2r * w2i + y2i * w2r;
      yr[o3 + q] = y3r * w3r - y3i * w3i;
      yi[o3 + q] = y3r * w3i + y3i * w3r;
      yr[o4 + q] = y4r * w4r - y4i * w4i;
      yi[o4 + q] = y4r * w4i + y4i * w4r;
    }
  }
}

/** Forward real FFT of length n: bins 0..n/2 of numpy.fft.rfft. */
export class RealFFT {
  readonly n: number;
  readonly bins: number;
  private readonly half: ComplexFFT | undefined;
  private readonly full: ComplexFFT | undefined;
  private readonly pow2: FFTJS | undefined;
  private readonly zr: Float64Array;
  private readonly zi: Float64Array;
  private readonly pr: Float64Array;
  private readonly pi: Float64Array;
  private readonly ioBuf: number[] | undefined;
  private readonly outBuf: number[] | undefined;

  constructor(n: number, opts: { useFftJs?: boolean } = {}) {
    if (!Number.isSafeInteger(n) || n < 1) throw new ConfigError(`fft: n_fft must be a positive integer, got ${n}`);
    this.n = n;
    this.bins = Math.floor(n / 2) + 1;
    const isPow2 = (n & (n - 1)) === 0;
    if (isPow2 && n >= 4 && opts.useFftJs !== false) {
      this.pow2 = new FFTJS(n);
      this.ioBuf = new Array<number>(n).fill(0);
      this.outBuf = this.pow2.createComplexArray();
    }
    if (n % 2 === 0 && n >= 2) {
      const h = n / 2;
      this.half = new ComplexFFT(h);
      this.zr = new Float64Array(h);
      this.zi = new Float64Array(h);
      // Post-processing twiddles exp(-2 pi i k / n), k < n/2.
      this.pr = new Float64Array(h);
      this.pi = new Float64Array(h);
      for (let k = 0; k < h; k++) {
        this.pr[k] = Math.cos((-2 * Math.PI * k) / n);
        this.pi[k] = Math.sin((-2 * Math.PI * k) / n);
      }
    } else {
      this.full = new ComplexFFT(n);
      this.zr = new Float64Array(n);
      this.zi = new Float64Array(n);
      this.pr = new Float64Array(0);
      this.pi = new Float64Array(0);
    }
  }

  /** re/im receive bins 0..n/2 (length >= bins). The input is not modified. */
  transform(x: Float64Array, re: Float64Array, im: Float64Array): void {
    const n = this.n;
    if (this.pow2) {
      const io = this.ioBuf!;
      const out = this.outBuf!;
      for (let i = 0; i < n; i++) io[i] = x[i]!;
      this.pow2.realTransform(out, io);
      for (let k = 0; k < this.bins; k++) {
        re[k] = out[2 * k]!;
        im[k] = out[2 * k + 1]!;
      }
      return;
    }
    const { zr, zi } = this;
    if (this.full) {
      zr.set(x.subarray(0, n));
      zi.fill(0);
      this.full.transform(zr, zi);
      for (let k = 0; k < this.bins; k++) {
        re[k] = zr[k]!;
        im[k] = zi[k]!;
      }
      return;
    }
    const h = n / 2;
    for (let j = 0; j < h; j++) {
      zr[j] = x[2 * j]!;
      zi[j] = x[2 * j + 1]!;
    }
    this.half!.transform(zr, zi);
    const { pr, pi } = this;
    // X[k] = E[k] + w^k O[k], E = (Z[k] + conj Z[h-k]) / 2, O = (Z[k] - conj Z[h-k]) / 2i.
    re[0] = zr[0]! + zi[0]!;
    im[0] = 0;
    re[h] = zr[0]! - zi[0]!;
    im[h] = 0;
    for (let k = 1; k < h; k++) {
      const ar = zr[k]!;
      const ai = zi[k]!;
      const br = zr[h - k]!;
      const bi = -zi[h - k]!;
      const er = 0.5 * (ar + br);
      const ei = 0.5 * (ai + bi);
      // (a - b) / 2i = (ai - bi)/2 - i (ar - br)/2
      const or = 0.5 * (ai - bi);
      const oi = -0.5 * (ar - br);
      const wr = pr[k]!;
      const wi = pi[k]!;
      re[k] = er + (or * wr - oi * wi);
      im[k] = ei + (or * wi + oi * wr);
    }
  }
}
