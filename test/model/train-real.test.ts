/**
 * The training loop with the real transformer (src/model/transformer.ts on the wasm engine):
 * resume equivalence across worker counts, and a short real run on FSDD speech whose validation
 * loss must fall clearly below the unigram entropy of the validation tokens.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav, loadAudio } from '../../src/audio/index.js';
import { writeFileSync } from 'node:fs';
import { audioToChunks } from '../../src/tokens/index.js';
import { chunkSetFromTokens } from '../../src/model/batches.js';
import { latestCheckpoint, readSafetensorsFile } from '../../src/model/checkpoint.js';
import { readMetrics } from '../../src/model/logging.js';
import { trainAudioTransformer, type TrainAudioTransformerOptions } from '../../src/model/train.js';
import { sharedPath } from '../helpers/shared.js';
import { syntheticTokens } from './train-bigram.js';

function tmp(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'wavelm-train-real-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function paramsBytes(dir: string): Map<string, Buffer> {
  const st = readSafetensorsFile(join(latestCheckpoint(dir)!, 'model.safetensors'));
  return new Map([...st.tensors].map(([k, t]) => [k, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)]));
}

function deterministicMetrics(dir: string): Record<string, number>[] {
  return readMetrics(join(dir, 'metrics.jsonl')).map((p) => {
    const { wall_time: _w, 'train/tokens_per_s': _t, ...rest } = p;
    return rest;
  });
}

test('real transformer: 6 steps on 2 workers == 3 on 1 worker + resume + 3 on 2 workers (params and metrics bit-identical)', async (t) => {
  const train = chunkSetFromTokens(syntheticTokens(40 * 48, 5), 48);
  const valid = chunkSetFromTokens(syntheticTokens(8 * 48, 6), 48);
  const opts = (outDir: string, extra: Partial<TrainAudioTransformerOptions>): TrainAudioTransformerOptions => ({
    outDir,
    data: { train, valid },
    model: { embeddingDim: 32, numLayers: 2, numHeads: 4 },
    seqLen: 48,
    batchSize: 4,
    steps: 6,
    learningRate: 1e-3,
    clipNorm: 1,
    logEvery: 2,
    evalEvery: 3,
    checkpointEvery: 3,
    seed: 21,
    ...extra,
  });
  const a = tmp(t);
  const b = tmp(t);
  const ra = await trainAudioTransformer(opts(a, { workers: 2 }));
  await trainAudioTransformer(opts(b, { steps: 3, workers: 1 }));
  const rb = await trainAudioTransformer(opts(b, { resume: true, workers: 2 }));
  assert.equal(rb.resumedFrom, 3);
  assert.equal(ra.numParams, 41792); // d=32, 2 layers, vocab 256 (the fixture's d32 count)
  const pa = paramsBytes(a);
  const pb = paramsBytes(b);
  assert.equal(pa.size, pb.size);
  for (const [k, v] of pa) assert.ok(v.equals(pb.get(k)!), `parameter ${k} differs after resume`);
  assert.deepEqual(deterministicMetrics(b), deterministicMetrics(a));
  assert.equal(rb.finalLoss, ra.finalLoss);
});

test('real run on FSDD speech: validation loss falls clearly below the unigram entropy', async (t) => {
  const dir = sharedPath(t, 'data', 'speech', 'fsdd', 'recordings');
  if (!dir) return;
  // One speaker; recordings 0..24 of every digit train, 45..49 validate (different takes, same voice).
  const names = readdirSync(dir).filter((f) => /^\d_jackson_\d+\.wav$/.test(f));
  const idx = (f: string) => Number(f.split('_')[2]!.slice(0, -4));
  const trainFiles = names.filter((f) => idx(f) < 25).map((f) => join(dir, f));
  const validFiles = names.filter((f) => idx(f) >= 45).map((f) => join(dir, f));
  assert.ok(trainFiles.length >= 200 && validFiles.length >= 40, `${trainFiles.length} / ${validFiles.length} files`);

  // Unigram entropy of the validation tokens, computed here independently of the training code.
  const counts = new Float64Array(256);
  let n = 0;
  for (const f of validFiles) {
    for (const c of audioToChunks(await loadAudio(f), { bitDepth: 8, chunkSizeBytes: 128 })) {
      for (const x of c) counts[x]!++;
      n += c.length;
    }
  }
  let unigram = 0;
  for (const c of counts) if (c > 0) unigram -= (c / n) * Math.log2(c / n);

  const out = tmp(t);
  const r = await trainAudioTransformer({
    files: trainFiles,
    validFiles,
    outDir: out,
    chunkSizeBytes: 128,
    seqLen: 128,
    batchSize: 8,
    steps: 150,
    learningRate: 1e-3, // 10x LMIC's default so that 150 steps suffice
    logEvery: 10,
    evalEvery: 75,
    evalSequences: 64,
    checkpointEvery: 0,
    seed: 1,
    workers: 2,
  });
  assert.equal(r.step, 150);
  assert.ok(Math.abs(r.validUnigramBitsPerByte! - unigram) < 1e-9, `unigram ${r.validUnigramBitsPerByte} vs ${unigram}`);
  const first = r.evals[0]!.bitsPerByte;
  const last = r.validBitsPerByte!;
  t.diagnostic(
    `valid bits/byte: ${first.toFixed(3)} at step ${r.evals[0]!.step} -> ${last.toFixed(3)} at 150; unigram entropy ` +
      `${unigram.toFixed(3)}; ${Math.round(r.tokensPerSecond)} tokens/s`,
  );
  assert.ok(last < unigram - 0.75, `valid ${last} bits/byte is not clearly below the unigram entropy ${unigram}`);
  assert.ok(last <= first, 'validation loss should not rise');
});

test('16-bit: offset-binary tokens, vocabulary 65536, bits per sample = 2 x bits per byte', async (t) => {
  const d = tmp(t);
  const frames = 4000;
  const s = new Int16Array(frames);
  for (let i = 0; i < frames; i++) s[i] = Math.round(3000 * Math.sin(i / 7) + ((i * 7919) % 200));
  const wav = join(d, 'tone.wav');
  writeFileSync(wav, encodeWav({ sampleRate: 8000, channels: 1, frames, sampleType: 'int16', bitsPerSample: 16, samples: s }));
  const r = await trainAudioTransformer({
    files: [wav],
    outDir: join(d, 'run'),
    bitDepth: 16,
    chunkSizeBytes: 128,
    model: { embeddingDim: 16, numLayers: 1, numHeads: 2 },
    batchSize: 2,
    steps: 2,
    evalEvery: 1,
    workers: 1,
  });
  assert.equal(r.model.vocabSize, 65536);
  assert.equal(r.training.seqLen, 64); // 128 bytes = 64 samples
  assert.equal(r.dataset.validSource, 'chunk-holdout');
  const m = readMetrics(join(d, 'run', 'metrics.jsonl')).filter((p) => 'valid/loss' in p);
  assert.ok(m.length >= 2);
  for (const p of m) {
    assert.ok(Math.abs(p['valid/bits_per_sample']! - 2 * p['valid/bits_per_byte']!) < 1e-12);
    assert.ok(Math.abs(p['valid/bits_per_sample']! - p['valid/loss']! / 64 / Math.LN2) < 1e-9);
  }
  // A fresh model is near uniform over 65536 symbols: about 16 bits per sample.
  assert.ok(m[0]!['valid/bits_per_sample']! > 14 && m[0]!['valid/bits_per_sample']! < 18, String(m[0]!['valid/bits_per_sample']));
});
