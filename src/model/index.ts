/** The model side of src/model: LMIC's transformer on wavelm's engine (see docs/engine.md). */
export type {
  PositionalEncoding,
  TransformerConfig,
  NamedTensor,
  ParamSet,
  OptimizerConfig,
  TokenBatch,
  StepResult,
  OptimizerState,
  Trainer,
  TrainerOptions,
  IncrementalPredictor,
} from './api.js';
export {
  createAudioTransformerConfig,
  countParams,
  createTrainer,
  createPredictor,
  KvPredictor,
  initParams,
  lossAndGradients,
  paramLayout,
  paramShapes,
  flattenParams,
  unflattenParams,
  validateConfig as validateTransformerConfig,
  type AudioTransformerOptions,
  type ParamLayout,
  type ParamSpec,
  type PredictorOptions,
} from './transformer.js';
export { getEngine, createEngine, Engine, Arena, kernelsPath, type Block, type Kernels } from '../engine/wasm.js';
export { WorkerPool, withTransfer, type PoolOptions, type Transferring } from '../engine/pool.js';
