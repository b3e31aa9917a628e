/** Builds the engine's incremental predictor from a checkpoint file, in whichever thread calls it. */
import type { IncrementalPredictor, ParamSet, TransformerConfig } from '../model/api.js';
import { loadModel } from '../model/checkpoint.js';
import { UnsupportedError } from '../util/errors.js';

type CreatePredictor = (params: ParamSet, config: TransformerConfig) => IncrementalPredictor | Promise<IncrementalPredictor>;

export async function predictorFromCheckpoint(args: unknown): Promise<IncrementalPredictor> {
  const { path } = args as { path: string };
  const m = loadModel(path);
  // The transformer lives in src/model/transformer.ts (the engine's side of the api.ts contract).
  const spec = '../model/transformer.js';
  let mod: { createPredictor?: CreatePredictor };
  try {
    mod = (await import(spec)) as { createPredictor?: CreatePredictor };
  } catch (e) {
    throw new UnsupportedError(`${path}: this build has no transformer predictor (src/model/transformer.ts)`, { subject: path, cause: e });
  }
  if (typeof mod.createPredictor !== 'function') throw new UnsupportedError('src/model/transformer.ts does not export createPredictor');
  return mod.createPredictor(m.params, m.config);
}
