/** Worker-thread side of ParallelEncodec: one model per worker; encodes or decodes one segment per task. */
import { withTransfer, type Transferring } from '../engine/pool.js';
import type { EncodecConfig } from './config.js';
import { EncodecModel, type EncodedChunk, type Planar } from './model.js';
import { jsOps } from './ops.js';
import { wasmOps } from './ops-wasm.js';
import { loadEncodecWeights, randomTensors, weightsFromTensors } from './weights.js';

/** Where a worker gets its model: an HF folder, or random weights of a config (benchmarks). */
export type ModelSource = { modelDir: string; backend?: 'wasm' | 'js' } | { random: { config: EncodecConfig; seed: number } };

export type SegmentTask = { op: 'encode'; x: Planar; codebooks: number } | { op: 'decode'; chunk: EncodedChunk };
export type SegmentResult = EncodedChunk | Planar;

let model: EncodecModel | undefined;

export function buildModel(src: ModelSource): EncodecModel {
  if ('modelDir' in src) return new EncodecModel(loadEncodecWeights(src.modelDir), src.backend === 'js' ? jsOps : wasmOps());
  return new EncodecModel(weightsFromTensors(src.random.config, randomTensors(src.random.config, src.random.seed)), wasmOps());
}

export function init(src: ModelSource): void {
  model = buildModel(src);
}

export function run(t: SegmentTask): Transferring<SegmentResult> {
  if (!model) throw new Error('encodec segment worker used before init');
  if (t.op === 'encode') {
    const c = model.encodeSegment(t.x, t.codebooks);
    return withTransfer(c, [c.codes.buffer as ArrayBuffer]);
  }
  const y = model.decodeChunk(t.chunk);
  return withTransfer(y, [y.data.buffer as ArrayBuffer]);
}
