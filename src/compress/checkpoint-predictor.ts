/**
 * Predictor factories for chunk workers (PredictorSpec targets): the engine's KV-cache predictor from a
 * checkpoint file, or from seeded random weights (benchmarks and tests of the real engine path).
 */
import type { IncrementalPredictor, TransformerConfig } from '../model/api.js';
import { loadModel } from '../model/checkpoint.js';
import { createPredictor, initParams } from '../model/transformer.js';

export async function predictorFromCheckpoint(args: unknown): Promise<IncrementalPredictor> {
  const { path, capacity } = args as { path: string; capacity?: number };
  const m = loadModel(path);
  return createPredictor(m.params, m.config, { capacity: capacity ?? 2048 });
}

export async function predictorFromSeed(args: unknown): Promise<IncrementalPredictor> {
  const { config, seed, capacity } = args as { config: TransformerConfig; seed: number; capacity?: number };
  return createPredictor(initParams(config, seed), config, { capacity: capacity ?? 2048 });
}
