/**
 * A tiny deterministic Trainer for the training-loop tests: a bigram model (one logit row per previous
 * token, BOS 0 before the first) with LMIC's loss, length normalisation, global-norm clipping and Adam,
 * all in float64 JS arithmetic stored to float32. It implements src/model/api.ts's Trainer exactly as
 * the transformer does, so the loop, checkpoints and resume can be tested without the engine.
 */
import type {
  OptimizerConfig,
  OptimizerState,
  ParamSet,
  StepResult,
  TokenBatch,
  Trainer,
  TrainerOptions,
  TransformerConfig,
} from '../../src/model/api.js';
import { TrainingRng } from '../../src/model/training/rng.js';

const NAME = 'bigram.logits';

function clone(p: ParamSet): ParamSet {
  return Object.fromEntries(Object.entries(p).map(([k, t]) => [k, { shape: [...t.shape], data: t.data.slice() }]));
}

export class BigramTrainer implements Trainer {
  readonly config: TransformerConfig;
  readonly workers = 1;
  readonly numParams: number;
  private w: Float32Array;
  private m: Float32Array;
  private v: Float32Array;
  private t = 0;
  /** Every batch passed to step, for tests that check what the loop fed in. */
  readonly seen: TokenBatch[] = [];
  disposed = false;

  constructor(config: TransformerConfig, opts: TrainerOptions) {
    this.config = config;
    const V = config.vocabSize;
    this.numParams = V * V;
    this.w = new Float32Array(V * V);
    const rng = new TrainingRng(opts.seed);
    for (let i = 0; i < this.w.length; i++) this.w[i] = (rng.float() - 0.5) * 0.02;
    this.m = new Float32Array(V * V);
    this.v = new Float32Array(V * V);
  }

  private lossAndGrad(batch: TokenBatch, grad?: Float64Array): number {
    const V = this.config.vocabSize;
    const { tokens, batchSize, seqLen } = batch;
    const probs = new Map<number, Float64Array>();
    const row = (prev: number): Float64Array => {
      let p = probs.get(prev);
      if (p) return p;
      p = new Float64Array(V);
      let max = -Infinity;
      for (let j = 0; j < V; j++) max = Math.max(max, this.w[prev * V + j]!);
      let sum = 0;
      for (let j = 0; j < V; j++) sum += p[j] = Math.exp(this.w[prev * V + j]! - max);
      for (let j = 0; j < V; j++) p[j]! /= sum;
      probs.set(prev, p);
      return p;
    };
    let total = 0;
    for (let b = 0; b < batchSize; b++) {
      let prev = 0;
      for (let t = 0; t < seqLen; t++) {
        const tok = tokens[b * seqLen + t]!;
        const p = row(prev);
        total -= Math.log(p[tok]!);
        if (grad) {
          for (let j = 0; j < V; j++) grad[prev * V + j]! += p[j]! / batchSize;
          grad[prev * V + tok]! -= 1 / batchSize;
        }
        prev = tok;
      }
    }
    return total / batchSize;
  }

  async step(batch: TokenBatch, opt: OptimizerConfig): Promise<StepResult> {
    this.seen.push({ ...batch, tokens: batch.tokens.slice() });
    const g = new Float64Array(this.w.length);
    const loss = this.lossAndGrad(batch, g);
    if (opt.normalizeByLength) for (let i = 0; i < g.length; i++) g[i]! /= batch.seqLen;
    let sq = 0;
    for (let i = 0; i < g.length; i++) sq += g[i]! * g[i]!;
    const gradNorm = Math.sqrt(sq);
    const scale = opt.clipNorm && gradNorm > opt.clipNorm ? opt.clipNorm / gradNorm : 1;
    this.t++;
    const bc1 = 1 - opt.beta1 ** this.t;
    const bc2 = 1 - opt.beta2 ** this.t;
    for (let i = 0; i < g.length; i++) {
      const gi = g[i]! * scale;
      this.m[i] = opt.beta1 * this.m[i]! + (1 - opt.beta1) * gi;
      this.v[i] = opt.beta2 * this.v[i]! + (1 - opt.beta2) * gi * gi;
      this.w[i] = this.w[i]! - (opt.learningRate * (this.m[i]! / bc1)) / (Math.sqrt(this.v[i]! / bc2) + opt.eps);
    }
    return { loss, gradNorm };
  }

  async evaluate(batch: TokenBatch): Promise<number> {
    return this.lossAndGrad(batch);
  }

  getParams(): ParamSet {
    const V = this.config.vocabSize;
    return clone({ [NAME]: { shape: [V, V], data: this.w } });
  }

  setParams(params: ParamSet): void {
    this.w = params[NAME]!.data.slice();
  }

  getOptimizerState(): OptimizerState {
    const V = this.config.vocabSize;
    return { step: this.t, m: clone({ [NAME]: { shape: [V, V], data: this.m } }), v: clone({ [NAME]: { shape: [V, V], data: this.v } }) };
  }

  setOptimizerState(state: OptimizerState): void {
    this.t = state.step;
    this.m = state.m[NAME]!.data.slice();
    this.v = state.v[NAME]!.data.slice();
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }
}

export async function createBigramTrainer(config: TransformerConfig, opts: TrainerOptions): Promise<Trainer> {
  return new BigramTrainer(config, opts);
}

/**
 * Synthetic "audio-like" tokens: a random walk around 128 (so neighbouring tokens are close and a
 * bigram model has something to learn), seeded.
 */
export function syntheticTokens(n: number, seed: number): Uint8Array {
  const rng = new TrainingRng(seed);
  const out = new Uint8Array(n);
  let x = 128;
  for (let i = 0; i < n; i++) {
    x += rng.int(7) - 3;
    x = Math.max(100, Math.min(156, x));
    out[i] = x;
  }
  return out;
}
