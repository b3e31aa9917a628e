/**
 * The training loop's random numbers: xoshiro128** (Blackman and Vigna, 2018), 32-bit state words
 * seeded by splitmix32. Chosen because its whole state is four uint32 values, so a checkpoint can store
 * it in JSON and `--resume` draws exactly the numbers an uninterrupted run would have drawn, and
 * because it needs only 32-bit integer arithmetic (Math.imul), which is exact in JavaScript on every
 * machine. Not for cryptography.
 */
import { ConfigError } from '../../util/errors.js';

/** Serialised generator state: the four 32-bit words, as unsigned integers. */
export type RngState = [number, number, number, number];

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** splitmix32 step, used only to spread a user seed over the 128-bit state (never all zero). */
function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** The batch sampler's generator (parameter initialisation has its own, ParamInitRng in src/model/init.ts). */
export class TrainingRng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** A generator for an integer seed (any safe integer; the high and low 32 bits are both used). */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new ConfigError(`seed must be an integer, got ${seed}`, { subject: String(seed) });
    const hi = Math.floor(seed / 2 ** 32) >>> 0;
    const sm = splitmix32((seed >>> 0) ^ Math.imul(hi, 0x27d4eb2d));
    this.s0 = sm();
    this.s1 = sm();
    this.s2 = sm();
    this.s3 = sm();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  static fromState(state: RngState): TrainingRng {
    const r = new TrainingRng(0);
    r.setState(state);
    return r;
  }

  getState(): RngState {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  setState(state: readonly number[]): void {
    if (state.length !== 4 || !state.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff) || state.every((w) => w === 0)) {
      throw new ConfigError(`RNG state must be four uint32 words, not all zero; got ${JSON.stringify(state)}`);
    }
    [this.s0, this.s1, this.s2, this.s3] = state as RngState;
  }

  /** Next uniformly distributed uint32. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform integer in [0, n) without modulo bias (rejection sampling); n in 1..2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 2 ** 32) throw new ConfigError(`TrainingRng.int: range must be 1..2^32, got ${n}`);
    if (n === 1) return 0;
    // Reject the top partial bucket so every value has the same number of preimages.
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return x % n;
    }
  }

  /** Uniform float in [0, 1) with 32 bits of randomness. */
  float(): number {
    return this.nextU32() / 2 ** 32;
  }
}
