/**
 * Forward and backward of LMIC's transformer_decoder for ONE sequence, in one wasm instance.
 * The trainer runs it per sequence (in the main thread or a worker); a sequence's gradient depends
 * only on the parameters and that sequence, which is what makes training bit-identical for any
 * number of workers.
 *
 * Per layer (post-LayerNorm, as LMIC): a = LN1(h + Wo MHA(h Wq, h Wk, h Wv)); h' = LN2(a + fc2(gelu(fc1(a)))).
 * Input: embeddings(shift_right(tokens)) * sqrt(d) + sinusoid table (or rotary on q and k).
 */
import type { Block, Engine, Arena } from '../engine/wasm.js';
import type { TransformerConfig } from './api.js';
import { paramLayout, type ParamLayout } from './config.js';

const LN_EPS = 1e-5;
/** Floats of logits held at once; larger vocabularies are processed in row chunks of this size. */
const LOGIT_BUDGET = 1 << 22;

interface LayerActs {
  x: Block; // layer input [T,d]
  qkv: Block; // [T,3d]
  o: Block; // attention output before Wo [T,d]
  lse: Block; // [H,T]
  r1: Block; // h + attn [T,d]
  a: Block; // LN1 output [T,d]
  m1: Block;
  s1: Block; // LN1 mean, rstd [T]
  f1: Block; // fc1 pre-activation [T,f]
  g: Block; // gelu output [T,f]
  r2: Block; // a + ffn [T,d]
  m2: Block;
  s2: Block;
}

export class SequenceModel {
  readonly layout: ParamLayout;
  readonly params: Block;
  readonly grads: Block;
  private readonly arena: Arena;
  private acts: Arena | undefined;
  private T = 0;
  private L: LayerActs[] = [];
  private xout!: Block; // final hidden [T,d]
  private logits!: Block; // [R,V]
  private rows = 0; // logit rows per chunk
  private tokIn!: Block; // i32 [T]
  private tokTg!: Block; // i32 [T]
  private pos!: Block; // [T,d] sinusoid or 0
  private rcos!: Block;
  private rsin!: Block;
  private dx!: Block;
  private dx2!: Block;
  private da!: Block;
  private dqkv!: Block;
  private df!: Block;
  private dO!: Block;
  private kt!: Block;
  private vt!: Block;
  private dkt!: Block;
  private dvt!: Block;
  private srow!: Block;

  constructor(
    readonly eng: Engine,
    readonly config: TransformerConfig,
  ) {
    this.layout = paramLayout(config);
    this.arena = eng.arena();
    this.params = this.arena.f32(this.layout.total, true);
    this.grads = this.arena.f32(this.layout.total, true);
  }

  dispose(): void {
    this.acts?.dispose();
    this.acts = undefined;
    this.arena.dispose();
  }

  setParams(flat: Float32Array): void {
    this.eng.f32(this.params).set(flat);
  }

  private ensure(T: number): void {
    if (T === this.T) return;
    this.acts?.dispose();
    const a = this.eng.arena();
    this.acts = a;
    const c = this.config;
    const d = c.embeddingDim;
    const f = c.wideningFactor * d;
    const H = c.numHeads;
    const dh = d / H;
    const Tp = (T + 3) & ~3;
    this.L = [];
    for (let l = 0; l < c.numLayers; l++) {
      this.L.push({
        x: a.f32(T * d),
        qkv: a.f32(T * 3 * d),
        o: a.f32(T * d),
        lse: a.f32(H * T),
        r1: a.f32(T * d),
        a: a.f32(T * d),
        m1: a.f32(T),
        s1: a.f32(T),
        f1: a.f32(T * f),
        g: a.f32(T * f),
        r2: a.f32(T * d),
        m2: a.f32(T),
        s2: a.f32(T),
      });
    }
    this.xout = a.f32(T * d);
    this.rows = Math.max(1, Math.min(T, Math.floor(LOGIT_BUDGET / c.vocabSize)));
    this.logits = a.f32(this.rows * c.vocabSize);
    this.tokIn = a.i32(T);
    this.tokTg = a.i32(T);
    this.dx = a.f32(T * d);
    this.dx2 = a.f32(T * d);
    this.da = a.f32(T * d);
    this.dO = a.f32(T * d);
    this.dqkv = a.f32(T * 3 * d);
    this.df = a.f32(T * f);
    this.kt = a.f32(dh * Tp);
    this.vt = a.f32(dh * Tp);
    this.dkt = a.f32(dh * Tp);
    this.dvt = a.f32(dh * Tp);
    this.srow = a.f32(this.eng.k.attn_scratch_size(T, dh));
    if (c.positionalEncoding === 'sinusoidal') {
      this.pos = a.f32(T * d);
      this.eng.k.sinusoid_table(T, d, this.pos.ptr);
    } else {
      this.pos = { ptr: 0, length: 0 };
      this.rcos = a.f32(T * (dh / 2));
      this.rsin = a.f32(T * (dh / 2));
      this.eng.k.rotary_table(T, dh, this.rcos.ptr, this.rsin.ptr);
    }
    this.T = T;
  }

  private loadTokens(tokens: ArrayLike<number>): void {
    const T = tokens.length;
    const tin = this.eng.i32(this.tokIn);
    const ttg = this.eng.i32(this.tokTg);
    const V = this.config.vocabSize;
    for (let t = 0; t < T; t++) {
      const v = tokens[t]!;
      if (!(v >= 0 && v < V)) throw new RangeError(`token ${v} at position ${t} is outside the vocabulary 0..${V - 1}`);
      ttg[t] = v;
      tin[t] = t === 0 ? 0 : tokens[t - 1]!;
    }
  }

  /** Forward pass through the layers; leaves the final hidden states in xout. */
  private forward(T: number): void {
    const k = this.eng.k;
    const c = this.config;
    const d = c.embeddingDim;
    const f = c.wideningFactor * d;
    const H = c.numHeads;
    const dh = d / H;
    const P = this.params.ptr;
    const lay = this.layout;
    const scale = 1 / Math.sqrt(dh);
    k.embed_fwd(T, d, this.tokIn.ptr, P + 4 * lay.embed, Math.sqrt(d), this.pos.ptr, this.L[0]!.x.ptr);
    for (let l = 0; l < c.numLayers; l++) {
      const A = this.L[l]!;
      const o = lay.layers[l]!;
      const x = A.x.ptr;
      const qkv = A.qkv.ptr;
      k.gemm_nn(T, d, d, x, d, P + 4 * o.q, d, qkv, 3 * d, 0);
      k.gemm_nn(T, d, d, x, d, P + 4 * o.k, d, qkv + 4 * d, 3 * d, 0);
      k.gemm_nn(T, d, d, x, d, P + 4 * o.v, d, qkv + 8 * d, 3 * d, 0);
      if (c.positionalEncoding === 'rotary') {
        k.rotary(T, H, dh, qkv, 3 * d, this.rcos.ptr, this.rsin.ptr, 0, 1);
        k.rotary(T, H, dh, qkv + 4 * d, 3 * d, this.rcos.ptr, this.rsin.ptr, 0, 1);
      }
      k.attn_fwd(T, H, dh, qkv, qkv + 4 * d, qkv + 8 * d, 3 * d, A.o.ptr, d, A.lse.ptr, this.kt.ptr, this.vt.ptr, this.srow.ptr, scale);
      // r1 = x + o Wo
      k.gemm_nn(T, d, d, A.o.ptr, d, P + 4 * o.o, d, A.r1.ptr, d, 0);
      k.vadd(T * d, A.r1.ptr, x, A.r1.ptr);
      k.ln_fwd(T, d, A.r1.ptr, P + 4 * o.ln1s, P + 4 * o.ln1o, A.a.ptr, A.m1.ptr, A.s1.ptr, LN_EPS);
      k.gemm_nn(T, f, d, A.a.ptr, d, P + 4 * o.fc1w, f, A.f1.ptr, f, 0);
      k.add_bias(T, f, A.f1.ptr, P + 4 * o.fc1b);
      k.gelu_fwd(T * f, A.f1.ptr, A.g.ptr);
      k.gemm_nn(T, d, f, A.g.ptr, f, P + 4 * o.fc2w, d, A.r2.ptr, d, 0);
      k.add_bias(T, d, A.r2.ptr, P + 4 * o.fc2b);
      k.vadd(T * d, A.r2.ptr, A.a.ptr, A.r2.ptr);
      const next = l + 1 < c.numLayers ? this.L[l + 1]!.x.ptr : this.xout.ptr;
      k.ln_fwd(T, d, A.r2.ptr, P + 4 * o.ln2s, P + 4 * o.ln2o, next, A.m2.ptr, A.s2.ptr, LN_EPS);
    }
  }

  /**
   * Summed negative log-likelihood of the sequence (nats). With grad = true, the gradient of that sum
   * is written to `grads` (overwritten, not accumulated). logProbs, when given, receives [T,V].
   */
  run(tokens: ArrayLike<number>, grad: boolean, logProbs?: Float32Array): number {
    const T = tokens.length;
    if (T < 1) throw new RangeError('a sequence needs at least one token');
    this.ensure(T);
    this.loadTokens(tokens);
    this.forward(T);
    const k = this.eng.k;
    const c = this.config;
    const d = c.embeddingDim;
    const V = c.vocabSize;
    const P = this.params.ptr;
    const G = this.grads.ptr;
    const lay = this.layout;
    if (grad) new Uint8Array(this.eng.memory.buffer, G, this.layout.total * 4).fill(0);
    let loss = 0;
    const R = this.rows;
    let lpBlock: Block | undefined;
    let lpArena: Arena | undefined;
    if (logProbs) {
      lpArena = this.eng.arena();
      lpBlock = lpArena.f32(R * V);
    }
    for (let r0 = 0; r0 < T; r0 += R) {
      const n = Math.min(R, T - r0);
      const xr = this.xout.ptr + 4 * r0 * d;
      k.gemm_nn(n, V, d, xr, d, P + 4 * lay.outW, V, this.logits.ptr, V, 0);
      k.add_bias(n, V, this.logits.ptr, P + 4 * lay.outB);
      loss += k.xent(n, V, this.logits.ptr, this.tokTg.ptr + 4 * r0, grad ? 1 : 0, lpBlock ? lpBlock.ptr : 0);
      if (logProbs && lpBlock) logProbs.set(this.eng.f32(lpBlock.ptr, n * V), r0 * V);
      if (grad) {
        k.gemm_tn(d, V, n, xr, d, this.logits.ptr, V, G + 4 * lay.outW, V, 1);
        k.col_sum(n, V, this.logits.ptr, G + 4 * lay.outB);
        k.gemm_nt(n, d, V, this.logits.ptr, V, P + 4 * lay.outW, V, this.dx.ptr + 4 * r0 * d, d, 0);
      }
    }
    lpArena?.dispose();
    if (grad) this.backward(T);
    return loss;
  }

  private backward(T: number): void {
    const k = this.eng.k;
    const c = this.config;
    const d = c.embeddingDim;
    const f = c.wideningFactor * d;
    const H = c.numHeads;
    const dh = d / H;
    const P = this.params.ptr;
    const G = this.grads.ptr;
    const lay = this.layout;
    const scale = 1 / Math.sqrt(dh);
    const dx = this.dx.ptr; // gradient w.r.t. the current layer's output, then its input
    const da = this.da.ptr;
    const dr = this.dx2.ptr;
    for (let l = c.numLayers - 1; l >= 0; l--) {
      const A = this.L[l]!;
      const o = lay.layers[l]!;
      const x = A.x.ptr;
      const qkv = A.qkv.ptr;
      // LN2: dr = d r2
      k.ln_bwd(T, d, A.r2.ptr, dx, P + 4 * o.ln2s, A.m2.ptr, A.s2.ptr, dr, G + 4 * o.ln2s, G + 4 * o.ln2o);
      // FFN
      k.gemm_tn(f, d, T, A.g.ptr, f, dr, d, G + 4 * o.fc2w, d, 1);
      k.col_sum(T, d, dr, G + 4 * o.fc2b);
      k.gemm_nt(T, f, d, dr, d, P + 4 * o.fc2w, d, this.df.ptr, f, 0);
      k.gelu_bwd(T * f, A.f1.ptr, this.df.ptr, this.df.ptr);
      k.gemm_tn(d, f, T, A.a.ptr, d, this.df.ptr, f, G + 4 * o.fc1w, f, 1);
      k.col_sum(T, f, this.df.ptr, G + 4 * o.fc1b);
      // da = dr (residual) + df W1^T
      k.gemm_nt(T, d, f, this.df.ptr, f, P + 4 * o.fc1w, f, da, d, 0);
      k.vadd(T * d, da, dr, da);
      // LN1: dr = d r1
      k.ln_bwd(T, d, A.r1.ptr, da, P + 4 * o.ln1s, A.m1.ptr, A.s1.ptr, dr, G + 4 * o.ln1s, G + 4 * o.ln1o);
      // attention output projection
      k.gemm_tn(d, d, T, A.o.ptr, d, dr, d, G + 4 * o.o, d, 1);
      k.gemm_nt(T, d, d, dr, d, P + 4 * o.o, d, this.dO.ptr, d, 0);
      const dq = this.dqkv.ptr;
      k.attn_bwd(
        T,
        H,
        dh,
        qkv,
        qkv + 4 * d,
        qkv + 8 * d,
        3 * d,
        A.o.ptr,
        this.dO.ptr,
        d,
        A.lse.ptr,
        dq,
        dq + 4 * d,
        dq + 8 * d,
        3 * d,
        this.kt.ptr,
        this.vt.ptr,
        this.dkt.ptr,
        this.dvt.ptr,
        this.srow.ptr,
        scale,
      );
      if (c.positionalEncoding === 'rotary') {
        k.rotary(T, H, dh, dq, 3 * d, this.rcos.ptr, this.rsin.ptr, 0, -1);
        k.rotary(T, H, dh, dq + 4 * d, 3 * d, this.rcos.ptr, this.rsin.ptr, 0, -1);
      }
      k.gemm_tn(d, d, T, x, d, dq, 3 * d, G + 4 * o.q, d, 1);
      k.gemm_tn(d, d, T, x, d, dq + 4 * d, 3 * d, G + 4 * o.k, d, 1);
      k.gemm_tn(d, d, T, x, d, dq + 8 * d, 3 * d, G + 4 * o.v, d, 1);
      // dx (layer input) = dr (residual) + dq Wq^T + dk Wk^T + dv Wv^T
      k.gemm_nt(T, d, d, dq, 3 * d, P + 4 * o.q, d, dx, d, 0);
      k.gemm_nt(T, d, d, dq + 4 * d, 3 * d, P + 4 * o.k, d, dx, d, 1);
      k.gemm_nt(T, d, d, dq + 8 * d, 3 * d, P + 4 * o.v, d, dx, d, 1);
      k.vadd(T * d, dx, dr, dx);
    }
    k.embed_bwd(T, d, this.tokIn.ptr, dx, Math.sqrt(d), G + 4 * lay.embed);
  }
}
