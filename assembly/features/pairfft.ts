// Two real FFTs at once: frame A in lane 0 and frame B in lane 1 of every f64x2, so each scalar operation of the
// mixed-radix Stockham FFT of src/features/fft.ts (radix 2, 3, 4, 5) becomes one vector operation on two frames.
// Every lane performs the scalar algorithm's float64 operations in the same order (no FMA, no reassociation), so
// each lane's bits are those of the same steps done in plain float64 (test/features/kernels.test.ts checks this).
//
// A complex vector of up to PLANE / 16 points holds its real parts at p (f64x2 per point) and its imaginary parts at
// p + PLANE; the caller (src/features/fftsimd.ts) lays out the regions and the splatted twiddles.

/** Bytes from a vector's real parts to its imaginary parts (and, for the output, on to the power spectrum). */
export const PLANE: usize = 65536;
/** Bytes from the first raw frame to the second (each up to 4096 f64). */
export const FRAME_B: usize = 32768;

// Butterfly constants as src/features/fft.ts computes them in JavaScript (Math.cos and Math.sin there), written
// out so that AssemblyScript's own Math cannot round them differently.
const C3: f64 = -0.5;
const S3: f64 = -0.8660254037844386; // -sqrt(3) / 2
const C51: f64 = 0.30901699437494745; // cos(2 pi / 5)
const C52: f64 = -0.8090169943749473; // cos(4 pi / 5)
const S51: f64 = 0.9510565162951535; // sin(2 pi / 5)
const S52: f64 = 0.5877852522924732; // sin(4 pi / 5)

// Vector constants are read from memory once per call: written inline, the optimizer puts a v128.const at every use
// inside the loops (V8 then builds it there each time) instead of keeping it in one register.
const HALF = memory.data<f64>([0.5, 0.5]);
const RADIX3 = memory.data<f64>([C3, C3, S3, S3, -S3, -S3]);
const RADIX5 = memory.data<f64>([C51, C51, C52, C52, S51, S51, S52, S52, 0, 0]);

/** Stores y * w (complex) at addr (re) and addr + PLANE (im), the output twiddle of every Stockham stage. */
// @ts-ignore: decorator
@inline
function storeTwiddled(addr: usize, yr: v128, yi: v128, wr: v128, wi: v128): void {
  v128.store(addr, f64x2.sub(f64x2.mul(yr, wr), f64x2.mul(yi, wi)));
  v128.store(addr, f64x2.add(f64x2.mul(yr, wi), f64x2.mul(yi, wr)), PLANE);
}

// One Stockham stage (ComplexFFT in fft.ts): for p < m and q < s, the radix-r butterfly of the inputs at
// q + s*(p + k*m) goes to q + s*(r*p + j), output j times the twiddle w_p^j. Twiddles are splatted pairs
// (re, then im) laid out p-major, 32 bytes per j. Byte offsets: q16 steps over q, S16 is one stride of s points.

export function stage2(src: usize, dst: usize, tw: usize, m: u32, s: u32): void {
  const S16 = <usize>s << 4;
  const k1 = <usize>m * S16;
  let inBase = src;
  let outBase = dst;
  let twp = tw;
  let p: u32 = 0;
  do {
    const w1r = v128.load(twp);
    const w1i = v128.load(twp, 16);
    let q16: usize = 0;
    do {
      const a = inBase + q16;
      const b = a + k1;
      const ar = v128.load(a);
      const ai = v128.load(a, PLANE);
      const br = v128.load(b);
      const bi = v128.load(b, PLANE);
      const o = outBase + q16;
      v128.store(o, f64x2.add(ar, br));
      v128.store(o, f64x2.add(ai, bi), PLANE);
      storeTwiddled(o + S16, f64x2.sub(ar, br), f64x2.sub(ai, bi), w1r, w1i);
      q16 += 16;
    } while (q16 < S16);
    twp += 32;
    inBase += S16;
    outBase += 2 * S16;
    p++;
  } while (p < m);
}

export function stage3(src: usize, dst: usize, tw: usize, m: u32, s: u32): void {
  const S16 = <usize>s << 4;
  const k1 = <usize>m * S16;
  const k2 = 2 * k1;
  const o2 = 2 * S16;
  const c3 = v128.load(RADIX3);
  const s3 = v128.load(RADIX3, 16);
  const ns3 = v128.load(RADIX3, 32);
  let inBase = src;
  let outBase = dst;
  let twp = tw;
  let p: u32 = 0;
  do {
    const w1r = v128.load(twp);
    const w1i = v128.load(twp, 16);
    const w2r = v128.load(twp, 32);
    const w2i = v128.load(twp, 48);
    let q16: usize = 0;
    do {
      const a = inBase + q16;
      const ar = v128.load(a);
      const ai = v128.load(a, PLANE);
      const br = v128.load(a + k1);
      const bi = v128.load(a + k1, PLANE);
      const cr = v128.load(a + k2);
      const ci = v128.load(a + k2, PLANE);
      const sr = f64x2.add(br, cr);
      const si = f64x2.add(bi, ci);
      const mr = f64x2.add(ar, f64x2.mul(c3, sr));
      const mi = f64x2.add(ai, f64x2.mul(c3, si));
      const nr = f64x2.mul(ns3, f64x2.sub(bi, ci));
      const ni = f64x2.mul(s3, f64x2.sub(br, cr));
      const o = outBase + q16;
      v128.store(o, f64x2.add(ar, sr));
      v128.store(o, f64x2.add(ai, si), PLANE);
      storeTwiddled(o + S16, f64x2.add(mr, nr), f64x2.add(mi, ni), w1r, w1i);
      storeTwiddled(o + o2, f64x2.sub(mr, nr), f64x2.sub(mi, ni), w2r, w2i);
      q16 += 16;
    } while (q16 < S16);
    twp += 64;
    inBase += S16;
    outBase += 3 * S16;
    p++;
  } while (p < m);
}

export function stage4(src: usize, dst: usize, tw: usize, m: u32, s: u32): void {
  const S16 = <usize>s << 4;
  const k1 = <usize>m * S16;
  const k2 = 2 * k1;
  const k3 = 3 * k1;
  const o2 = 2 * S16;
  const o3 = 3 * S16;
  let inBase = src;
  let outBase = dst;
  let twp = tw;
  let p: u32 = 0;
  do {
    const w1r = v128.load(twp);
    const w1i = v128.load(twp, 16);
    const w2r = v128.load(twp, 32);
    const w2i = v128.load(twp, 48);
    const w3r = v128.load(twp, 64);
    const w3i = v128.load(twp, 80);
    let q16: usize = 0;
    do {
      const a = inBase + q16;
      const ar = v128.load(a);
      const ai = v128.load(a, PLANE);
      const br = v128.load(a + k1);
      const bi = v128.load(a + k1, PLANE);
      const cr = v128.load(a + k2);
      const ci = v128.load(a + k2, PLANE);
      const dr = v128.load(a + k3);
      const di = v128.load(a + k3, PLANE);
      const s02r = f64x2.add(ar, cr);
      const s02i = f64x2.add(ai, ci);
      const d02r = f64x2.sub(ar, cr);
      const d02i = f64x2.sub(ai, ci);
      const s13r = f64x2.add(br, dr);
      const s13i = f64x2.add(bi, di);
      const d13r = f64x2.sub(bi, di);
      const d13i = f64x2.sub(dr, br);
      const o = outBase + q16;
      v128.store(o, f64x2.add(s02r, s13r));
      v128.store(o, f64x2.add(s02i, s13i), PLANE);
      storeTwiddled(o + S16, f64x2.add(d02r, d13r), f64x2.add(d02i, d13i), w1r, w1i);
      storeTwiddled(o + o2, f64x2.sub(s02r, s13r), f64x2.sub(s02i, s13i), w2r, w2i);
      storeTwiddled(o + o3, f64x2.sub(d02r, d13r), f64x2.sub(d02i, d13i), w3r, w3i);
      q16 += 16;
    } while (q16 < S16);
    twp += 96;
    inBase += S16;
    outBase += 4 * S16;
    p++;
  } while (p < m);
}

export function stage5(src: usize, dst: usize, tw: usize, m: u32, s: u32): void {
  const S16 = <usize>s << 4;
  const k1 = <usize>m * S16;
  const k2 = 2 * k1;
  const k3 = 3 * k1;
  const k4 = 4 * k1;
  const o2 = 2 * S16;
  const o3 = 3 * S16;
  const o4 = 4 * S16;
  const c51 = v128.load(RADIX5);
  const c52 = v128.load(RADIX5, 16);
  const s51 = v128.load(RADIX5, 32);
  const s52 = v128.load(RADIX5, 48);
  const zero = v128.load(RADIX5, 64);
  let inBase = src;
  let outBase = dst;
  let twp = tw;
  let p: u32 = 0;
  do {
    const w1r = v128.load(twp);
    const w1i = v128.load(twp, 16);
    const w2r = v128.load(twp, 32);
    const w2i = v128.load(twp, 48);
    const w3r = v128.load(twp, 64);
    const w3i = v128.load(twp, 80);
    const w4r = v128.load(twp, 96);
    const w4i = v128.load(twp, 112);
    let q16: usize = 0;
    do {
      const a = inBase + q16;
      const ar = v128.load(a);
      const ai = v128.load(a, PLANE);
      const br = v128.load(a + k1);
      const bi = v128.load(a + k1, PLANE);
      const cr = v128.load(a + k2);
      const ci = v128.load(a + k2, PLANE);
      const dr = v128.load(a + k3);
      const di = v128.load(a + k3, PLANE);
      const er = v128.load(a + k4);
      const ei = v128.load(a + k4, PLANE);
      const s14r = f64x2.add(br, er);
      const s14i = f64x2.add(bi, ei);
      const d14r = f64x2.sub(br, er);
      const d14i = f64x2.sub(bi, ei);
      const s23r = f64x2.add(cr, dr);
      const s23i = f64x2.add(ci, di);
      const d23r = f64x2.sub(cr, dr);
      const d23i = f64x2.sub(ci, di);
      const m1r = f64x2.add(f64x2.add(ar, f64x2.mul(c51, s14r)), f64x2.mul(c52, s23r));
      const m1i = f64x2.add(f64x2.add(ai, f64x2.mul(c51, s14i)), f64x2.mul(c52, s23i));
      const m2r = f64x2.add(f64x2.add(ar, f64x2.mul(c52, s14r)), f64x2.mul(c51, s23r));
      const m2i = f64x2.add(f64x2.add(ai, f64x2.mul(c52, s14i)), f64x2.mul(c51, s23i));
      const n1r = f64x2.add(f64x2.mul(s51, d14i), f64x2.mul(s52, d23i));
      const n1i = f64x2.sub(zero, f64x2.add(f64x2.mul(s51, d14r), f64x2.mul(s52, d23r)));
      const n2r = f64x2.sub(f64x2.mul(s52, d14i), f64x2.mul(s51, d23i));
      const n2i = f64x2.sub(zero, f64x2.sub(f64x2.mul(s52, d14r), f64x2.mul(s51, d23r)));
      const o = outBase + q16;
      v128.store(o, f64x2.add(f64x2.add(ar, s14r), s23r));
      v128.store(o, f64x2.add(f64x2.add(ai, s14i), s23i), PLANE);
      storeTwiddled(o + S16, f64x2.add(m1r, n1r), f64x2.add(m1i, n1i), w1r, w1i);
      storeTwiddled(o + o2, f64x2.add(m2r, n2r), f64x2.add(m2i, n2i), w2r, w2i);
      storeTwiddled(o + o3, f64x2.sub(m2r, n2r), f64x2.sub(m2i, n2i), w3r, w3i);
      storeTwiddled(o + o4, f64x2.sub(m1r, n1r), f64x2.sub(m1i, n1i), w4r, w4i);
      q16 += 16;
    } while (q16 < S16);
    twp += 128;
    inBase += S16;
    outBase += 5 * S16;
    p++;
  } while (p < m);
}

/**
 * Windowing and real-to-complex packing of both frames: point j of the h-point complex vector at dst is
 * (win[2j] * x[2j], win[2j+1] * x[2j+1]) with x lane by lane the f64 frames at y and y + FRAME_B; win holds each
 * value splatted.
 */
export function fill(h: u32, y: usize, win: usize, dst: usize): void {
  const end = y + (<usize>h << 4);
  let yp = y;
  let dp = dst;
  let wp = win;
  do {
    const even = f64x2.replace_lane(v128.load64_splat(yp), 1, load<f64>(yp, FRAME_B));
    const odd = f64x2.replace_lane(v128.load64_splat(yp, 8), 1, load<f64>(yp, FRAME_B + 8));
    v128.store(dp, f64x2.mul(even, v128.load(wp)));
    v128.store(dp, f64x2.mul(odd, v128.load(wp, 16)), PLANE);
    yp += 16;
    dp += 16;
    wp += 32;
  } while (yp < end);
}

/**
 * Untangles the h-point complex FFT Z at src into bins 0..h of the real FFT at out (re, then im at +PLANE and
 * re^2 + im^2 at +2*PLANE), as RealFFT in fft.ts: X[k] = E[k] + w^k O[k] with E, O from Z[k] and conj(Z[h-k]).
 * ptw holds the splatted twiddles exp(-2 pi i k / 2h), 32 bytes per k.
 */
export function post(src: usize, ptw: usize, h: u32, out: usize): void {
  const half = v128.load(HALF);
  let k: u32 = 0;
  do {
    const a = src + (<usize>(k == h ? 0 : k) << 4);
    const b = src + (<usize>(k == 0 ? 0 : h - k) << 4);
    const o = out + (<usize>k << 4);
    const w = ptw + (<usize>k << 5);
    const ar = v128.load(a);
    const ai = v128.load(a, PLANE);
    const br = v128.load(b);
    const nbi = v128.load(b, PLANE); // the conjugate's imaginary part is -nbi
    const er = f64x2.mul(half, f64x2.add(ar, br));
    const ei = f64x2.mul(half, f64x2.sub(ai, nbi));
    const or = f64x2.mul(half, f64x2.add(ai, nbi));
    const oi = f64x2.mul(half, f64x2.sub(br, ar));
    const wr = v128.load(w);
    const wi = v128.load(w, 16);
    const xr = f64x2.add(er, f64x2.sub(f64x2.mul(or, wr), f64x2.mul(oi, wi)));
    const xi = f64x2.add(ei, f64x2.add(f64x2.mul(or, wi), f64x2.mul(oi, wr)));
    v128.store(o, xr);
    v128.store(o, xi, PLANE);
    v128.store(o, f64x2.add(f64x2.mul(xr, xr), f64x2.mul(xi, xi)), 2 * PLANE);
    k++;
  } while (k <= h);
}

/**
 * Mel bands of both lanes' power spectra (f64x2 per bin at pow): out[m] = sum_j w[off[m] + j] * pow[start[m] + j]
 * over filter m's packed nonzero weights (f64 w, i32 start and off), summed in j order as applyMel in spectral.ts.
 */
export function mel(w: usize, start: usize, off: usize, nMels: u32, pow: usize, out: usize): void {
  let o = out;
  for (let m: u32 = 0; m < nMels; m++) {
    const at = <usize>m << 2;
    let pa = pow + (<usize>load<i32>(start + at) << 4);
    let wa = w + (<usize>load<i32>(off + at) << 3);
    const wend = w + (<usize>load<i32>(off + at, 4) << 3);
    let acc = f64x2.splat(0);
    while (wa < wend) {
      acc = f64x2.add(acc, f64x2.mul(v128.load64_splat(wa), v128.load(pa)));
      wa += 8;
      pa += 16;
    }
    v128.store(o, acc);
    o += 16;
  }
}
