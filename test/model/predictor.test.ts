// The KV-cache predictor's kernel (assembly/lm.ts lm_step): agreement with the full forward pass for the LMIC head
// size (8, the 16-bit cache of attend16.ts) and other head sizes (the generic f32 path) over contexts long enough
// to cover every loop shape (for head size 8, more than one 256-key segment); bit-identity across reset, cache
// growth and engine instances; the softmax and GELU of lm.ts against nn.ts; and a pinned hash of the probabilities,
// because archives written by the LM compressor can only be decoded by a predictor that computes the same bits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ParamSet, TransformerConfig } from '../../src/model/api.js';
import { createAudioTransformerConfig, createPredictor, createTrainer, initParams, lossAndGradients } from '../../src/model/transformer.js';
import { createEngine, getEngine } from '../../src/engine/wasm.js';

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.every((v, i) => v === y[i]);
}

function tokensOf(n: number, seed: number): Uint8Array {
  const t = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    t[i] = s % 5 === 0 ? s >>> 24 : (128 + 50 * Math.sin(i / 7) + ((s >>> 29) - 4)) & 255;
  }
  return t;
}

/** A few Adam steps so that attention is not near-uniform. */
async function trained(config: TransformerConfig, seed: number): Promise<ParamSet> {
  const tr = await createTrainer(config, { seed, workers: 1 });
  try {
    for (let s = 0; s < 3; s++) {
      await tr.step(
        { tokens: tokensOf(2 * 64, seed + s), batchSize: 2, seqLen: 64 },
        { learningRate: 3e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, clipNorm: 1 },
      );
    }
    return tr.getParams();
  } finally {
    await tr.dispose();
  }
}

function run(pr: { reset(): Float32Array; next(t: number): Float32Array }, tokens: Uint8Array): Float32Array[] {
  const out = [pr.reset()];
  for (let t = 0; t + 1 < tokens.length; t++) out.push(pr.next(tokens[t]!));
  return out;
}

async function checkAgainstForward(config: TransformerConfig, T: number, seed: number): Promise<void> {
  const params = await trained(config, seed);
  const tokens = tokensOf(T, seed + 100);
  const ref = lossAndGradients(config, params, { tokens, batchSize: 1, seqLen: T }, { logProbs: true });
  const V = config.vocabSize;
  const pr = await createPredictor(params, config, { capacity: 4 }); // grows 4 -> 8 -> ... while running
  const a = run(pr, tokens);
  const b = run(pr, tokens); // after reset: the stale cache of the first pass must not matter
  pr.dispose();
  const pr2 = await createPredictor(params, config, { capacity: 2048, engine: createEngine() });
  const c = run(pr2, tokens);
  pr2.dispose();
  let maxd = 0;
  for (let t = 0; t < T; t++) {
    assert.ok(sameBits(a[t]!, b[t]!), `position ${t}: second run after reset differs`);
    assert.ok(sameBits(a[t]!, c[t]!), `position ${t}: capacity 4 (grown) vs 2048 in another engine instance differ`);
    let sum = 0;
    for (let v = 0; v < V; v++) {
      sum += a[t]![v]!;
      maxd = Math.max(maxd, Math.abs(a[t]![v]! - Math.exp(ref.logProbs![t * V + v]!)));
    }
    assert.ok(Math.abs(sum - 1) < 1e-5, `position ${t}: probabilities sum to ${sum}`);
  }
  // the predictor runs on 16-bit integer projections (and, for head size 8, a 16-bit cache): its
  // probabilities stay within 1e-4 of the f32 training forward (3e-5 measured), which costs nothing
  // measurable in compressed size (docs/engine.md)
  assert.ok(maxd < 1e-4, `predictor vs forward: max |dp| ${maxd}`);
}

test("LMIC's head size 8: matches the forward pass on 600 tokens, same bits after reset, cache growth, in another engine", async () => {
  await checkAgainstForward(createAudioTransformerConfig({ bitDepth: 8 }), 600, 1);
});

test('head size 8 with rotary embeddings: matches the forward pass', async () => {
  await checkAgainstForward(
    { ...createAudioTransformerConfig({ bitDepth: 8, embeddingDim: 32, numLayers: 2, numHeads: 4 }), positionalEncoding: 'rotary' },
    77,
    2,
  );
});

test('other head sizes (4, 16; the generic attention path): match the forward pass', async () => {
  await checkAgainstForward(createAudioTransformerConfig({ bitDepth: 8, embeddingDim: 16, numLayers: 2, numHeads: 4 }), 70, 3);
  await checkAgainstForward(
    { ...createAudioTransformerConfig({ bitDepth: 8, embeddingDim: 32, numLayers: 1, numHeads: 2 }), positionalEncoding: 'rotary' },
    53,
    4,
  );
});

test('lm_softmax matches nn.ts softmax bit for bit; lm_gelu is within 1e-5 of nn.ts gelu_fwd, scalar tail equal to SIMD body', () => {
  const eng = getEngine();
  const a = eng.arena();
  try {
    const n = 4099; // a scalar tail too
    const xs = new Float32Array(n);
    let s = 7;
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const u = s / 2 ** 32;
      // small |x| (tanh's polynomial branch), moderate, and large (exp clamps)
      xs[i] = i % 3 === 0 ? (u - 0.5) * 1.5 : i % 3 === 1 ? (u - 0.5) * 16 : (u - 0.5) * 400;
    }
    xs[0] = 0;
    xs[1] = -0;
    xs[2] = 0.625;
    xs[3] = -0.625;
    xs[4] = 1e-30;
    xs[5] = 88.5;
    xs[6] = -88.5;
    const X = a.from(xs);
    const Y1 = a.f32(n);
    const Y2 = a.f32(n);
    xs.copyWithin(n - 3, 10, 13); // the scalar tail repeats three inputs of the SIMD body
    eng.f32(X).set(xs);
    eng.k.gelu_fwd(n, X.ptr, Y1.ptr);
    eng.fn<(n: number, x: number, y: number) => void>('lm_gelu')(n, X.ptr, Y2.ptr);
    const y1 = eng.f32(Y1);
    const y2 = eng.f32(Y2);
    for (let i = 0; i < n; i++) {
      assert.ok(Math.abs(y2[i]! - y1[i]!) <= 1e-5 * Math.abs(y1[i]!) + 1e-6, `gelu(${xs[i]}): ${y2[i]} vs gelu_fwd ${y1[i]}`);
    }
    assert.ok(sameBits(y2.subarray(n - 3), y2.subarray(10, 13)), 'gelu: scalar tail vs SIMD body');
    for (const V of [256, 259, 7]) {
      for (const scale of [1, 30, 0.001]) {
        const row = a.from(xs.subarray(100, 100 + V).map((x) => x * scale));
        const P1 = a.f32(V);
        const P2 = a.f32(V);
        eng.k.softmax(1, V, row.ptr, P1.ptr);
        eng.fn<(V: number, x: number, p: number) => void>('lm_softmax')(V, row.ptr, P2.ptr);
        assert.ok(sameBits(eng.f32(P1), eng.f32(P2)), `softmax V=${V} scale ${scale}`);
      }
    }
  } finally {
    a.dispose();
  }
});

// FNV-1a over the bits of every probability of a fixed model and token sequence. A change here means
// the predictor computes different probabilities, so archives written before the change no longer
// decode: change the kernels' arithmetic only on purpose (and say so in docs/engine.md), and bump
// WLM_VERSION (src/compress/archive.ts) with it.
const PINNED = { T: 300, hash: 'efff6f2a' };

test('probabilities are pinned bit for bit (LMIC d=64 model, initParams seed 0, 300 tokens)', async () => {
  const config = createAudioTransformerConfig({ bitDepth: 8 });
  const pr = await createPredictor(initParams(config, 0), config);
  let h = 2166136261;
  const add = (p: Float32Array): void => {
    const u = new Uint32Array(p.buffer, p.byteOffset, p.length);
    for (let i = 0; i < u.length; i++) h = Math.imul(h ^ u[i]!, 16777619) >>> 0;
  };
  for (const p of run(pr, tokensOf(PINNED.T, 9))) add(p);
  pr.dispose();
  assert.equal(h.toString(16), PINNED.hash);
});
