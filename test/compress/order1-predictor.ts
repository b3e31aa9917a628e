/**
 * A deterministic stand-in for the transformer in compression tests: an adaptive order-1 count model
 * behind the IncrementalPredictor contract (probabilities as float32, like the engine's).
 */
import type { IncrementalPredictor, TransformerConfig } from '../../src/model/api.js';

export interface Order1Args {
  vocabSize?: number;
  /** Changes the prior, to make a "different model" whose probabilities differ. */
  prior?: number;
}

export class Order1Predictor implements IncrementalPredictor {
  readonly config: TransformerConfig;
  private counts: Float64Array;
  private prev = 0;
  private readonly out: Float32Array;
  private readonly v: number;
  private readonly prior: number;
  constructor(args: Order1Args = {}) {
    this.v = args.vocabSize ?? 256;
    this.prior = args.prior ?? 0.5;
    this.config = {
      vocabSize: this.v,
      embeddingDim: 0,
      numLayers: 0,
      numHeads: 0,
      wideningFactor: 0,
      embInitScale: 0,
      positionalEncoding: 'sinusoidal',
    };
    // 16-bit vocabularies are too large for a full order-1 table; they use order 0.
    this.counts = new Float64Array(this.v <= 256 ? this.v * this.v : this.v);
    this.out = new Float32Array(this.v);
  }
  private row(): Float32Array {
    const base = this.v <= 256 ? this.prev * this.v : 0;
    let total = 0;
    // 8-bit: a triangular kernel around the previous token makes it a usable (if crude) audio model.
    const k = (i: number): number => (this.v <= 256 ? Math.max(0, 24 - Math.abs(i - this.prev)) : 0);
    for (let i = 0; i < this.v; i++) total += this.counts[base + i]! + this.prior + k(i);
    for (let i = 0; i < this.v; i++) this.out[i] = (this.counts[base + i]! + this.prior + k(i)) / total;
    return this.out;
  }
  reset(): Float32Array {
    this.counts.fill(0);
    this.prev = 0;
    return this.row();
  }
  next(token: number): Float32Array {
    const base = this.v <= 256 ? this.prev * this.v : 0;
    this.counts[base + token]! += 1;
    if (this.v > 256) {
      // Smear counts over neighbours so 16-bit audio gets a usable model.
      for (let d = -64; d <= 64; d++) if (token + d >= 0 && token + d < this.v) this.counts[token + d]! += 0.05;
    }
    this.prev = token;
    return this.row();
  }
}

export function createOrder1(args: unknown): IncrementalPredictor {
  return new Order1Predictor((args ?? {}) as Order1Args);
}
