/**
 * Parameter initialisation as LMIC's transformer_decoder (Haiku) does it, with wavelm's own seeded PRNG:
 *
 * - embeddings: truncated normal (|z| <= 2, redrawn) with stddev embInitScale;
 * - linear weights: truncated normal with sigma 1/sqrt(fan_in) (Haiku's VarianceScaling default for
 *   hk.Linear is truncated normal with stddev 1/sqrt(fan_in)); biases 0;
 * - LayerNorm: scale 1, offset 0.
 *
 * The generator is xoshiro128** seeded through splitmix32; normals come from Box-Muller on 24-bit
 * uniforms. Draws happen tensor by tensor in LMIC's creation order (paramShapes). numpy's streams are
 * not reproduced (nor are JAX's): a given seed gives the same parameters on every machine running the
 * same Node major version (Math.log/cos/sqrt are V8's fdlibm ports), and checkpoints store the result.
 * (Haiku's TruncatedNormal divides its stddev by 0.8796, the std of a standard normal cut at +-2, so
 * the truncated distribution has the asked stddev; we apply the same correction. The fixtures'
 * parameters are drawn without it, which does not matter: tests load them.)
 */
import type { TransformerConfig } from './api.js';
import { paramLayout, type ParamLayout } from './config.js';

/**
 * The random numbers of parameter initialisation: xoshiro128** seeded by splitmix32 from the seed's low
 * 32 bits, with Box-Muller normals. Same generator family as the training loop's TrainingRng
 * (src/model/training/rng.ts) but a separate class: its seeding and draws fix the initial parameters of
 * every seed, so it stays as it is, and it needs no saved state (checkpoints store the parameters).
 */
export class ParamInitRng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | undefined;
  constructor(seed: number) {
    let x = seed >>> 0;
    const next = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }
  /** Next 32-bit unsigned integer (xoshiro128**). */
  u32(): number {
    const r = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    this.s3 >>>= 0;
    return r;
  }
  /** Uniform in (0, 1). */
  uniform(): number {
    return ((this.u32() >>> 8) + 0.5) / 16777216;
  }
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(this.uniform()));
    const a = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(a);
    return r * Math.cos(a);
  }
  /** Standard normal redrawn until |z| <= 2. */
  truncNormal(): number {
    for (;;) {
      const z = this.normal();
      if (Math.abs(z) <= 2) return z;
    }
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Std of a standard normal truncated to [-2, 2]; Haiku divides by it so the result keeps the asked stddev. */
const TRUNC_STD = 0.87962566103423978;

/** Initial parameters as a flat vector in the layout of paramLayout(config). */
export function initFlatParams(config: TransformerConfig, seed: number, layout: ParamLayout = paramLayout(config)): Float32Array {
  const rng = new ParamInitRng(seed);
  const flat = new Float32Array(layout.total);
  for (const s of layout.specs) {
    const v = flat.subarray(s.offset, s.offset + s.size);
    const leaf = s.name.split('.').pop()!;
    if (s.name === 'embed.embeddings') {
      for (let i = 0; i < v.length; i++) v[i] = rng.truncNormal() * (config.embInitScale / TRUNC_STD);
    } else if (leaf === 'weight') {
      const sigma = 1 / Math.sqrt(s.shape[0]!) / TRUNC_STD;
      for (let i = 0; i < v.length; i++) v[i] = rng.truncNormal() * sigma;
    } else if (leaf === 'scale') {
      v.fill(1);
    } // biases and offsets stay 0
  }
  return flat;
}
