/**
 * The numeric kernels the EnCodec model needs, on planar float32 tensors [channels, time]. Two
 * implementations: `jsOps` (plain TypeScript, the readable reference) and the wasm SIMD kernels
 * (src/codec/ops-wasm.ts), which the model uses by default.
 */
import type { EncodecConfig } from './config.js';
import type { ConvLayer, Layer, LstmLayer } from './weights.js';

export interface CodecOps {
  /**
   * Convolution of an already padded input x [cin, tin]; returns [cout, tout], tout = floor((tin - (k-1)*dil - 1) / stride) + 1.
   * With `preElu` the input goes through ELU first (x itself is left as it is).
   */
  conv1d(layer: ConvLayer, x: Float32Array, tin: number, preElu?: boolean): Float32Array;
  /** Transposed convolution of x [cin, t]; returns the untrimmed [cout, (t-1)*stride + k]. With `preElu` as in conv1d. */
  convTranspose1d(layer: ConvLayer, x: Float32Array, t: number, preElu?: boolean): Float32Array;
  /** ELU (alpha 1), out of place. */
  elu(x: Float32Array): Float32Array;
  /** GroupNorm with one group over x [c, t] (eps 1e-5) and per-channel affine, in place. */
  groupNorm(x: Float32Array, c: number, t: number, weight: Float32Array, bias: Float32Array): void;
  /**
   * Stacked LSTM over x [dim, t] plus the skip connection; returns [dim, t]. With `state` the recurrence starts
   * from it (else from zeros) and leaves it holding the state after the last step, so a signal run in blocks
   * gives the same output as in one call.
   */
  lstm(layer: LstmLayer, x: Float32Array, t: number, state?: LstmState): Float32Array;
  /**
   * Residual vector quantisation of x [dim, t] with the given codebooks [bins, dim] in order; returns codes [nq, t]
   * (nearest entry by squared Euclidean distance, ties to the lowest index). x is overwritten with the final residual.
   */
  rvqEncode(codebooks: Float32Array[], bins: number, dim: number, x: Float32Array, t: number): Int32Array;
  /**
   * Optional: runs a whole encoder or decoder layer list on x [channels, t] with encodec's padding rules,
   * keeping activations inside the backend between layers. Must equal the layer-by-layer path.
   */
  runLayers?(layers: Layer[], x: Float32Array, channels: number, t: number, config: EncodecConfig): { data: Float32Array; t: number };
}

/** The recurrent state of a stacked LSTM: h and c of each layer, float32 (as the kernels keep them). */
export interface LstmState {
  h: Float32Array[];
  c: Float32Array[];
}

/** The zero state of `layer` (the start of a signal). */
export function zeroLstmState(layer: LstmLayer): LstmState {
  return { h: layer.layers.map(() => new Float32Array(layer.dim)), c: layer.layers.map(() => new Float32Array(layer.dim)) };
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export const jsOps: CodecOps = {
  conv1d(l, input, tin, preElu) {
    const x = preElu ? jsOps.elu(input) : input;
    const { cin, cout, k, stride, dilation } = l;
    const tout = Math.floor((tin - (k - 1) * dilation - 1) / stride) + 1;
    const y = new Float32Array(cout * tout);
    for (let co = 0; co < cout; co++) {
      const bias = l.b[co]!;
      for (let t = 0; t < tout; t++) {
        let acc = bias;
        for (let ci = 0; ci < cin; ci++) {
          const wo = (co * cin + ci) * k;
          const xo = ci * tin + t * stride;
          for (let j = 0; j < k; j++) acc += l.w[wo + j]! * x[xo + j * dilation]!;
        }
        y[co * tout + t] = acc;
      }
    }
    return y;
  },
  convTranspose1d(l, input, t, preElu) {
    const x = preElu ? jsOps.elu(input) : input;
    const { cin, cout, k, stride } = l;
    const tout = (t - 1) * stride + k;
    const y = new Float64Array(cout * tout);
    for (let ci = 0; ci < cin; ci++) {
      for (let co = 0; co < cout; co++) {
        const wo = (ci * cout + co) * k;
        for (let s = 0; s < t; s++) {
          const v = x[ci * t + s]!;
          const yo = co * tout + s * stride;
          for (let j = 0; j < k; j++) y[yo + j]! += v * l.w[wo + j]!;
        }
      }
    }
    const out = new Float32Array(cout * tout);
    for (let co = 0; co < cout; co++) for (let i = 0; i < tout; i++) out[co * tout + i] = y[co * tout + i]! + l.b[co]!;
    return out;
  },
  elu(x) {
    const y = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      y[i] = v > 0 ? v : Math.expm1(v);
    }
    return y;
  },
  groupNorm(x, c, t, weight, bias) {
    const n = c * t;
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x[i]!;
    mean /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (x[i]! - mean) ** 2;
    v /= n;
    const inv = 1 / Math.sqrt(v + 1e-5);
    for (let ch = 0; ch < c; ch++) {
      const a = weight[ch]! * inv;
      const b = bias[ch]! - mean * a;
      for (let i = ch * t; i < (ch + 1) * t; i++) x[i] = x[i]! * a + b;
    }
  },
  lstm(l, x, t, state) {
    const H = l.dim;
    let input = x;
    for (const [li, p] of l.layers.entries()) {
      const out = new Float32Array(H * t);
      // h and c are rounded to float32 each step, so a float32 state carries them exactly.
      const h = Float64Array.from(state?.h[li] ?? new Float32Array(H));
      const c = Float64Array.from(state?.c[li] ?? new Float32Array(H));
      const g = new Float64Array(4 * H);
      for (let s = 0; s < t; s++) {
        for (let r = 0; r < 4 * H; r++) {
          let acc = p.bih[r]! + p.bhh[r]!;
          for (let i = 0; i < H; i++) acc += p.wih[r * H + i]! * input[i * t + s]! + p.whh[r * H + i]! * h[i]!;
          g[r] = acc;
        }
        for (let i = 0; i < H; i++) {
          const ig = sigmoid(g[i]!);
          const fg = sigmoid(g[H + i]!);
          const gg = Math.tanh(g[2 * H + i]!);
          const og = sigmoid(g[3 * H + i]!);
          c[i] = Math.fround(fg * c[i]! + ig * gg);
          h[i] = Math.fround(og * Math.tanh(c[i]!));
          out[i * t + s] = h[i]!;
        }
      }
      if (state) {
        state.h[li]!.set(h);
        state.c[li]!.set(c);
      }
      input = out;
    }
    const y = new Float32Array(H * t);
    for (let i = 0; i < H * t; i++) y[i] = input[i]! + x[i]!;
    return y;
  },
  rvqEncode(codebooks, bins, dim, x, t) {
    const codes = new Int32Array(codebooks.length * t);
    const r = new Float32Array(dim);
    codebooks.forEach((cb, q) => {
      const norms = new Float64Array(bins);
      for (let b = 0; b < bins; b++) {
        let s = 0;
        for (let d = 0; d < dim; d++) s += cb[b * dim + d]! ** 2;
        norms[b] = s;
      }
      for (let s = 0; s < t; s++) {
        for (let d = 0; d < dim; d++) r[d] = x[d * t + s]!;
        let best = 0;
        let bestD = Infinity;
        for (let b = 0; b < bins; b++) {
          let dot = 0;
          for (let d = 0; d < dim; d++) dot += r[d]! * cb[b * dim + d]!;
          const dist = norms[b]! - 2 * dot;
          if (dist < bestD) {
            bestD = dist;
            best = b;
          }
        }
        codes[q * t + s] = best;
      }
      // The next codebook quantises what this one left over (float32, as the reference does).
      for (let s = 0; s < t; s++) {
        const b = codes[q * t + s]!;
        for (let d = 0; d < dim; d++) x[d * t + s] = x[d * t + s]! - cb[b * dim + d]!;
      }
    });
    return codes;
  },
};
