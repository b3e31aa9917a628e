// The resampler's polyphase dot products (src/features/resample.ts) in f64x2 with four accumulators: output t
// reads the k8 taps of branch ph (at b + ph*k8*8) against x from index iLow, then ph advances by dr and iLow by dq
// (plus one when ph wraps past up). k8 is a multiple of 8 (branches are zero-padded to it). Lane l of accumulator
// j sums the products of taps 8i + 2j + l in i order; the output is ((a0 + a1) + (a2 + a3)), lane 0 plus lane 1.
export function poly(x: usize, b: usize, out: usize, n: u32, ph: u32, iLow: u32, up: u32, dq: u32, dr: u32, k8: u32): void {
  const branchBytes = <usize>k8 << 3;
  if (n == 0) return;
  let o = out;
  do {
    let ba = b + <usize>ph * branchBytes;
    const bend = ba + branchBytes;
    let xa = x + (<usize>iLow << 3);
    let a0 = f64x2.splat(0);
    let a1 = f64x2.splat(0);
    let a2 = f64x2.splat(0);
    let a3 = f64x2.splat(0);
    do {
      a0 = f64x2.add(a0, f64x2.mul(v128.load(ba), v128.load(xa)));
      a1 = f64x2.add(a1, f64x2.mul(v128.load(ba, 16), v128.load(xa, 16)));
      a2 = f64x2.add(a2, f64x2.mul(v128.load(ba, 32), v128.load(xa, 32)));
      a3 = f64x2.add(a3, f64x2.mul(v128.load(ba, 48), v128.load(xa, 48)));
      xa += 64;
      ba += 64;
    } while (ba < bend);
    const s = f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3));
    store<f64>(o, f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1));
    o += 8;
    ph += dr;
    iLow += dq;
    if (ph >= up) {
      ph -= up;
      iLow++;
    }
  } while (--n != 0);
}
