/**
 * FFCV's quasi-random order for data that does not fit the page cache: the file is cut into blocks of
 * consecutive samples, the blocks are visited in a random order, and samples are shuffled within
 * windows of `blocksPerWindow` blocks. Reads stay within a few regions of the file at a time while
 * every epoch is still a permutation, different for each (seed, epoch).
 */
import { Permutation } from './permutation.js';
import type { Order, OrderOptions } from './types.js';

export interface QuasiRandomOptions extends OrderOptions {
  /** Samples per block (default 64). */
  blockSize?: number;
  /** Blocks shuffled together (default 8). */
  blocksPerWindow?: number;
}

export class QuasiRandomOrder implements Order {
  private readonly blockSize: number;
  private readonly window: number;
  private readonly nBlocks: number;
  private readonly blocks: Permutation;
  private readonly o: OrderOptions;
  private cache: { w: number; perm: Permutation; size: number; ids: number[] } | undefined;

  constructor(
    readonly length: number,
    o: QuasiRandomOptions,
  ) {
    this.blockSize = Math.max(1, o.blockSize ?? 64);
    this.window = Math.max(1, o.blocksPerWindow ?? 8);
    this.nBlocks = Math.ceil(length / this.blockSize);
    // Full blocks are shuffled; a short last block stays last so every window but the last is full
    // and position -> window is a division.
    this.blocks = new Permutation(Math.floor(length / this.blockSize), o.seed, o.epoch, 0x51524e44);
    this.o = o;
  }

  at(p: number): number {
    const bs = this.blockSize;
    const w = Math.floor(p / (bs * this.window));
    if (!this.cache || this.cache.w !== w) {
      // Blocks of this window, in shuffled block order.
      const ids: number[] = [];
      for (let b = w * this.window; b < Math.min(this.nBlocks, (w + 1) * this.window); b++)
        ids.push(b < this.blocks.n ? this.blocks.at(b) : b);
      const size = ids.reduce((a, id) => a + Math.min(bs, this.length - id * bs), 0);
      this.cache = { w, ids, size, perm: new Permutation(size, this.o.seed, this.o.epoch, 0x5157 + w) };
    }
    let q = this.cache.perm.at(p - w * bs * this.window);
    // Map q to (block, offset) by walking the window's blocks.
    for (const id of this.cache.ids) {
      const len = Math.min(bs, this.length - id * bs);
      if (q < len) return id * bs + q;
      q -= len;
    }
    throw new RangeError(`quasi-random position ${p} is out of range`);
  }
}
