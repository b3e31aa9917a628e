/**
 * Checkpoints: everything needed to continue a run bit-exactly, in one directory per step under
 * `<run>/checkpoints/`:
 * - `model.safetensors`: the parameters (F32, the names of src/model/api.ts), with the model config
 *   and pipeline settings in the safetensors metadata so the file alone is a usable model;
 * - `optimizer.safetensors`: Adam's moments as `m/<param>` and `v/<param>`, its step in the metadata;
 * - `state.json`: step, model config, pipeline settings, training options, the data position
 *   (batches drawn and the sampler's RNG state) and the logging accumulators.
 * `<run>/checkpoints/latest.json` names the newest complete one. Each checkpoint is written into a
 * temporary directory that is renamed when complete, and latest.json is replaced atomically after
 * that, so a crash at any moment leaves the previous checkpoint intact and named.
 */
import type { LrScheduleName } from './schedule.js';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, FormatError, MismatchError, NotFoundError } from '../util/errors.js';
import { readSafetensors, writeSafetensors, type SafetensorsFile, type TensorData } from '../util/safetensors.js';
import type { OptimizerState, ParamSet, TransformerConfig, Trainer } from './api.js';
import { writeJsonAtomic } from './logging.js';
import type { RngState } from './training/rng.js';

/** How audio became tokens; the compressor must use the same to reproduce the training distribution. */
export interface PipelineSettings {
  bitDepth: 8 | 16;
  conversion: string;
  blockingSize: number;
  chunkSizeBytes: number;
}

export interface TrainingSettings {
  seqLen: number;
  batchSize: number;
  seed: number;
  learningRate: number;
  clipNorm: number;
  normalizeByLength: boolean;
  /** The learning-rate schedule (absent in checkpoints written before schedules: constant, no warm-up). */
  lrSchedule?: LrScheduleName;
  warmupSteps?: number;
  minLearningRate?: number;
  /** The schedule's length: the --steps of the run that started it. */
  scheduleSteps?: number;
}

/** Sums over the current logging interval (kept so a resumed run's averages match an uninterrupted one). */
export interface LogAccumulator {
  loss: number;
  gradNorm: number;
  count: number;
}

export interface CheckpointState {
  format: 'wavelm-checkpoint';
  version: 1;
  step: number;
  model: TransformerConfig;
  numParams: number;
  pipeline: PipelineSettings;
  training: TrainingSettings;
  data: {
    /** sha256 over the training and validation tokens: resuming on different data is refused. */
    fingerprint: string;
    trainChunks: number;
    validChunks: number;
    /** The data position: every batch so far came from this generator; its state draws the next. */
    rng: RngState;
  };
  log: LogAccumulator;
  lastLoss: number | null;
  lastValidLoss: number | null;
  /** Seconds of training before this checkpoint, summed over resumes. */
  trainSeconds: number;
  createdAt: string;
}

export interface LoadedCheckpoint {
  dir: string;
  state: CheckpointState;
  params: ParamSet;
  optimizer: OptimizerState;
}

const STEP_DIGITS = 8;

export function checkpointDirName(step: number): string {
  return `step-${String(step).padStart(STEP_DIGITS, '0')}`;
}

/** Reads a safetensors file (util's reader; named here so checkpoint callers need one import). */
export function readSafetensorsFile(path: string): SafetensorsFile {
  return readSafetensors(path);
}

function f32(data: TensorData, name: string, file: string): Float32Array {
  if (!(data instanceof Float32Array)) throw new FormatError(`${file}: tensor ${name} is not F32`, { subject: file });
  return data;
}

/** Writes a bare model.safetensors: the parameters with the config and pipeline in its metadata (what loadModel reads). */
export function writeModelFile(
  path: string,
  params: ParamSet,
  config: TransformerConfig,
  pipeline: PipelineSettings | undefined,
  step: number,
): void {
  const meta: Record<string, string> = {
    format: 'wavelm-model',
    config: JSON.stringify(config),
    ...(pipeline ? { pipeline: JSON.stringify(pipeline) } : {}),
    step: String(step),
  };
  writeSafetensors(path, params, meta);
}

/** Writes a checkpoint for `trainer` under `<runDir>/checkpoints/` and makes it the latest. Returns its directory. */
export function writeCheckpoint(runDir: string, trainer: Trainer, state: CheckpointState, keep = 3): string {
  const root = join(runDir, 'checkpoints');
  mkdirSync(root, { recursive: true });
  const name = checkpointDirName(state.step);
  const final = join(root, name);
  const tmp = join(root, `${name}.tmp`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  writeModelFile(join(tmp, 'model.safetensors'), trainer.getParams(), state.model, state.pipeline, state.step);
  const opt = trainer.getOptimizerState();
  const moments: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [k, t] of Object.entries(opt.m)) moments[`m/${k}`] = t;
  for (const [k, t] of Object.entries(opt.v)) moments[`v/${k}`] = t;
  writeSafetensors(join(tmp, 'optimizer.safetensors'), moments, { format: 'wavelm-adam', step: String(opt.step) });
  writeJsonAtomic(join(tmp, 'state.json'), state);
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  writeJsonAtomic(join(root, 'latest.json'), { step: state.step, dir: name });
  pruneCheckpoints(root, keep, name);
  return final;
}

function pruneCheckpoints(root: string, keep: number, latest: string): void {
  if (keep <= 0) return;
  const dirs = readdirSync(root)
    .filter((d) => /^step-\d+$/.test(d))
    .sort();
  for (const d of dirs.slice(0, Math.max(0, dirs.length - keep))) if (d !== latest) rmSync(join(root, d), { recursive: true, force: true });
}

/** The newest complete checkpoint directory of a run, or undefined when it has none. */
export function latestCheckpoint(runDir: string): string | undefined {
  const root = join(runDir, 'checkpoints');
  const latest = join(root, 'latest.json');
  if (!existsSync(latest)) return undefined;
  let info: { dir?: unknown } | null;
  try {
    info = JSON.parse(readFileSync(latest, 'utf8')) as { dir?: unknown } | null;
  } catch (e) {
    throw new FormatError(`${latest}: not valid JSON; delete it to resume from the newest step-* directory by hand`, {
      subject: latest,
      cause: e,
    });
  }
  if (typeof info?.dir !== 'string' || !/^step-\d+$/.test(info.dir))
    throw new FormatError(`${latest}: no checkpoint directory named`, { subject: latest });
  return join(root, info.dir);
}

/** Resolves a run directory, a checkpoint directory or a model.safetensors path to a checkpoint directory. */
export function resolveCheckpointDir(path: string): string {
  const p = resolve(path);
  if (!existsSync(p)) throw new NotFoundError(`${path}: no such checkpoint or run directory`, { subject: path });
  if (statSync(p).isFile()) return resolve(p, '..');
  if (existsSync(join(p, 'state.json'))) return p;
  const latest = latestCheckpoint(p);
  if (!latest)
    throw new NotFoundError(
      `${path}: no checkpoint found (expected ${join(path, 'checkpoints', 'latest.json')}): a training run writes one at its ` +
        'checkpoint interval and when it finishes',
      { subject: path },
    );
  return latest;
}

/** Reads a checkpoint (run dir, checkpoint dir, or its model.safetensors), checking every tensor against the config. */
export function readCheckpoint(path: string): LoadedCheckpoint {
  const dir = resolveCheckpointDir(path);
  const statePath = join(dir, 'state.json');
  if (!existsSync(statePath)) throw new NotFoundError(`${dir}: state.json is missing; the checkpoint is incomplete`, { subject: dir });
  let state: CheckpointState | null;
  try {
    state = JSON.parse(readFileSync(statePath, 'utf8')) as CheckpointState | null;
  } catch (e) {
    throw new FormatError(`${statePath}: not valid JSON`, { subject: statePath, cause: e });
  }
  if (state?.format !== 'wavelm-checkpoint' || state.version !== 1)
    throw new FormatError(`${statePath}: not a wavelm checkpoint (format ${String(state?.format)}, version ${String(state?.version)})`, {
      subject: statePath,
    });
  const modelPath = join(dir, 'model.safetensors');
  const optPath = join(dir, 'optimizer.safetensors');
  for (const p of [modelPath, optPath])
    if (!existsSync(p)) throw new NotFoundError(`${p} is missing; the checkpoint is incomplete`, { subject: p });
  const model = readSafetensorsFile(modelPath);
  const params: ParamSet = {};
  for (const [k, t] of model.tensors) params[k] = { shape: t.shape, data: f32(t.data, k, modelPath) };
  const opt = readSafetensorsFile(optPath);
  const m: ParamSet = {};
  const v: ParamSet = {};
  for (const [k, t] of opt.tensors) {
    const target = k.startsWith('m/') ? m : k.startsWith('v/') ? v : undefined;
    if (!target) throw new FormatError(`${optPath}: unexpected tensor ${k}`, { subject: optPath });
    target[k.slice(2)] = { shape: t.shape, data: f32(t.data, k, optPath) };
  }
  for (const [k, t] of Object.entries(params)) {
    for (const [which, set] of [
      ['m', m],
      ['v', v],
    ] as const) {
      const s = set[k];
      if (!s || s.shape.join('x') !== t.shape.join('x'))
        throw new MismatchError(`${optPath}: ${which}/${k} is missing or has the wrong shape`, { subject: optPath });
    }
  }
  const optStep = Number(opt.metadata.step);
  if (!Number.isInteger(optStep) || optStep < 0)
    throw new FormatError(`${optPath}: metadata step is missing or invalid`, { subject: optPath });
  return { dir, state, params, optimizer: { step: optStep, m, v } };
}

/**
 * Loads only the model of a checkpoint or a bare model.safetensors: the parameters, the config and the
 * pipeline settings (what the compressor needs).
 */
export function loadModel(path: string): {
  params: ParamSet;
  config: TransformerConfig;
  pipeline?: PipelineSettings;
  step?: number;
  path: string;
} {
  const p = resolve(path);
  const file = existsSync(p) && statSync(p).isFile() ? p : join(resolveCheckpointDir(p), 'model.safetensors');
  const st = readSafetensorsFile(file);
  const rawConfig = st.metadata.config;
  if (typeof rawConfig !== 'string')
    throw new FormatError(`${file}: no model config in the safetensors metadata; was it written by wavelm train?`, { subject: file });
  let config: TransformerConfig;
  let pipeline: PipelineSettings | undefined;
  try {
    config = JSON.parse(rawConfig) as TransformerConfig;
    pipeline = typeof st.metadata.pipeline === 'string' ? (JSON.parse(st.metadata.pipeline) as PipelineSettings) : undefined;
  } catch (e) {
    throw new FormatError(`${file}: model config metadata is not valid JSON`, { subject: file, cause: e });
  }
  const params: ParamSet = {};
  for (const [k, t] of st.tensors) params[k] = { shape: t.shape, data: f32(t.data, k, file) };
  const step = st.metadata.step !== undefined ? Number(st.metadata.step) : undefined;
  return { params, config, pipeline, step, path: file };
}

/** Restores parameters and optimizer state into a trainer, checking names and shapes first. */
export function restoreTrainer(trainer: Trainer, ckpt: LoadedCheckpoint): void {
  const current = trainer.getParams();
  const names = Object.keys(current).sort();
  const saved = Object.keys(ckpt.params).sort();
  if (names.join('\n') !== saved.join('\n')) {
    const missing = names.filter((n) => !(n in ckpt.params));
    const extra = saved.filter((n) => !(n in current));
    throw new MismatchError(
      `${ckpt.dir}: parameters do not match the model (missing: ${missing.slice(0, 3).join(', ') || 'none'}; unexpected: ` +
        `${extra.slice(0, 3).join(', ') || 'none'})`,
      { subject: ckpt.dir },
    );
  }
  for (const n of names) {
    if (current[n]!.shape.join('x') !== ckpt.params[n]!.shape.join('x')) {
      throw new MismatchError(`${ckpt.dir}: parameter ${n} has shape [${ckpt.params[n]!.shape}], the model needs [${current[n]!.shape}]`, {
        subject: ckpt.dir,
      });
    }
  }
  trainer.setParams(ckpt.params);
  trainer.setOptimizerState(ckpt.optimizer);
}

/** Compares two model configs; returns the first differing key or undefined. */
export function configDifference(a: TransformerConfig, b: TransformerConfig): string | undefined {
  for (const k of Object.keys(a) as (keyof TransformerConfig)[]) if (a[k] !== b[k]) return `${k}: ${String(a[k])} vs ${String(b[k])}`;
  return undefined;
}

export function assertPositiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new ConfigError(`${name} must be a positive integer, got ${v}`);
}
