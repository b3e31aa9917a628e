/**
 * A checkpoint as compression sees it: the predictor recipe for worker threads and the hashes that an
 * archive records. The weights hash covers every tensor's name, shape and float32 bytes in sorted name
 * order, and the config hash the model config as canonical JSON (sorted keys), so re-saving the same
 * model (other metadata, another step number) keeps archives decodable, while any change to a weight
 * or a config value is an EMISMATCH.
 */
import { createHash } from 'node:crypto';
import { resolveWorkerModule } from '../engine/pool.js';
import type { ParamSet, TransformerConfig } from '../model/api.js';
import { loadModel, type PipelineSettings } from '../model/checkpoint.js';
import type { CompressionModel } from './archive.js';

export interface LoadedCompressionModel extends CompressionModel {
  config: TransformerConfig;
  pipeline?: PipelineSettings;
  /** The model.safetensors file. */
  path: string;
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  return v;
}

export function configSha256(config: TransformerConfig): Uint8Array {
  return new Uint8Array(
    createHash('sha256')
      .update(JSON.stringify(canonical(config)))
      .digest(),
  );
}

export function weightsSha256(params: ParamSet): Uint8Array {
  const h = createHash('sha256');
  for (const name of Object.keys(params).sort()) {
    const t = params[name]!;
    h.update(`${name}:${t.shape.join('x')}\n`);
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return new Uint8Array(h.digest());
}

/** Loads a checkpoint (a model.safetensors file, a checkpoint directory or a run directory). */
export function loadCompressionModel(path: string): LoadedCompressionModel {
  const m = loadModel(path);
  return {
    spec: {
      module: resolveWorkerModule(new URL('./checkpoint-predictor.js', import.meta.url)),
      exportName: 'predictorFromCheckpoint',
      args: { path: m.path },
    },
    vocabSize: m.config.vocabSize,
    weightsSha256: weightsSha256(m.params),
    configSha256: configSha256(m.config),
    name: m.path,
    config: m.config,
    pipeline: m.pipeline,
    path: m.path,
  };
}

/** The chunk length a model was trained on (samples per chunk, from its pipeline settings), else 2048. */
export function defaultChunkLength(model: { pipeline?: PipelineSettings }): number {
  const p = model.pipeline;
  const n = p ? p.chunkSizeBytes / (p.bitDepth / 8) : NaN;
  return Number.isInteger(n) && n >= 1 && n <= 65536 ? n : 2048;
}
