/**
 * LMIC's transformer_decoder on wavelm's engine: configuration, trainer (data-parallel over
 * sequences with a fixed-order reduction, so results are bit-identical for any worker count),
 * incremental predictor, and reference helpers (log-probs, loss and gradients of a batch).
 */
import { availableParallelism } from 'node:os';
import { getEngine, type Arena, type Block, type Engine } from '../engine/wasm.js';
import { WorkerPool } from '../engine/pool.js';
import { ConfigError, MismatchError } from '../util/errors.js';
import type {
  OptimizerConfig,
  OptimizerState,
  ParamSet,
  StepResult,
  TokenBatch,
  Trainer,
  TrainerOptions,
  TransformerConfig,
} from './api.js';
import { flattenParams, paramLayout, unflattenParams, validateConfig, type ParamLayout } from './config.js';
import { initFlatParams } from './init.js';
import { SequenceModel } from './seqmodel.js';
import type { GradTask } from './trainer-worker.js';

export {
  createAudioTransformerConfig,
  countParams,
  paramLayout,
  paramShapes,
  flattenParams,
  unflattenParams,
  validateConfig,
} from './config.js';
export type { AudioTransformerOptions, ParamLayout, ParamSpec } from './config.js';
export { initFlatParams, ParamInitRng } from './init.js';
export { createPredictor, KvPredictor } from './predictor.js';
export type { PredictorOptions } from './predictor.js';

function checkBatch(batch: TokenBatch, config: TransformerConfig): void {
  const { batchSize: B, seqLen: T, tokens } = batch;
  if (!Number.isInteger(B) || B < 1 || !Number.isInteger(T) || T < 1)
    throw new ConfigError(`batch of ${B} x ${T}: both must be positive integers`);
  if (tokens.length !== B * T) throw new MismatchError(`batch holds ${tokens.length} tokens, ${B} x ${T} = ${B * T} expected`);
  const V = config.vocabSize;
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i]! >= V)
      throw new MismatchError(
        `token ${tokens[i]} at index ${i} is outside the model's vocabulary (${V}); the tokens' bit depth must be the model's`,
      );
  }
}

/** Initial parameters for a configuration and seed (see init.ts for the scheme). */
export function initParams(config: TransformerConfig, seed: number): ParamSet {
  const layout = paramLayout(config);
  return unflattenParams(layout, initFlatParams(config, seed, layout));
}

/**
 * Log-probabilities [B, T, V], LMIC's loss and (optionally) its gradient for a batch, single-threaded.
 * Reference helper for tests and tools; the trainer computes the same loss and gradient.
 */
export function lossAndGradients(
  config: TransformerConfig,
  params: ParamSet,
  batch: TokenBatch,
  opts: { gradients?: boolean; logProbs?: boolean } = {},
): { loss: number; grads?: ParamSet; logProbs?: Float32Array } {
  validateConfig(config);
  checkBatch(batch, config);
  const eng = getEngine();
  const model = new SequenceModel(eng, config);
  try {
    const layout = model.layout;
    model.setParams(flattenParams(layout, params));
    const { batchSize: B, seqLen: T } = batch;
    const lp = opts.logProbs ? new Float32Array(B * T * config.vocabSize) : undefined;
    const sum = opts.gradients ? new Float64Array(layout.total) : undefined;
    let loss = 0;
    for (let b = 0; b < B; b++) {
      const seq = batch.tokens.subarray(b * T, (b + 1) * T);
      const row = lp ? new Float32Array(T * config.vocabSize) : undefined;
      loss += model.run(seq, !!sum, row);
      if (lp && row) lp.set(row, b * T * config.vocabSize);
      if (sum) {
        const g = eng.f32(model.grads);
        for (let i = 0; i < g.length; i++) sum[i] = sum[i]! + g[i]!;
      }
    }
    const out: { loss: number; grads?: ParamSet; logProbs?: Float32Array } = { loss: loss / B, logProbs: lp };
    if (sum)
      out.grads = unflattenParams(
        layout,
        Float32Array.from(sum, (v) => v / B),
      );
    return out;
  } finally {
    model.dispose();
  }
}

/** beta^step by repeated multiplication: exact and the same on every machine (no Math.pow). */
function powInt(beta: number, step: number): number {
  let r = 1;
  for (let i = 0; i < step; i++) r *= beta;
  return r;
}

class WasmTrainer implements Trainer {
  readonly config: TransformerConfig;
  readonly numParams: number;
  readonly workers: number;
  private readonly eng: Engine;
  private readonly layout: ParamLayout;
  private readonly model: SequenceModel; // its params block is the master copy
  private readonly arena: Arena;
  private readonly m: Block;
  private readonly v: Block;
  private readonly gsum: Block;
  private readonly gtmp: Block;
  private stepCount = 0;
  private pool: WorkerPool<GradTask, null> | undefined;
  private shared:
    | { params: SharedArrayBuffer; tokens: SharedArrayBuffer; grads: SharedArrayBuffer; losses: SharedArrayBuffer; B: number; T: number }
    | undefined;
  private version = 0;
  private sharedVersion = -1;
  private busy = false;

  constructor(config: TransformerConfig, seed: number, workers: number, pool: WorkerPool<GradTask, null> | undefined) {
    validateConfig(config);
    this.config = { ...config };
    this.eng = getEngine();
    this.layout = paramLayout(config);
    this.numParams = this.layout.count;
    this.workers = workers;
    this.pool = pool;
    this.model = new SequenceModel(this.eng, config);
    this.model.setParams(initFlatParams(config, seed, this.layout));
    this.arena = this.eng.arena();
    const n = this.layout.total;
    this.m = this.arena.f32(n, true);
    this.v = this.arena.f32(n, true);
    this.gsum = this.arena.f32(n, true);
    this.gtmp = this.arena.f32(n, true);
  }

  private ensureShared(B: number, T: number): NonNullable<WasmTrainer['shared']> {
    const n = this.layout.total;
    let s = this.shared;
    if (!s || s.B < B || s.T !== T) {
      s = this.shared = {
        params: s?.params ?? new SharedArrayBuffer(n * 4),
        tokens: new SharedArrayBuffer(B * T * 4),
        grads: new SharedArrayBuffer(B * n * 4),
        losses: new SharedArrayBuffer(B * 8),
        B,
        T,
      };
    }
    if (this.sharedVersion !== this.version) {
      new Float32Array(s.params).set(this.eng.f32(this.model.params));
      this.sharedVersion = this.version;
    }
    return s;
  }

  /** Per-sequence losses (and gradients, summed in sequence order into gsum). */
  private async compute(batch: TokenBatch, grad: boolean): Promise<number> {
    checkBatch(batch, this.config);
    if (this.busy) throw new Error('trainer: step() or evaluate() called while another call is running; await each call first');
    this.busy = true;
    try {
      return await this.computeInner(batch, grad);
    } finally {
      this.busy = false;
    }
  }

  private async computeInner(batch: TokenBatch, grad: boolean): Promise<number> {
    const { batchSize: B, seqLen: T } = batch;
    const k = this.eng.k;
    const n = this.layout.total;
    if (grad) this.eng.f32(this.gsum).fill(0);
    let loss = 0;
    if (!this.pool) {
      for (let b = 0; b < B; b++) {
        loss += this.model.run(batch.tokens.subarray(b * T, (b + 1) * T), grad);
        if (grad) k.vadd(n, this.gsum.ptr, this.model.grads.ptr, this.gsum.ptr);
      }
      return loss;
    }
    const s = this.ensureShared(B, T);
    const tok = new Int32Array(s.tokens, 0, B * T);
    for (let i = 0; i < B * T; i++) tok[i] = batch.tokens[i]!;
    const tasks: GradTask[] = [];
    for (let b = 0; b < B; b++) {
      tasks.push({
        config: this.config,
        params: s.params,
        version: this.version,
        tokens: s.tokens,
        seqLen: T,
        seq: b,
        grad,
        grads: s.grads,
        losses: s.losses,
      });
    }
    await this.pool.map(tasks);
    const losses = new Float64Array(s.losses);
    for (let b = 0; b < B; b++) {
      loss += losses[b]!;
      if (grad) {
        this.eng.f32(this.gtmp).set(new Float32Array(s.grads, b * n * 4, n));
        k.vadd(n, this.gsum.ptr, this.gtmp.ptr, this.gsum.ptr);
      }
    }
    return loss;
  }

  async step(batch: TokenBatch, opt: OptimizerConfig): Promise<StepResult> {
    const { batchSize: B, seqLen: T } = batch;
    const sum = await this.compute(batch, true);
    const k = this.eng.k;
    const n = this.layout.total;
    // gradient of the mean-over-batch loss, optionally divided by the sequence length
    const s = (1 / B) * (opt.normalizeByLength ? 1 / T : 1);
    const gradNorm = Math.sqrt(k.sumsq(n, this.gsum.ptr)) * s;
    let factor = 1;
    if (opt.clipNorm && opt.clipNorm > 0 && gradNorm > opt.clipNorm) factor = opt.clipNorm / gradNorm;
    this.stepCount++;
    const bc1 = 1 - powInt(opt.beta1, this.stepCount);
    const bc2 = 1 - powInt(opt.beta2, this.stepCount);
    k.adam(
      n,
      this.model.params.ptr,
      this.gsum.ptr,
      this.m.ptr,
      this.v.ptr,
      opt.learningRate,
      opt.beta1,
      opt.beta2,
      opt.eps,
      bc1,
      bc2,
      s * factor,
    );
    this.version++;
    return { loss: sum / B, gradNorm };
  }

  async evaluate(batch: TokenBatch): Promise<number> {
    return (await this.compute(batch, false)) / batch.batchSize;
  }

  getParams(): ParamSet {
    return unflattenParams(this.layout, this.eng.f32(this.model.params));
  }

  setParams(params: ParamSet): void {
    this.model.setParams(flattenParams(this.layout, params));
    this.version++;
  }

  getOptimizerState(): OptimizerState {
    return {
      step: this.stepCount,
      m: unflattenParams(this.layout, this.eng.f32(this.m)),
      v: unflattenParams(this.layout, this.eng.f32(this.v)),
    };
  }

  setOptimizerState(state: OptimizerState): void {
    if (!Number.isInteger(state.step) || state.step < 0)
      throw new ConfigError(`optimizer step must be a non-negative integer, got ${state.step}`);
    const m = flattenParams(this.layout, state.m, 'optimizer state m');
    const v = flattenParams(this.layout, state.v, 'optimizer state v');
    this.eng.f32(this.m).set(m);
    this.eng.f32(this.v).set(v);
    this.stepCount = state.step;
  }

  async dispose(): Promise<void> {
    await this.pool?.close();
    this.pool = undefined;
    this.arena.dispose();
    this.model.dispose();
  }
}

/**
 * A trainer for the configuration. workers (default: available cores) = 1 runs in this thread;
 * more run the sequences of a batch on a worker pool. Results are bit-identical for any value.
 */
export async function createTrainer(config: TransformerConfig, options: TrainerOptions): Promise<Trainer> {
  validateConfig(config);
  const workers = Math.max(1, Math.floor(options.workers ?? availableParallelism()));
  if (!Number.isInteger(options.seed)) throw new ConfigError(`seed must be an integer, got ${options.seed}`, { subject: 'seed' });
  const pool =
    workers > 1 ? await WorkerPool.create<GradTask, null>(new URL('./trainer-worker.js', import.meta.url), { size: workers }) : undefined;
  return new WasmTrainer(config, options.seed, workers, pool);
}
