/**
 * Worker side of the trainer: computes per-sequence losses and gradients with its own wasm instance.
 * Parameters, tokens, gradients and losses live in SharedArrayBuffers owned by the main thread;
 * each task names one sequence, and its gradient goes to that sequence's slot, so the main thread
 * can reduce them in sequence order whatever worker computed them.
 */
import { getEngine } from '../engine/wasm.js';
import type { TransformerConfig } from './api.js';
import { SequenceModel } from './seqmodel.js';

export interface GradTask {
  config: TransformerConfig;
  params: SharedArrayBuffer;
  /** Changes whenever the parameters change; the worker reloads them then. */
  version: number;
  tokens: SharedArrayBuffer; // Int32 [B, T]
  seqLen: number;
  seq: number;
  grad: boolean;
  grads: SharedArrayBuffer; // Float32 [B, total] (grad tasks)
  losses: SharedArrayBuffer; // Float64 [B]
}

let model: SequenceModel | undefined;
let configKey = '';
let loaded: { buf: SharedArrayBuffer; version: number } | undefined;

export function run(task: GradTask): null {
  const key = JSON.stringify(task.config);
  if (!model || key !== configKey) {
    model?.dispose();
    model = new SequenceModel(getEngine(), task.config);
    configKey = key;
    loaded = undefined;
  }
  if (!loaded || loaded.buf !== task.params || loaded.version !== task.version) {
    model.setParams(new Float32Array(task.params, 0, model.layout.total));
    loaded = { buf: task.params, version: task.version };
  }
  const T = task.seqLen;
  const tokens = new Int32Array(task.tokens, task.seq * T * 4, T);
  const loss = model.run(tokens, task.grad);
  new Float64Array(task.losses)[task.seq] = loss;
  if (task.grad) {
    const total = model.layout.total;
    new Float32Array(task.grads, task.seq * total * 4, total).set(model.eng.f32(model.grads));
  }
  return null;
}
