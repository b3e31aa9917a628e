/**
 * The EnCodec kernels in WebAssembly SIMD (assembly/codec/index.ts) through the engine's loader.
 * Weights are uploaded once per engine instance (each worker thread has its own) and kept there, packed
 * for the kernels; activations are copied in and out per layer, which costs little next to the products.
 */
import { getEngine, type Engine } from '../engine/wasm.js';
import type { EncodecConfig } from './config.js';
import type { CodecOps } from './ops.js';
import { convPadding, convTrTrim, type ConvLayer, type Layer, type LstmLayer } from './weights.js';

type K8 = (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number) => void;
type K9 = (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number) => void;
type K7 = (a: number, b: number, c: number, d: number, e: number, f: number, g: number) => void;
type K5 = (a: number, b: number, c: number, d: number, e: number) => void;
type K4 = (a: number, b: number, c: number, d: number) => void;
type K3 = (a: number, b: number, c: number) => void;

export interface WasmCodecOps extends CodecOps {
  /** Frees the uploaded weights. */
  dispose(): void;
}

/** CodecOps on `engine` (default: this thread's engine). */
export function wasmOps(engine: Engine = getEngine()): WasmCodecOps {
  const k = {
    gemm9: engine.fn<K9>('codec_conv_gemm'),
    panelCols: engine.fn<(k: number) => number>('codec_panel_cols'),
    rows: engine.fn<K7>('codec_conv_rows'),
    phase: engine.fn<K5>('codec_phase_split'),
    col2im: engine.fn<K7>('codec_col2im'),
    elu: engine.fn<K3>('codec_elu'),
    gn: engine.fn<K5>('codec_group_norm'),
    lstm: engine.fn<K8>('codec_lstm'),
    lstmScalar: engine.fn<K8>('codec_lstm_scalar'),
    add: engine.fn<K4>('codec_add'),
    pad: engine.fn<K7>('codec_pad'),
    trim: engine.fn<(a: number, b: number, c: number, d: number, e: number, f: number) => void>('codec_trim'),
    vq: engine.fn<K8>('codec_vq_assign'),
  };
  let panel = 0;
  let panelBytes = 0;
  /** The conv GEMM with a packing panel sized for depth K (kept between calls, grown when needed). */
  const gemm = (M: number, N: number, K: number, A: number, rows: number, bias: number, C: number, ldc: number): void => {
    const need = K * k.panelCols(K) * 4;
    if (need > panelBytes) {
      if (panel) engine.free(panel);
      panel = engine.alloc(need);
      panelBytes = need;
    }
    k.gemm9(M, N, K, A, rows, bias, C, ldc, panel);
  };
  const resident = new Map<Float32Array, number>();
  const zerosBlocks = new Map<number, number>();
  const upload = (key: Float32Array, make: () => Float32Array = () => key): number => {
    let p = resident.get(key);
    if (p === undefined) {
      const data = make();
      p = engine.alloc(data.length * 4);
      engine.f32(p, data.length).set(data);
      resident.set(key, p);
    }
    return p;
  };
  const zeros = (n: number): number => {
    let p = zerosBlocks.get(n);
    if (p === undefined) {
      p = engine.alloc(n * 4);
      engine.f32(p, n).fill(0);
      zerosBlocks.set(n, p);
    }
    return p;
  };
  /** rows pointers for a unit-stride product over the rows of x [rows, cols] at byte address xp. */
  const plainRows = (a: ReturnType<Engine['arena']>, n: number, cols: number, xp: number): number => {
    const r = a.i32(n);
    k.rows(n, 1, 1, 1, xp, cols, r.ptr);
    return r.ptr;
  };

  const ops: WasmCodecOps = {
    conv1d(l: ConvLayer, x, tin, preElu) {
      const tout = Math.floor((tin - (l.k - 1) * l.dilation - 1) / l.stride) + 1;
      const w = upload(l.w);
      const b = upload(l.b);
      const a = engine.arena();
      try {
        const xb = a.f32(l.cin * tin);
        const rows = a.i32(l.cin * l.k);
        const out = a.f32(l.cout * tout);
        engine.f32(xb).set(x);
        if (preElu) k.elu(l.cin * tin, xb.ptr, xb.ptr);
        if (l.stride === 1) k.rows(l.cin, l.k, l.dilation, 1, xb.ptr, tin, rows.ptr);
        else {
          const U = Math.ceil(tin / l.stride);
          const pb = a.f32(l.stride * l.cin * U);
          k.phase(l.cin, tin, l.stride, xb.ptr, pb.ptr);
          k.rows(l.cin, l.k, l.dilation, l.stride, pb.ptr, U, rows.ptr);
        }
        gemm(l.cout, tout, l.cin * l.k, w, rows.ptr, b, out.ptr, tout);
        return engine.f32(out).slice();
      } finally {
        a.dispose();
      }
    },
    convTranspose1d(l, x, t, preElu) {
      // W'[co*k + j, ci] = w[ci, co, j]
      const wt = upload(l.w, () => {
        const p = new Float32Array(l.w.length);
        for (let ci = 0; ci < l.cin; ci++)
          for (let co = 0; co < l.cout; co++)
            for (let j = 0; j < l.k; j++) p[(co * l.k + j) * l.cin + ci] = l.w[(ci * l.cout + co) * l.k + j]!;
        return p;
      });
      const b = upload(l.b);
      const L = (t - 1) * l.stride + l.k;
      const a = engine.arena();
      try {
        const xb = a.f32(l.cin * t);
        const z = a.f32(l.cout * l.k * t);
        const y = a.f32(l.cout * L);
        engine.f32(xb).set(x);
        if (preElu) k.elu(l.cin * t, xb.ptr, xb.ptr);
        const rows = plainRows(a, l.cin, t, xb.ptr);
        gemm(l.cout * l.k, t, l.cin, wt, rows, zeros(l.cout * l.k), z.ptr, t);
        k.col2im(l.cout, l.k, t, l.stride, z.ptr, b, y.ptr);
        return engine.f32(y).slice();
      } finally {
        a.dispose();
      }
    },
    elu(x) {
      const a = engine.arena();
      try {
        const xb = a.f32(x.length);
        engine.f32(xb).set(x);
        k.elu(x.length, xb.ptr, xb.ptr);
        return engine.f32(xb).slice();
      } finally {
        a.dispose();
      }
    },
    groupNorm(x, c, t, weight, bias) {
      const w = upload(weight);
      const b = upload(bias);
      const a = engine.arena();
      try {
        const xb = a.f32(x.length);
        engine.f32(xb).set(x);
        k.gn(c, t, xb.ptr, w, b);
        x.set(engine.f32(xb));
      } finally {
        a.dispose();
      }
    },
    lstm(l: LstmLayer, x, t, state) {
      const H = l.dim;
      const a = engine.arena();
      try {
        const xb = a.f32(H * t);
        engine.f32(xb).set(x);
        let input = xb.ptr;
        const gx = a.f32(4 * H * t);
        const outs = [a.f32(H * t), a.f32(H * t)];
        const h = a.f32(H);
        const c = a.f32(H);
        const g = a.f32(4 * H);
        l.layers.forEach((p, li) => {
          const wih = upload(p.wih);
          const whh = upload(p.whh);
          const bias = upload(p.bih, () => p.bih.map((v, i) => v + p.bhh[i]!));
          const rows = plainRows(a, H, t, input);
          gemm(4 * H, t, H, wih, rows, bias, gx.ptr, t);
          const out = outs[li % 2]!;
          engine.f32(h).set(state?.h[li] ?? new Float32Array(H));
          engine.f32(c).set(state?.c[li] ?? new Float32Array(H));
          (H % 4 === 0 ? k.lstm : k.lstmScalar)(H, t, gx.ptr, whh, out.ptr, h.ptr, c.ptr, g.ptr);
          if (state) {
            state.h[li]!.set(engine.f32(h));
            state.c[li]!.set(engine.f32(c));
          }
          input = out.ptr;
        });
        const y = a.f32(H * t);
        k.add(H * t, input, xb.ptr, y.ptr);
        return engine.f32(y).slice();
      } finally {
        a.dispose();
      }
    },
    rvqEncode(codebooks, bins, dim, x, t) {
      const codes = new Int32Array(codebooks.length * t);
      const a = engine.arena();
      try {
        const r = a.f32(dim * t);
        const d = a.f32(bins * t);
        const cb = a.i32(t);
        engine.f32(r).set(x);
        const rows = plainRows(a, dim, t, r.ptr);
        codebooks.forEach((e, q) => {
          const ep = upload(e);
          const norms = upload(normKey(e), () => {
            const nv = new Float32Array(bins);
            for (let b = 0; b < bins; b++) {
              let s = 0;
              for (let i = 0; i < dim; i++) s += e[b * dim + i]! ** 2;
              nv[b] = s;
            }
            return nv;
          });
          gemm(bins, t, dim, ep, rows, zeros(bins), d.ptr, t);
          k.vq(bins, dim, t, d.ptr, norms, ep, r.ptr, cb.ptr);
          codes.set(engine.i32(cb), q * t);
        });
        x.set(engine.f32(r));
      } finally {
        a.dispose();
      }
      return codes;
    },
    runLayers(layers: Layer[], x: Float32Array, channels: number, t: number, cfg: EncodecConfig) {
      const live = new Set<number>();
      const alloc = (n: number): number => {
        const p = engine.alloc(Math.max(1, n) * 4);
        live.add(p);
        return p;
      };
      const free = (p: number): void => {
        if (live.delete(p)) engine.free(p);
      };
      const padMode = cfg.padMode === 'reflect' ? 1 : cfg.padMode === 'replicate' ? 2 : 0;
      /**
       * encodec's SConv1d on the resident buffer xp [cin, t]; preElu applies ELU to the padded copy (ELU(0) = 0,
       * so it commutes with padding).
       */
      const sconv = (l: ConvLayer, xp: number, tin: number, preElu: boolean): { ptr: number; t: number } => {
        const { left, right } = convPadding(l, tin, cfg.useCausalConv);
        const keff = (l.k - 1) * l.dilation + 1;
        const nt = tin + left + right;
        let src = xp;
        if (left > 0 || right > 0 || preElu) {
          src = alloc(l.cin * nt);
          k.pad(l.cin, tin, left, right, padMode, xp, src);
          if (preElu) k.elu(l.cin * nt, src, src);
        }
        const tout = Math.floor((nt - keff) / l.stride) + 1;
        const rows = alloc(l.cin * l.k);
        let phases = 0;
        if (l.stride === 1) k.rows(l.cin, l.k, l.dilation, 1, src, nt, rows);
        else {
          const U = Math.ceil(nt / l.stride);
          phases = alloc(l.stride * l.cin * U);
          k.phase(l.cin, nt, l.stride, src, phases);
          k.rows(l.cin, l.k, l.dilation, l.stride, phases, U, rows);
        }
        const out = alloc(l.cout * tout);
        gemm(l.cout, tout, l.cin * l.k, upload(l.w), rows, upload(l.b), out, tout);
        free(rows);
        if (phases) free(phases);
        if (src !== xp) free(src);
        if (l.norm) k.gn(l.cout, tout, out, upload(l.norm.weight), upload(l.norm.bias));
        return { ptr: out, t: tout };
      };
      const sconvTr = (l: ConvLayer, xp: number, tin: number): { ptr: number; t: number } => {
        const wt = upload(l.w, () => {
          const p = new Float32Array(l.w.length);
          for (let ci = 0; ci < l.cin; ci++)
            for (let co = 0; co < l.cout; co++)
              for (let j = 0; j < l.k; j++) p[(co * l.k + j) * l.cin + ci] = l.w[(ci * l.cout + co) * l.k + j]!;
          return p;
        });
        const L = (tin - 1) * l.stride + l.k;
        const z = alloc(l.cout * l.k * tin);
        const rows = alloc(l.cin);
        k.rows(l.cin, 1, 1, 1, xp, tin, rows);
        gemm(l.cout * l.k, tin, l.cin, wt, rows, zeros(l.cout * l.k), z, tin);
        free(rows);
        const y = alloc(l.cout * L);
        k.col2im(l.cout, l.k, tin, l.stride, z, upload(l.b), y);
        free(z);
        if (l.norm) k.gn(l.cout, L, y, upload(l.norm.weight), upload(l.norm.bias));
        const { left, right } = convTrTrim(l, cfg.useCausalConv, cfg.trimRightRatio);
        const nt = L - left - right;
        const out = alloc(l.cout * nt);
        k.trim(l.cout, L, left, nt, y, out);
        free(y);
        return { ptr: out, t: nt };
      };
      const lstm = (l: LstmLayer, xp: number, tin: number): number => {
        const H = l.dim;
        const gx = alloc(4 * H * tin);
        const outs = [alloc(H * tin), alloc(H * tin)];
        const h = alloc(H);
        const c = alloc(H);
        const g = alloc(4 * H);
        const rows = alloc(H);
        let input = xp;
        l.layers.forEach((p, li) => {
          const bias = upload(p.bih, () => p.bih.map((v, i) => v + p.bhh[i]!));
          k.rows(H, 1, 1, 1, input, tin, rows);
          gemm(4 * H, tin, H, upload(p.wih), rows, bias, gx, tin);
          const out = outs[li % 2]!;
          engine.f32(h, H).fill(0);
          engine.f32(c, H).fill(0);
          (H % 4 === 0 ? k.lstm : k.lstmScalar)(H, tin, gx, upload(p.whh), out, h, c, g);
          input = out;
        });
        const y = alloc(H * tin);
        k.add(H * tin, input, xp, y);
        for (const p of [gx, outs[0]!, outs[1]!, h, c, g, rows]) free(p);
        return y;
      };
      try {
        let cur = alloc(channels * t);
        engine.f32(cur, channels * t).set(x);
        let ch = channels;
        let len = t;
        for (let li = 0; li < layers.length; li++) {
          const l = layers[li]!;
          if (l.kind === 'elu') {
            // An ELU before a padded convolution is applied to the padded copy the convolution makes anyway;
            // otherwise in place (the main chain never reuses an activation after its ELU).
            if (layers[li + 1]?.kind !== 'conv') k.elu(ch * len, cur, cur);
          } else if (l.kind === 'conv') {
            const r = sconv(l, cur, len, layers[li - 1]?.kind === 'elu');
            free(cur);
            cur = r.ptr;
            len = r.t;
            ch = l.cout;
          } else if (l.kind === 'convtr') {
            const r = sconvTr(l, cur, len);
            free(cur);
            cur = r.ptr;
            len = r.t;
            ch = l.cout;
          } else if (l.kind === 'lstm') {
            const y = lstm(l, cur, len);
            free(cur);
            cur = y;
          } else if (l.kind === 'res') {
            let h = sconv(l.convs[0]!, cur, len, true);
            for (let i = 1; i < l.convs.length; i++) {
              k.elu(l.convs[i]!.cin * h.t, h.ptr, h.ptr);
              const nh = sconv(l.convs[i]!, h.ptr, h.t, false);
              free(h.ptr);
              h = nh;
            }
            if (l.shortcut) {
              const s = sconv(l.shortcut, cur, len, false);
              k.add(ch * len, h.ptr, s.ptr, h.ptr);
              free(s.ptr);
            } else k.add(ch * len, h.ptr, cur, h.ptr);
            free(cur);
            cur = h.ptr;
          }
        }
        return { data: engine.f32(cur, ch * len).slice(), t: len };
      } finally {
        for (const p of live) engine.free(p);
      }
    },
    dispose() {
      for (const p of resident.values()) engine.free(p);
      for (const p of zerosBlocks.values()) engine.free(p);
      resident.clear();
      zerosBlocks.clear();
      if (panel) engine.free(panel);
      panel = 0;
      panelBytes = 0;
    },
  };
  return ops;
}

// A distinct map key per codebook for its norms (the codebook array itself keys the entries).
const normKeys = new WeakMap<Float32Array, Float32Array>();
function normKey(e: Float32Array): Float32Array {
  let k = normKeys.get(e);
  if (!k) {
    k = new Float32Array(0);
    normKeys.set(e, k);
  }
  return k;
}
