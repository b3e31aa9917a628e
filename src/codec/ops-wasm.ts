/**
 * The EnCodec kernels in WebAssembly SIMD (assembly/codec/index.ts) through the engine's loader.
 * Weights are uploaded once per engine instance (each worker thread has its own) and kept there, packed
 * for the kernels; activations are copied in and out per layer, which costs little next to the products.
 */
import { getEngine, type Engine } from '../engine/wasm.js';
import type { CodecOps } from './ops.js';
import type { ConvLayer, LstmLayer } from './weights.js';

type K8 = (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number) => void;
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
    gemm: engine.fn<K8>('codec_conv_gemm'),
    rows: engine.fn<K7>('codec_conv_rows'),
    phase: engine.fn<K5>('codec_phase_split'),
    col2im: engine.fn<K7>('codec_col2im'),
    elu: engine.fn<K3>('codec_elu'),
    gn: engine.fn<K5>('codec_group_norm'),
    lstm: engine.fn<K8>('codec_lstm'),
    lstmScalar: engine.fn<K8>('codec_lstm_scalar'),
    add: engine.fn<K4>('codec_add'),
    vq: engine.fn<K8>('codec_vq_assign'),
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
    conv1d(l: ConvLayer, x, tin) {
      const tout = Math.floor((tin - (l.k - 1) * l.dilation - 1) / l.stride) + 1;
      const w = upload(l.w);
      const b = upload(l.b);
      const a = engine.arena();
      try {
        const xb = a.f32(l.cin * tin);
        const rows = a.i32(l.cin * l.k);
        const out = a.f32(l.cout * tout);
        engine.f32(xb).set(x);
        if (l.stride === 1) k.rows(l.cin, l.k, l.dilation, 1, xb.ptr, tin, rows.ptr);
        else {
          const U = Math.ceil(tin / l.stride);
          const pb = a.f32(l.stride * l.cin * U);
          k.phase(l.cin, tin, l.stride, xb.ptr, pb.ptr);
          k.rows(l.cin, l.k, l.dilation, l.stride, pb.ptr, U, rows.ptr);
        }
        k.gemm(l.cout, tout, l.cin * l.k, w, rows.ptr, b, out.ptr, tout);
        return engine.f32(out).slice();
      } finally {
        a.dispose();
      }
    },
    convTranspose1d(l, x, t) {
      // W'[co*k + j, ci] = w[ci, co, j]
      const wt = upload(l.w, () => {
        const p = new Float32Array(l.w.length);
        for (let ci = 0; ci < l.cin; ci++) for (let co = 0; co < l.cout; co++) for (let j = 0; j < l.k; j++) p[(co * l.k + j) * l.cin + ci] = l.w[(ci * l.cout + co) * l.k + j]!;
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
        const rows = plainRows(a, l.cin, t, xb.ptr);
        k.gemm(l.cout * l.k, t, l.cin, wt, rows, zeros(l.cout * l.k), z.ptr, t);
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
    lstm(l: LstmLayer, x, t) {
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
          k.gemm(4 * H, t, H, wih, rows, bias, gx.ptr, t);
          const out = outs[li % 2]!;
          (H % 4 === 0 ? k.lstm : k.lstmScalar)(H, t, gx.ptr, whh, out.ptr, h.ptr, c.ptr, g.ptr);
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
          k.gemm(bins, t, dim, ep, rows, zeros(bins), d.ptr, t);
          k.vq(bins, dim, t, d.ptr, norms, ep, r.ptr, cb.ptr);
          codes.set(engine.i32(cb), q * t);
        });
        x.set(engine.f32(r));
      } finally {
        a.dispose();
      }
      return codes;
    },
    dispose() {
      for (const p of resident.values()) engine.free(p);
      for (const p of zerosBlocks.values()) engine.free(p);
      resident.clear();
      zerosBlocks.clear();
    },
  };
  return ops;
}

// A distinct map key per codebook for its norms (the codebook array itself keys the entries).
const normKeys = new WeakMap<Float32Array, Float32Array>();
function normKey(e: Float32Array): Float32Array {
  let k = normKeys.get(e);
  if (!k) normKeys.set(e, (k = new Float32Array(0)));
  return k;
}
