/**
 * The contract between the transformer implementation (engine + model), the training loop and the
 * LM compressor. The transformer side implements these; training and compression use only these.
 * Parameter names follow ../shared/fixtures/lmic-transformer (embed.embeddings, layers.{i}.attn.q.weight, ...),
 * weights stored [in, out] as Haiku does (y = x @ W + b).
 */

export type PositionalEncoding = 'sinusoidal' | 'rotary';

export interface TransformerConfig {
  /** 256 for 8-bit tokens, 65536 for 16-bit tokens (docs/background.md). */
  vocabSize: number;
  embeddingDim: number;
  numLayers: number;
  numHeads: number;
  /** FFN hidden size = wideningFactor * embeddingDim. */
  wideningFactor: number;
  /** Std of the token embedding's truncated normal init (LMIC: 0.02). */
  embInitScale: number;
  /** LMIC's sinusoidal table (with its quirk) or rotary embeddings. */
  positionalEncoding: PositionalEncoding;
}

/** A named parameter tensor (float32, row-major). */
export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

export type ParamSet = Record<string, NamedTensor>;

export interface OptimizerConfig {
  /** Adam learning rate (LMIC/seed default 1e-4). */
  learningRate: number;
  beta1: number; // 0.9
  beta2: number; // 0.999
  eps: number; // 1e-8
  /** Global gradient-norm clip; 0 or undefined disables it. */
  clipNorm?: number;
  /** Divide the gradient by the sequence length (LMIC's normalisation option). */
  normalizeByLength?: boolean;
}

/** A batch of token sequences, row-major [batchSize, seqLen]. Targets are the tokens themselves (shift-right inside). */
export interface TokenBatch {
  tokens: Uint8Array | Uint16Array;
  batchSize: number;
  seqLen: number;
}

export interface StepResult {
  /** LMIC's loss: -mean over the batch of the summed log-likelihood per sequence (nats), before the update. */
  loss: number;
  /** Global L2 norm of the gradient before clipping. */
  gradNorm: number;
}

export interface OptimizerState {
  step: number;
  m: ParamSet;
  v: ParamSet;
}

/** Owns parameters, optimizer state and the worker pool. Deterministic for any number of workers. */
export interface Trainer {
  readonly config: TransformerConfig;
  readonly numParams: number;
  readonly workers: number;
  /** One forward + backward + Adam update. */
  step(batch: TokenBatch, opt: OptimizerConfig): Promise<StepResult>;
  /** Loss only (same definition as StepResult.loss), no update. */
  evaluate(batch: TokenBatch): Promise<number>;
  getParams(): ParamSet;
  setParams(params: ParamSet): void;
  getOptimizerState(): OptimizerState;
  setOptimizerState(state: OptimizerState): void;
  dispose(): Promise<void>;
}

export interface TrainerOptions {
  /** Seed for parameter initialisation. */
  seed: number;
  /** Worker threads (default: available cores). Results are bit-identical for any value. */
  workers?: number;
}

/**
 * Single-threaded incremental inference with a key/value cache, in the calling thread's own wasm
 * instance (usable inside a worker). Used by compression and decompression alike, so both see
 * bit-identical probabilities.
 */
export interface IncrementalPredictor {
  readonly config: TransformerConfig;
  /** Starts a new sequence; returns the distribution of the first token (context: BOS 0). */
  reset(): Float32Array;
  /** Feeds the token at the current position; returns the distribution of the next one. Probabilities (sum ~1), computed in wasm. */
  next(token: number): Float32Array;
}
