import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  latestCheckpoint,
  loadModel,
  readCheckpoint,
  readSafetensorsFile,
  restoreTrainer,
  writeCheckpoint,
  type CheckpointState,
} from '../../src/model/checkpoint.js';
import { defaultModelConfig } from '../../src/model/train.js';
import { serializeSafetensors } from '../../src/util/safetensors.js';
import { FormatError, MismatchError, NotFoundError } from '../../src/util/errors.js';
import { BigramTrainer } from './train-bigram.js';

function tmp(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'wavelm-ckpt-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const config = defaultModelConfig(8);

function state(step: number): CheckpointState {
  return {
    format: 'wavelm-checkpoint',
    version: 1,
    step,
    model: config,
    numParams: 65536,
    pipeline: { bitDepth: 8, conversion: 'exact', blockingSize: 1024, chunkSizeBytes: 2048 },
    training: { seqLen: 16, batchSize: 2, seed: 1, learningRate: 0.1, clipNorm: 0, normalizeByLength: false },
    data: { fingerprint: 'f', trainChunks: 1, validChunks: 0, rng: [1, 2, 3, 0xffffffff] },
    log: { loss: 1.5, gradNorm: 0.1 + 0.2, count: 1 },
    lastLoss: 1.5,
    lastValidLoss: null,
    trainSeconds: 0.125,
    createdAt: new Date(0).toISOString(),
  };
}

async function trained(steps: number): Promise<BigramTrainer> {
  const tr = new BigramTrainer(config, { seed: 5 });
  const tokens = new Uint8Array(32).map((_, i) => (i * 37) % 256);
  for (let i = 0; i < steps; i++)
    await tr.step({ tokens, batchSize: 2, seqLen: 16 }, { learningRate: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8 });
  return tr;
}

test('checkpoint round trip: params, Adam moments and step, state (incl. exact floats) come back bit-identical', async (t) => {
  const dir = tmp(t);
  const tr = await trained(3);
  const path = writeCheckpoint(dir, tr, state(3));
  assert.equal(path, join(dir, 'checkpoints', 'step-00000003'));
  assert.equal(latestCheckpoint(dir), path);
  const ck = readCheckpoint(dir);
  assert.deepEqual(ck.state, state(3));
  assert.equal(ck.state.log.gradNorm, 0.1 + 0.2); // doubles survive JSON exactly
  const fresh = new BigramTrainer(config, { seed: 99 });
  restoreTrainer(fresh, ck);
  const a = tr.getParams()['bigram.logits']!.data;
  const b = fresh.getParams()['bigram.logits']!.data;
  assert.ok(Buffer.from(a.buffer).equals(Buffer.from(b.buffer)));
  const oa = tr.getOptimizerState();
  const ob = fresh.getOptimizerState();
  assert.equal(ob.step, 3);
  assert.ok(Buffer.from(oa.m['bigram.logits']!.data.buffer).equals(Buffer.from(ob.m['bigram.logits']!.data.buffer)));
  assert.ok(Buffer.from(oa.v['bigram.logits']!.data.buffer).equals(Buffer.from(ob.v['bigram.logits']!.data.buffer)));
  // The model file alone carries config and pipeline (what compression needs).
  for (const p of [dir, path, join(path, 'model.safetensors')]) {
    const m = loadModel(p);
    assert.deepEqual(m.config, config);
    assert.equal(m.pipeline!.chunkSizeBytes, 2048);
    assert.equal(m.step, 3);
  }
});

test('checkpoints: newest wins, old ones are pruned, a half-written one is never "latest"', async (t) => {
  const dir = tmp(t);
  const tr = await trained(1);
  for (const s of [1, 2, 3, 4, 5]) writeCheckpoint(dir, tr, state(s), 3);
  assert.deepEqual(
    readdirSync(join(dir, 'checkpoints'))
      .filter((d) => d.startsWith('step-'))
      .sort(),
    ['step-00000003', 'step-00000004', 'step-00000005'],
  );
  // A crash mid-write leaves a .tmp directory: ignored, latest still points at 5.
  mkdirSync(join(dir, 'checkpoints', 'step-00000006.tmp'));
  assert.equal(readCheckpoint(dir).state.step, 5);
  writeCheckpoint(dir, tr, state(6), 3);
  assert.equal(existsSync(join(dir, 'checkpoints', 'step-00000006.tmp')), false);
  assert.equal(readCheckpoint(dir).state.step, 6);
});

test('bad checkpoints give typed errors that name the file', async (t) => {
  const dir = tmp(t);
  assert.throws(() => readCheckpoint(join(dir, 'nothing')), NotFoundError);
  assert.throws(() => readCheckpoint(dir), NotFoundError);
  const tr = await trained(1);
  const path = writeCheckpoint(dir, tr, state(1));
  // Optimizer moments with the wrong shape.
  writeFileSync(
    join(path, 'optimizer.safetensors'),
    serializeSafetensors(
      { 'm/bigram.logits': { shape: [2], data: new Float32Array(2) }, 'v/bigram.logits': { shape: [2], data: new Float32Array(2) } },
      { step: '1' },
    ),
  );
  assert.throws(
    () => readCheckpoint(dir),
    (e: unknown) => e instanceof MismatchError && /optimizer\.safetensors/.test(e.message),
  );
  writeFileSync(join(path, 'state.json'), '{"format": "something else", "version": 7}');
  assert.throws(() => readCheckpoint(dir), FormatError);
  writeFileSync(join(dir, 'checkpoints', 'latest.json'), 'not json');
  assert.throws(() => latestCheckpoint(dir), FormatError);
  // A model file from elsewhere (no config metadata).
  const bare = join(dir, 'bare.safetensors');
  writeFileSync(bare, serializeSafetensors({ x: { shape: [1], data: new Float32Array(1) } }));
  assert.throws(() => loadModel(bare), /no model config/);
  assert.equal(readSafetensorsFile(bare).tensors.get('x')!.data.length, 1);
});

test('restoring into a different model is refused', async (t) => {
  const dir = tmp(t);
  writeCheckpoint(dir, await trained(1), state(1));
  const target = new BigramTrainer(config, { seed: 1 });
  const wrongShape = readCheckpoint(dir);
  wrongShape.params['bigram.logits'] = { shape: [2, 2], data: new Float32Array(4) };
  assert.throws(
    () => restoreTrainer(target, wrongShape),
    (e: unknown) => e instanceof MismatchError && /shape/.test(e.message),
  );
  const wrongName = readCheckpoint(dir);
  wrongName.params = { 'embed.embeddings': wrongName.params['bigram.logits']! };
  assert.throws(
    () => restoreTrainer(target, wrongName),
    (e: unknown) => e instanceof MismatchError && /missing: bigram\.logits/.test(e.message),
  );
});
