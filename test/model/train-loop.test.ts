import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chunkSetFromTokens, type ChunkSet } from '../../src/model/batches.js';
import { latestCheckpoint, loadModel, readCheckpoint, readSafetensorsFile } from '../../src/model/checkpoint.js';
import { readMetrics, type MetricsSink } from '../../src/model/logging.js';
import { readEventFile } from '../../src/model/tensorboard.js';
import { trainAudioTransformer, type TrainAudioTransformerOptions } from '../../src/model/train.js';
import { DOCUMENTED_WANDB_KEYS } from '../helpers/training.js';
import { learningRateAt } from '../../src/model/schedule.js';

import { ConfigError, MismatchError } from '../../src/util/errors.js';
import { createBigramTrainer, BigramTrainer, syntheticTokens } from './train-bigram.js';
import type { Trainer, TrainerOptions, TransformerConfig } from '../../src/model/api.js';

function tmp(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'wavelm-train-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const train: ChunkSet = chunkSetFromTokens(syntheticTokens(60 * 64, 1), 64);
const valid: ChunkSet = chunkSetFromTokens(syntheticTokens(12 * 64, 2), 64);

function base(outDir: string, extra: Partial<TrainAudioTransformerOptions> = {}): TrainAudioTransformerOptions {
  return {
    outDir,
    data: { train, valid, numFiles: 3 },
    createTrainer: createBigramTrainer,
    seqLen: 32,
    batchSize: 4,
    steps: 20,
    learningRate: 0.3,
    logEvery: 3,
    evalEvery: 5,
    checkpointEvery: 7,
    seed: 11,
    ...extra,
  };
}

/** A bigram trainer factory that aborts `ctrl` during its n-th step (the loop stops after that step). */
function abortingAt(n: number, ctrl: AbortController): (c: TransformerConfig, o: TrainerOptions) => Promise<Trainer> {
  let steps = 0;
  return async (c, o) => {
    const tr = new BigramTrainer(c, o);
    const step = tr.step.bind(tr);
    tr.step = async (batch, opt) => {
      if (++steps === n) ctrl.abort();
      return step(batch, opt);
    };
    return tr;
  };
}

/** Metrics without the wall-clock fields, which legitimately differ between runs. */
function deterministicMetrics(dir: string): Record<string, number>[] {
  return readMetrics(join(dir, 'metrics.jsonl')).map((p) => {
    const { wall_time: _w, 'train/tokens_per_s': _t, ...rest } = p;
    return rest;
  });
}

function finalParams(dir: string): Buffer {
  const ck = latestCheckpoint(dir)!;
  const t = readSafetensorsFile(join(ck, 'model.safetensors')).tensors.get('bigram.logits')!;
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

class RecordingSink implements MetricsSink {
  config_: Record<string, unknown> = {};
  logs: { values: Record<string, number>; step: number }[] = [];
  summary_: Record<string, number> = {};
  finished = false;
  config(v: Record<string, unknown>) {
    Object.assign(this.config_, v);
  }
  log(values: Record<string, number>, step: number) {
    this.logs.push({ values, step });
  }
  summary(v: Record<string, number>) {
    Object.assign(this.summary_, v);
  }
  async finish() {
    this.finished = true;
  }
}

test("training: loss falls; run dir has config, metrics, events, plot, checkpoints; sink gets docs/training.md's W&B keys", async (t) => {
  const dir = tmp(t);
  const sink = new RecordingSink();
  const notices: string[] = [];
  const r = await trainAudioTransformer(base(dir, { sink, onNotice: (m) => notices.push(m) }));
  assert.equal(r.step, 20);
  assert.equal(r.interrupted, false);
  assert.ok(r.evals.length >= 4);
  assert.ok(r.evals[r.evals.length - 1]!.loss < r.evals[0]!.loss, 'validation loss should fall');
  assert.ok(
    r.validBitsPerByte! < r.validUnigramBitsPerByte!,
    `bigram should beat the unigram entropy: ${r.validBitsPerByte} vs ${r.validUnigramBitsPerByte}`,
  );
  // bits per byte = loss / seqLen / ln 2 for 8-bit tokens.
  assert.ok(Math.abs(r.validBitsPerByte! - r.validLoss! / 32 / Math.LN2) < 1e-12);

  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { training: { seqLen: number }; model: TransformerConfig };
  assert.equal(config.training.seqLen, 32);
  assert.equal(config.model.vocabSize, 256);
  const m = readMetrics(join(dir, 'metrics.jsonl'));
  const trainSteps = m.filter((p) => 'train/loss' in p).map((p) => p.step);
  assert.deepEqual(trainSteps, [3, 6, 9, 12, 15, 18, 20]);
  assert.deepEqual(
    m.filter((p) => 'valid/loss' in p).map((p) => p.step),
    [5, 10, 15, 20],
  );
  const events = readdirSync(dir).filter((f) => f.startsWith('events.out.tfevents.'));
  assert.equal(events.length, 1);
  const ev = readEventFile(join(dir, events[0]!));
  assert.equal(ev[0]!.fileVersion, 'brain.Event:2');
  const tbLoss = ev.filter((e) => 'train/loss' in e.scalars);
  assert.deepEqual(
    tbLoss.map((e) => e.step),
    trainSteps,
  );
  assert.equal(tbLoss[0]!.scalars['train/loss'], Math.fround(m.find((p) => p.step === 3)!['train/loss']!));
  assert.match(readFileSync(join(dir, 'loss.html'), 'utf8'), /<svg/);
  // Checkpoints at 7, 14 and the end (20); latest is 20.
  assert.deepEqual(
    readdirSync(join(dir, 'checkpoints'))
      .filter((d) => d.startsWith('step-'))
      .sort(),
    ['step-00000007', 'step-00000014', 'step-00000020'],
  );
  assert.equal(readCheckpoint(dir).state.step, 20);
  const model = loadModel(dir);
  assert.equal(model.config.vocabSize, 256);
  assert.equal(model.pipeline!.bitDepth, 8);
  // The W&B keys listed in docs/training.md.
  for (const k of DOCUMENTED_WANDB_KEYS) {
    assert.ok(k in sink.config_, `missing ${k}`);
  }
  assert.equal(sink.config_['dataset/total_chunks'], 72);
  assert.equal(sink.config_['dataset/use_16bit'], false);
  assert.ok(sink.logs.some((l) => 'train/loss' in l.values && 'train/grad_norm' in l.values));
  assert.equal(sink.summary_['train/total_steps'], 20);
  assert.equal(sink.summary_['train/final_loss'], r.finalLoss);
  assert.ok(sink.finished);
  // Starting over in the same directory is refused.
  await assert.rejects(trainAudioTransformer(base(dir)), ConfigError);
});

test('resume is bit-exact: 20 steps == 10 + resume + 10 (params and metrics)', async (t) => {
  const a = tmp(t);
  const b = tmp(t);
  await trainAudioTransformer(base(a));
  await trainAudioTransformer(base(b, { steps: 10 }));
  const r = await trainAudioTransformer(base(b, { steps: 20, resume: true }));
  assert.equal(r.resumedFrom, 10);
  assert.ok(finalParams(a).equals(finalParams(b)), 'parameters differ after resume');
  assert.deepEqual(deterministicMetrics(b), deterministicMetrics(a));
  const ca = readCheckpoint(a);
  const cb = readCheckpoint(b);
  assert.deepEqual(cb.state.data.rng, ca.state.data.rng);
  assert.equal(cb.optimizer.step, ca.optimizer.step);
  assert.ok(Buffer.from(cb.optimizer.v['bigram.logits']!.data.buffer).equals(Buffer.from(ca.optimizer.v['bigram.logits']!.data.buffer)));
});

test('interrupt: the signal stops after the current step, writes a checkpoint, and resume continues bit-exactly', async (t) => {
  const a = tmp(t);
  const b = tmp(t);
  await trainAudioTransformer(base(a));
  const ctrl = new AbortController();
  // Abort during step 9: past the checkpoint at 7, mid logging interval, between evaluations.
  const factory = abortingAt(9, ctrl);
  const notices: string[] = [];
  const r1 = await trainAudioTransformer(base(b, { createTrainer: factory, signal: ctrl.signal, onNotice: (m) => notices.push(m) }));
  assert.equal(r1.interrupted, true);
  assert.equal(r1.step, 9);
  assert.equal(readCheckpoint(b).state.step, 9);
  assert.ok(notices.some((n) => /interrupted at step 9/.test(n)));
  const r2 = await trainAudioTransformer(base(b, { resume: true }));
  assert.equal(r2.step, 20);
  assert.ok(finalParams(a).equals(finalParams(b)));
  assert.deepEqual(deterministicMetrics(b), deterministicMetrics(a));
});

test('resume without flags keeps every setting the run recorded: steps, intervals, kept checkpoints, validation share', async (t) => {
  const a = tmp(t);
  const b = tmp(t);
  // Settings that differ from every default: 20 steps, log 3, eval 5, checkpoint 7, keep 2, 12 eval sequences.
  const settings = { keepCheckpoints: 2, evalSequences: 12, validFraction: 0.25 };
  await trainAudioTransformer(base(a, settings));
  const ctrl = new AbortController();
  await trainAudioTransformer(base(b, { ...settings, createTrainer: abortingAt(9, ctrl), signal: ctrl.signal }));
  const r = await trainAudioTransformer({
    outDir: b,
    data: { train, valid, numFiles: 3 },
    createTrainer: createBigramTrainer,
    resume: true,
  });
  assert.deepEqual([r.step, r.steps], [20, 20]);
  const training = (dir: string) =>
    (JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { training: Record<string, unknown> }).training;
  assert.deepEqual(training(b), training(a));
  assert.deepEqual(
    [
      training(b).steps,
      training(b).logEvery,
      training(b).evalEvery,
      training(b).checkpointEvery,
      training(b).keepCheckpoints,
      training(b).evalSequences,
      training(b).validFraction,
    ],
    [20, 3, 5, 7, 2, 12, 0.25],
  );
  assert.ok(finalParams(a).equals(finalParams(b)));
  assert.deepEqual(deterministicMetrics(b), deterministicMetrics(a));
  assert.deepEqual(
    readdirSync(join(b, 'checkpoints'))
      .filter((d) => d.startsWith('step-'))
      .sort(),
    readdirSync(join(a, 'checkpoints'))
      .filter((d) => d.startsWith('step-'))
      .sort(),
  );
});

test('resume from an older checkpoint drops the later metrics, and refuses different data or model', async (t) => {
  const a = tmp(t);
  await trainAudioTransformer(base(a));
  const b = tmp(t);
  await trainAudioTransformer(base(b));
  // Resume b from its step-14 checkpoint: the metrics after 14 are cut and recomputed identically.
  const r = await trainAudioTransformer(base(b, { resume: join(b, 'checkpoints', 'step-00000014') }));
  assert.equal(r.resumedFrom, 14);
  assert.deepEqual(deterministicMetrics(b), deterministicMetrics(a));
  assert.ok(finalParams(a).equals(finalParams(b)));
  const other = chunkSetFromTokens(syntheticTokens(60 * 64, 99), 64);
  await assert.rejects(trainAudioTransformer(base(b, { steps: 30, resume: true, data: { train: other, valid } })), MismatchError);
  await assert.rejects(trainAudioTransformer(base(b, { steps: 30, resume: true, seqLen: 16 })), MismatchError);
  await assert.rejects(trainAudioTransformer(base(tmp(t), { resume: true })), /nothing to resume/);
});

test('options are validated with clear errors', async (t) => {
  const d = tmp(t);
  await assert.rejects(trainAudioTransformer(base(d, { seqLen: 65 })), /longer than a chunk/);
  // Library messages name the option as trainAudioTransformer takes it (the CLI names its flag instead).
  await assert.rejects(trainAudioTransformer(base(d, { batchSize: 0 })), /^ConfigError: batchSize must be an integer >= 1, got 0$/);
  await assert.rejects(trainAudioTransformer(base(d, { learningRate: -1 })), /learningRate must be a number > 0/);
  await assert.rejects(
    trainAudioTransformer(base(d, { model: { embeddingDim: 60, numHeads: 8 } })),
    /embeddingDim 60 must be a multiple of numHeads 8/,
  );
  await assert.rejects(trainAudioTransformer(base(d, { seed: 1.5 })), /seed must be an integer >= 0, got 1\.5/);
  await assert.rejects(trainAudioTransformer(base(d, { bitDepth: 16, chunkSizeBytes: 63 })), /16-bit needs an even chunkSizeBytes, got 63/);
  await assert.rejects(
    trainAudioTransformer(base(d, { minLearningRate: 1 })),
    /^ConfigError: minLearningRate must be between 0 and learningRate \(0\.3\), got 1$/,
  );
  await assert.rejects(
    trainAudioTransformer(base(d, { model: { embeddingDim: 3, numHeads: 3 } })),
    /^ConfigError: embeddingDim must be even, got 3$/,
  );
  const flags = {
    batchSize: '--batch-size',
    chunkSizeBytes: '--chunk-size',
    minLearningRate: '--min-lr',
    learningRate: '--lr',
    embeddingDim: '--embedding-dim',
  } as Record<string, string>;
  const optionLabel = (o: string) => flags[o] ?? o;
  await assert.rejects(
    trainAudioTransformer(base(d, { batchSize: 0, optionLabel })),
    /^ConfigError: --batch-size must be an integer >= 1, got 0$/,
  );
  await assert.rejects(
    trainAudioTransformer(base(d, { minLearningRate: 1, optionLabel })),
    /^ConfigError: --min-lr must be between 0 and --lr \(0\.3\), got 1$/,
  );
  await assert.rejects(
    trainAudioTransformer(base(d, { model: { embeddingDim: 3, numHeads: 3 }, optionLabel })),
    /^ConfigError: --embedding-dim must be even, got 3$/,
  );
  assert.equal(existsSync(join(d, 'checkpoints')), false);
});

test('normalise-by-length and clipping reach the trainer; the whole batch pipeline is seeded', async (t) => {
  const seen: BigramTrainer[] = [];
  const factory = async (c: TransformerConfig, o: TrainerOptions) => {
    const tr = new BigramTrainer(c, o);
    seen.push(tr);
    return tr;
  };
  await trainAudioTransformer(base(tmp(t), { createTrainer: factory, steps: 5, seed: 3 }));
  await trainAudioTransformer(base(tmp(t), { createTrainer: factory, steps: 5, seed: 3 }));
  await trainAudioTransformer(base(tmp(t), { createTrainer: factory, steps: 5, seed: 4 }));
  assert.deepEqual(seen[0]!.seen, seen[1]!.seen);
  assert.notDeepEqual(seen[0]!.seen, seen[2]!.seen);
  assert.ok(seen.every((s) => s.disposed));
  const clipped = await trainAudioTransformer(base(tmp(t), { steps: 5, clipNorm: 1e-3, normalizeByLength: true }));
  const free = await trainAudioTransformer(base(tmp(t), { steps: 5 }));
  assert.notEqual(clipped.finalLoss, free.finalLoss);
});

test('an interrupt before the first step of a new run saves nothing and says so', async (t) => {
  const d = tmp(t);
  const ctrl = new AbortController();
  ctrl.abort();
  await assert.rejects(
    trainAudioTransformer(base(d, { signal: ctrl.signal })),
    (e: unknown) => (e as { code?: string }).code === 'EINTERRUPTED',
  );
  assert.equal(existsSync(join(d, 'checkpoints')), false);
  await assert.rejects(trainAudioTransformer(base(d, { validFraction: 1 })), /validFraction must be a number >= 0 and < 1, got 1/);
});

test("cosine schedule with warm-up: logged rates are the schedule's; an interrupted run resumes with the same rates, params", async (t) => {
  const a = tmp(t);
  const b = tmp(t);
  const sched = { lrSchedule: 'cosine' as const, warmupSteps: 3, minLearningRate: 0.01 };
  await trainAudioTransformer(base(a, sched));
  const rates = readMetrics(join(a, 'metrics.jsonl')).filter((p) => typeof p['train/learning_rate'] === 'number');
  assert.ok(rates.length >= 6);
  const full = { name: 'cosine' as const, learningRate: 0.3, warmupSteps: 3, minLearningRate: 0.01, totalSteps: 20 };
  for (const p of rates) assert.equal(p['train/learning_rate'], learningRateAt(p.step, full), `step ${p.step}`);
  assert.ok(Math.abs(rates[rates.length - 1]!['train/learning_rate']! - 0.01) < 1e-12, 'the last step trains at --min-lr');
  const ctrl = new AbortController();
  const factory = abortingAt(9, ctrl);
  await trainAudioTransformer(base(b, { ...sched, createTrainer: factory, signal: ctrl.signal }));
  // resumed without repeating the schedule's flags: the checkpoint carries them
  const notices: string[] = [];
  await trainAudioTransformer(base(b, { resume: true, onNotice: (m) => notices.push(m) }));
  assert.ok(finalParams(a).equals(finalParams(b)), 'parameters differ after resume');
  assert.deepEqual(deterministicMetrics(b), deterministicMetrics(a));
  assert.ok(!notices.some((n) => /no longer matches/.test(n)), notices.join('; '));
  // going on past the schedule's end keeps its length, and says so
  await trainAudioTransformer(base(b, { steps: 24, resume: true, onNotice: (m) => notices.push(m) }));
  assert.ok(
    notices.some((n) => /keeps its length of 20 steps/.test(n)),
    notices.join('; '),
  );
  assert.equal(readCheckpoint(b).state.training.scheduleSteps, 20);
});

test('resume with other settings: a changed model, pipeline or batch stream is refused; optimiser changes get a notice', async (t) => {
  const d = tmp(t);
  await trainAudioTransformer(base(d, { steps: 6 }));
  const resumed = (extra: Partial<TrainAudioTransformerOptions>) => trainAudioTransformer(base(d, { steps: 8, resume: true, ...extra }));
  await assert.rejects(
    resumed({ batchSize: 8 }),
    (e: unknown) => e instanceof MismatchError && e.message === 'cannot resume: batchSize is 8, the checkpoint used 4',
  );
  await assert.rejects(resumed({ model: { numLayers: 2 } }), /cannot resume: numLayers is 2, the checkpoint used 4/);
  await assert.rejects(resumed({ chunkSizeBytes: 4096 }), /cannot resume: chunkSizeBytes is 4096, the checkpoint used 2048/);
  await assert.rejects(resumed({ seed: 12, optionLabel: (o) => `--${o}` }), /cannot resume: --seed is 12, the checkpoint used 11/);
  const notices: string[] = [];
  const r = await resumed({ learningRate: 0.1, clipNorm: 1, onNotice: (m) => notices.push(m) });
  assert.equal(r.step, 8);
  assert.ok(
    notices.includes('resuming with a different learningRate and clipNorm: the run continues, but no longer matches an uninterrupted one'),
    notices.join('; '),
  );
});
