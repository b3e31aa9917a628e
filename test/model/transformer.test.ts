// The LMIC transformer against the float64 fixtures of ../shared/fixtures/lmic-transformer, plus
// determinism (1 vs 2 workers, two runs), optimizer-state round trips and the KV-cache predictor.
//
// Tolerances (float32 engine vs float64 reference): log-probs max abs error 2e-5; loss relative 1e-6;
// each gradient tensor: relative L2 error 1e-4 and every element within 1e-4 of the tensor's largest
// magnitude. Measured: log-probs 1.8e-6, gradients ~1e-6 relative L2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSafetensors, toFloat64, type SafetensorsFile } from '../../src/util/safetensors.js';
import { sharedPath } from '../helpers/shared.js';
import type { ParamSet, TransformerConfig } from '../../src/model/api.js';
import {
  countParams,
  createAudioTransformerConfig,
  createPredictor,
  createTrainer,
  initParams,
  lossAndGradients,
  paramLayout,
} from '../../src/model/transformer.js';
import { getEngine } from '../../src/engine/wasm.js';

// Copies into a plain Uint8Array: tensors are then views of exactly their own bytes.
const readST = (p: string): SafetensorsFile => parseSafetensors(new Uint8Array(readFileSync(p)), p);

function loadFixture(dir: string): {
  config: TransformerConfig;
  params: ParamSet;
  grads: SafetensorsFile;
  tokens: Uint8Array;
  B: number;
  T: number;
  logProbs: Float64Array;
  loss: number;
  inter: SafetensorsFile;
} {
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as {
    config: { embedding_dim: number; num_layers: number; num_heads: number; widening_factor: number; emb_init_scale: number };
  };
  const config = createAudioTransformerConfig({
    bitDepth: 8,
    embeddingDim: meta.config.embedding_dim,
    numLayers: meta.config.num_layers,
    numHeads: meta.config.num_heads,
    wideningFactor: meta.config.widening_factor,
    embInitScale: meta.config.emb_init_scale,
  });
  const p = readST(join(dir, 'params.safetensors'));
  const params: ParamSet = {};
  for (const [n, t] of p.tensors) params[n] = { shape: t.shape, data: Float32Array.from(toFloat64(t)) };
  const io = readST(join(dir, 'io.safetensors'));
  const tok = io.tensors.get('tokens')!;
  return {
    config,
    params,
    grads: readST(join(dir, 'grads.safetensors')),
    tokens: tok.data as Uint8Array,
    B: tok.shape[0]!,
    T: tok.shape[1]!,
    logProbs: toFloat64(io.tensors.get('log_probs')!),
    loss: toFloat64(io.tensors.get('loss')!)[0]!,
    inter: readST(join(dir, 'intermediates.safetensors')),
  };
}

test('parameter counts and the audio config defaults', () => {
  const c8 = createAudioTransformerConfig({ bitDepth: 8 });
  assert.deepEqual(c8, {
    vocabSize: 256,
    embeddingDim: 64,
    numLayers: 4,
    numHeads: 8,
    wideningFactor: 4,
    embInitScale: 0.02,
    positionalEncoding: 'sinusoidal',
  });
  assert.equal(countParams(c8), 231936);
  assert.equal(countParams(createAudioTransformerConfig({ bitDepth: 8, embeddingDim: 32, numLayers: 2, numHeads: 4 })), 41792);
  assert.equal(createAudioTransformerConfig({ bitDepth: 16 }).vocabSize, 65536);
  assert.throws(() => createAudioTransformerConfig({ bitDepth: 8, numHeads: 5 }), /divisible/);
  assert.throws(() => createAudioTransformerConfig({ bitDepth: 12 as 8 }), /bitDepth/);
  // Messages name the setting, or what the caller's label calls it (training: its options' flags on the CLI).
  assert.throws(
    () => createAudioTransformerConfig({ bitDepth: 8, embeddingDim: 3, numHeads: 3 }),
    /^ConfigError: embeddingDim must be even, got 3$/,
  );
  assert.throws(
    () => createAudioTransformerConfig({ bitDepth: 8, embeddingDim: 3, numHeads: 3 }, (s) => `<${s}>`),
    /^ConfigError: <embeddingDim> must be even, got 3$/,
  );
  assert.throws(
    () => createAudioTransformerConfig({ bitDepth: 8, embeddingDim: 12, numHeads: 4, positionalEncoding: 'rotary' }),
    /^ConfigError: positionalEncoding rotary needs an even head size \(embeddingDim \/ numHeads\), got 3$/,
  );
});

for (const name of ['d64', 'd32']) {
  test(`fixture ${name}: log-probs, loss, every gradient and the sinusoid table`, (t) => {
    const dir = sharedPath(t, 'fixtures', 'lmic-transformer', name);
    if (!dir) return;
    const f = loadFixture(dir);
    const r = lossAndGradients(f.config, f.params, { tokens: f.tokens, batchSize: f.B, seqLen: f.T }, { gradients: true, logProbs: true });
    let lpErr = 0;
    for (let i = 0; i < f.logProbs.length; i++) lpErr = Math.max(lpErr, Math.abs(r.logProbs![i]! - f.logProbs[i]!));
    assert.ok(lpErr < 2e-5, `log-probs max abs error ${lpErr}`);
    assert.ok(Math.abs(r.loss - f.loss) / f.loss < 1e-6, `loss ${r.loss} vs ${f.loss}`);
    const names = Object.keys(f.params);
    assert.equal(names.length, f.grads.tensors.size);
    for (const n of names) {
      const ref = toFloat64(f.grads.tensors.get(n)!);
      const got = r.grads![n]!.data;
      assert.equal(got.length, ref.length, n);
      let num = 0,
        den = 0,
        mx = 0,
        mref = 0;
      for (let i = 0; i < ref.length; i++) {
        const e = got[i]! - ref[i]!;
        num += e * e;
        den += ref[i]! * ref[i]!;
        mx = Math.max(mx, Math.abs(e));
        mref = Math.max(mref, Math.abs(ref[i]!));
      }
      assert.ok(Math.sqrt(num / den) < 1e-4, `${n}: relative L2 error ${Math.sqrt(num / den)}`);
      assert.ok(mx <= 1e-4 * mref, `${n}: max abs error ${mx} vs largest ${mref}`);
    }
    // LMIC's sinusoid table with its quirk, computed in wasm
    const pos = toFloat64(f.inter.tensors.get('pos_encoding')!);
    const eng = getEngine();
    const a = eng.arena();
    const b = a.f32(f.T * f.config.embeddingDim);
    eng.k.sinusoid_table(f.T, f.config.embeddingDim, b.ptr);
    const tab = eng.f32(b);
    let pe = 0;
    for (let i = 0; i < pos.length; i++) pe = Math.max(pe, Math.abs(tab[i]! - pos[i]!));
    a.dispose();
    assert.ok(pe < 1e-6, `sinusoid table error ${pe}`);
  });
}

function batchOf(B: number, T: number, seed: number): { tokens: Uint8Array; batchSize: number; seqLen: number } {
  const tokens = new Uint8Array(B * T);
  let s = seed;
  for (let i = 0; i < tokens.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    // a learnable, non-uniform source: mostly a slow ramp, sometimes noise
    tokens[i] = s % 7 === 0 ? s >>> 24 : (i * 3 + (i >> 4)) & 255;
  }
  return { tokens, batchSize: B, seqLen: T };
}

const small = createAudioTransformerConfig({ bitDepth: 8, embeddingDim: 32, numLayers: 2, numHeads: 4 });
const opt = { learningRate: 3e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, clipNorm: 1 };

function flat(p: ParamSet): Float32Array {
  const names = Object.keys(p).sort();
  const out = new Float32Array(names.reduce((s, n) => s + p[n]!.data.length, 0));
  let o = 0;
  for (const n of names) {
    out.set(p[n]!.data, o);
    o += p[n]!.data.length;
  }
  return out;
}
function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.every((v, i) => v === y[i]);
}

test('training is bit-identical for 1 and 2 workers and across runs; loss falls', async () => {
  const results: Array<{ params: Float32Array; losses: number[]; norms: number[]; evalLoss: number }> = [];
  for (const workers of [1, 2, 1]) {
    const tr = await createTrainer(small, { seed: 3, workers });
    try {
      assert.equal(tr.workers, workers);
      assert.equal(tr.numParams, countParams(small));
      const losses: number[] = [];
      const norms: number[] = [];
      for (let s = 0; s < 6; s++) {
        const r = await tr.step(batchOf(3, 45, 100 + s), { ...opt, normalizeByLength: s % 2 === 1 });
        losses.push(r.loss);
        norms.push(r.gradNorm);
      }
      results.push({ params: flat(tr.getParams()), losses, norms, evalLoss: await tr.evaluate(batchOf(2, 45, 999)) });
    } finally {
      await tr.dispose();
    }
  }
  const [a, b, c] = results as [(typeof results)[0], (typeof results)[0], (typeof results)[0]];
  assert.ok(sameBits(a.params, b.params), 'params after 6 steps: 1 vs 2 workers');
  assert.ok(sameBits(a.params, c.params), 'params after 6 steps: two runs');
  assert.deepEqual(a.losses, b.losses);
  assert.deepEqual(a.norms, b.norms);
  assert.equal(a.evalLoss, b.evalLoss);
  assert.ok(a.losses[5]! < a.losses[0]!, `loss falls: ${a.losses.join(', ')}`);
});

test('trainer loss and gradient norm agree with the reference helper; clipping and state round trip', async () => {
  const tr = await createTrainer(small, { seed: 11, workers: 1 });
  const tr2 = await createTrainer(small, { seed: 12, workers: 1 });
  try {
    const batch = batchOf(2, 20, 7);
    const p0 = tr.getParams();
    const ref = lossAndGradients(small, p0, batch, { gradients: true });
    let ss = 0;
    for (const t of Object.values(ref.grads!)) for (const v of t.data) ss += v * v;
    const r1 = await tr.step(batch, { ...opt, clipNorm: 0.5 });
    assert.ok(Math.abs(r1.loss - ref.loss) < 1e-9 * ref.loss);
    assert.ok(Math.abs(r1.gradNorm - Math.sqrt(ss)) < 1e-5 * Math.sqrt(ss), `grad norm ${r1.gradNorm} vs ${Math.sqrt(ss)}`);
    // with Adam's first step, every parameter moves by about lr (the update is m/sqrt(v) = sign(g))
    const p1 = tr.getParams();
    const moved = p1['output.bias']!.data.map((v, i) => Math.abs(v - p0['output.bias']!.data[i]!));
    assert.ok(
      moved.every((m) => m < opt.learningRate * 1.01),
      'step sizes bounded by the learning rate',
    );
    // resume: a second trainer given params + optimizer state continues identically
    tr2.setParams(tr.getParams());
    tr2.setOptimizerState(tr.getOptimizerState());
    const next = batchOf(2, 20, 8);
    const ra = await tr.step(next, opt);
    const rb = await tr2.step(next, opt);
    assert.deepEqual(ra, rb);
    assert.ok(sameBits(flat(tr.getParams()), flat(tr2.getParams())));
    assert.equal(tr.getOptimizerState().step, 2);
    assert.throws(() => tr2.setParams({ 'embed.embeddings': { shape: [1], data: new Float32Array(1) } }), /missing tensor|shape/);
    await assert.rejects(tr.step({ tokens: new Uint8Array(5), batchSize: 2, seqLen: 3 }, opt), /batch holds 5 tokens/);
  } finally {
    await tr.dispose();
    await tr2.dispose();
  }
});

for (const pe of ['sinusoidal', 'rotary'] as const) {
  test(`KV-cache predictor (${pe}) matches the full forward pass and is deterministic`, async () => {
    const config: TransformerConfig = { ...small, positionalEncoding: pe };
    const params = initParams(config, 21);
    // make the model non-trivial: a few Adam steps
    const tr = await createTrainer(config, { seed: 21, workers: 1 });
    for (let s = 0; s < 3; s++) await tr.step(batchOf(2, 30, s), opt);
    const trained = tr.getParams();
    await tr.dispose();
    assert.notDeepEqual(trained['output.bias']!.data, params['output.bias']!.data);
    const T = 41;
    const tokens = batchOf(1, T, 77).tokens;
    const ref = lossAndGradients(config, trained, { tokens, batchSize: 1, seqLen: T }, { logProbs: true });
    const runs: Float32Array[][] = [];
    const inUse = getEngine().bytesInUse;
    for (const capacity of [2048, 4]) {
      const pr = await createPredictor(trained, config, { capacity });
      const out: Float32Array[] = [pr.reset()];
      for (let t = 0; t + 1 < T; t++) out.push(pr.next(tokens[t]!));
      runs.push(out);
      // a second sequence after reset gives the same first distribution
      assert.ok(sameBits(pr.reset(), out[0]!));
      pr.dispose();
      assert.equal(getEngine().bytesInUse, inUse, "dispose frees the predictor's wasm memory");
      assert.throws(() => pr.next(1), /disposed/);
    }
    let maxd = 0;
    for (let t = 0; t < T; t++) {
      let sum = 0;
      for (let v = 0; v < 256; v++) {
        const p = runs[0]![t]![v]!;
        sum += p;
        maxd = Math.max(maxd, Math.abs(p - Math.exp(ref.logProbs![t * 256 + v]!)));
      }
      assert.ok(Math.abs(sum - 1) < 1e-5, `probabilities sum to ${sum}`);
      // cache growth (capacity 8 -> 64) gives bit-identical probabilities
      assert.ok(sameBits(runs[0]![t]!, runs[1]![t]!), `position ${t}: capacity 2048 vs 4`);
    }
    // 16-bit integer projections: within 1e-4 (see test/model/predictor.test.ts)
    assert.ok(maxd < 1e-4, `predictor vs forward: max |dp| ${maxd}`);
  });
}

test('rotary gradients agree with finite differences of the loss', () => {
  const config: TransformerConfig = {
    ...createAudioTransformerConfig({ bitDepth: 8, embeddingDim: 16, numLayers: 1, numHeads: 2 }),
    positionalEncoding: 'rotary',
  };
  const params = initParams(config, 5);
  const batch = batchOf(1, 12, 3);
  const g = lossAndGradients(config, params, batch, { gradients: true }).grads!;
  const layout = paramLayout(config);
  let checked = 0;
  for (const name of [
    'layers.0.attn.q.weight',
    'layers.0.attn.k.weight',
    'layers.0.attn.v.weight',
    'layers.0.ffn.fc1.weight',
    'embed.embeddings',
  ]) {
    const spec = layout.specs.find((s) => s.name === name)!;
    // the entries with the largest gradients (finite differences in float32 need a clear signal)
    const idx = Array.from(g[name]!.data.keys())
      .sort((a, b) => Math.abs(g[name]!.data[b]!) - Math.abs(g[name]!.data[a]!))
      .slice(0, 3);
    for (const i of idx) {
      const h = 2e-3;
      const p = structuredClone(params);
      p[name]!.data[i] = params[name]!.data[i]! + h;
      const lp = lossAndGradients(config, p, batch).loss;
      p[name]!.data[i] = params[name]!.data[i]! - h;
      const lm = lossAndGradients(config, p, batch).loss;
      const fd = (lp - lm) / (2 * h);
      const an = g[name]!.data[i]!;
      assert.ok(
        Math.abs(fd - an) <= 0.02 * Math.abs(an) + 2e-3,
        `${name}[${i}] (of ${spec.size}): analytic ${an}, finite difference ${fd}`,
      );
      checked++;
    }
  }
  assert.equal(checked, 15);
});

test('initialisation: truncated normals with the documented scales, reproducible by seed', () => {
  const c = createAudioTransformerConfig({ bitDepth: 8 });
  const a = initParams(c, 1);
  const b = initParams(c, 1);
  const d = initParams(c, 2);
  assert.ok(sameBits(flat(a), flat(b)));
  assert.ok(!sameBits(flat(a), flat(d)));
  const std = (x: Float32Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
  const e = a['embed.embeddings']!.data;
  assert.ok(Math.abs(std(e) - 0.02) < 0.001, `embedding std ${std(e)}`);
  assert.ok(e.every((v) => Math.abs(v) <= (2 * 0.02) / 0.8796 + 1e-7));
  const w = a['layers.0.ffn.fc2.weight']!.data;
  assert.ok(Math.abs(std(w) - 1 / 16) < 0.003, `fc2 std ${std(w)}`);
  assert.ok(a['layers.0.ln1.scale']!.data.every((v) => v === 1));
  assert.ok(a['output.bias']!.data.every((v) => v === 0));
});

test('16-bit vocabulary (65536): training is bit-identical for 1 and 2 workers; predictor agrees with the forward pass', async () => {
  const config = createAudioTransformerConfig({ bitDepth: 16, embeddingDim: 16, numLayers: 1, numHeads: 2 });
  const B = 2,
    T = 10;
  const tokens = new Uint16Array(B * T).map((_, i) => (i * 6007 + 13) & 0xffff);
  const out: Float32Array[] = [];
  for (const workers of [1, 2]) {
    const tr = await createTrainer(config, { seed: 4, workers });
    try {
      await tr.step({ tokens, batchSize: B, seqLen: T }, opt);
      await tr.step({ tokens, batchSize: B, seqLen: T }, opt);
      out.push(flat(tr.getParams()));
    } finally {
      await tr.dispose();
    }
  }
  assert.ok(sameBits(out[0]!, out[1]!));
  const params = initParams(config, 4);
  const seq = tokens.subarray(0, T);
  const ref = lossAndGradients(config, params, { tokens: seq, batchSize: 1, seqLen: T }, { logProbs: true });
  const pr = await createPredictor(params, config);
  let p = pr.reset();
  let maxd = 0;
  for (let t = 0; t < T; t++) {
    for (const v of [0, 1, seq[t]!, 65535]) maxd = Math.max(maxd, Math.abs(p[v]! - Math.exp(ref.logProbs![t * 65536 + v]!)));
    if (t + 1 < T) p = pr.next(seq[t]!);
  }
  pr.dispose();
  assert.ok(maxd < 1e-7, `max |dp| ${maxd}`);
});
