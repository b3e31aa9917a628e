// The MFCC's DCT over blocks of frames: out[k][t] = sum_i basis[k][i] * src[i][t], src and out rows of tb f64
// frames (tb a multiple of 8), eight frames (four f64x2 accumulators) at a time, so that each src row segment read
// is one cache line. The sum runs over i in ascending order, as the scalar loop in src/features/spectral.ts does.
export function dct(src: usize, basis: usize, out: usize, nIn: u32, nOut: u32, tb: u32): void {
  const row = <usize>tb << 3;
  for (let k: u32 = 0; k < nOut; k++) {
    const bk = basis + ((<usize>k * nIn) << 3);
    const ok = out + <usize>k * row;
    for (let t8: usize = 0; t8 < row; t8 += 64) {
      let a0 = f64x2.splat(0);
      let a1 = f64x2.splat(0);
      let a2 = f64x2.splat(0);
      let a3 = f64x2.splat(0);
      let bp = bk;
      let sp = src + t8;
      for (let i: u32 = 0; i < nIn; i++) {
        const b = v128.load64_splat(bp);
        a0 = f64x2.add(a0, f64x2.mul(b, v128.load(sp)));
        a1 = f64x2.add(a1, f64x2.mul(b, v128.load(sp, 16)));
        a2 = f64x2.add(a2, f64x2.mul(b, v128.load(sp, 32)));
        a3 = f64x2.add(a3, f64x2.mul(b, v128.load(sp, 48)));
        bp += 8;
        sp += row;
      }
      v128.store(ok + t8, a0);
      v128.store(ok + t8, a1, 16);
      v128.store(ok + t8, a2, 32);
      v128.store(ok + t8, a3, 48);
    }
  }
}
