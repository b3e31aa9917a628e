/**
 * A keyed bijection on 0..n-1 (a balanced Feistel network over the next power of four, with cycle
 * walking), so the i-th element of an epoch's shuffled order is computed in O(1) from (seed, epoch, i)
 * without materialising the permutation. That is what makes a loader position {seed, epoch, cursor}
 * resumable in O(1) time and memory.
 */
function mix(x: number, k: number): number {
  // murmur3's finaliser on (x ^ key): cheap, well mixed, 32-bit exact in JavaScript.
  let h = (x ^ k) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export function hash32(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) h = mix((h + (p >>> 0)) >>> 0, Math.imul(h, 0x27d4eb2d) ^ ((p / 4294967296) >>> 0));
  return h;
}

export class Permutation {
  private readonly half: number;
  private readonly mask: number;
  private readonly keys: number[];

  constructor(
    readonly n: number,
    seed: number,
    epoch: number,
    salt = 0,
  ) {
    if (!Number.isInteger(n) || n < 0 || n > 2 ** 32) throw new RangeError(`permutation size ${n} must be an integer in 0..2^32`);
    let bits = 2;
    while (2 ** bits < n) bits += 2;
    this.half = bits / 2;
    this.mask = 2 ** this.half - 1;
    this.keys = Array.from({ length: 6 }, (_, r) => hash32(seed, epoch, salt, r));
  }

  private encrypt(x: number): number {
    let l = Math.floor(x / 2 ** this.half);
    let r = x % 2 ** this.half;
    for (const k of this.keys) {
      const t = l ^ (mix(r, k) & this.mask);
      l = r;
      r = t >>> 0;
    }
    return l * 2 ** this.half + r;
  }

  /** The element at position i of the permuted order. */
  at(i: number): number {
    if (this.n <= 1) return i;
    let x = i;
    do x = this.encrypt(x);
    while (x >= this.n);
    return x;
  }
}
