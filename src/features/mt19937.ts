/**
 * numpy's legacy `np.random.RandomState(seed).random(n)`: MT19937 seeded by init_genrand (numpy's integer-seed
 * path) and 53-bit doubles from two 32-bit outputs ((a >> 5) * 2^26 + (b >> 6)) / 2^53.
 *
 * Why: librosa.griffinlim(random_state=seed) draws its initial phases this way, so the same seed gives the same
 * start here. Algorithm: Matsumoto & Nishimura 1998 (http://www.math.sci.hiroshima-u.ac.jp/m-mat/MT/emt.html);
 * the double construction is numpy's `legacy_double` / `random_standard_uniform` (numpy/random/src/legacy).
 */
import { ConfigError } from '../util/errors.js';

const N = 624;
const M = 397;

export class RandomState {
  private readonly mt = new Uint32Array(N);
  private mti = N;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new ConfigError(`random seed must be an integer in [0, 2^32 - 1], got ${seed}`, { subject: 'seed' });
    }
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      // 1812433253 * prev mod 2^32, split so the product stays exact in doubles.
      mt[i] = (((((prev & 0xffff0000) >>> 16) * 1812433253) << 16) + (prev & 0x0000ffff) * 1812433253 + i) >>> 0;
    }
  }

  /** The next 32-bit output (genrand_int32). */
  nextUint32(): number {
    const mt = this.mt;
    if (this.mti >= N) {
      for (let k = 0; k < N; k++) {
        const y = (mt[k]! & 0x80000000) | (mt[(k + 1) % N]! & 0x7fffffff);
        mt[k] = mt[(k + M) % N]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.mti = 0;
    }
    let y = mt[this.mti++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** A double in [0, 1) with 53 random bits (numpy's random_sample). */
  random(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
  }

  /** n doubles in [0, 1). */
  randomArray(n: number): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = this.random();
    return out;
  }
}
