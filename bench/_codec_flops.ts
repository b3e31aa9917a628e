/**
 * The arithmetic of one EnCodec encode and decode, counted on the kernels that do it: each matrix product
 * (convolutions, transposed convolutions, the LSTM's input projections, the quantiser's distances) is
 * 2 * M * N * K floating-point operations and each LSTM recurrence step 2 * 4H * H. The products are also
 * timed one by one, which gives the rate of the engine's GEMM kernel on the model's own shapes.
 * bench/codec.ts divides these counts by wavelm's and PyTorch's times for the same clip: both run the same
 * architecture, so the counts say how many operations per second each side sustains.
 */
import { EncodecModel, randomTensors, wasmOps, weightsFromTensors, type EncodecConfig } from '../src/codec/index.js';
import { getEngine, type Engine } from '../src/engine/wasm.js';
import { synth } from './_codec_worker.js';

export interface CodecArithmetic {
  /** Operations per second of audio. */
  encodeFlops: number;
  decodeFlops: number;
  /** Operations in codec_conv_gemm over both directions, and the seconds spent in it. */
  gemmFlops: number;
  gemmSeconds: number;
}

type Kernel = (...args: number[]) => unknown;

/** `engine` with its kernels wrapped to count (and, for the GEMM, time) the operations they do. */
function countingEngine(engine: Engine, tally: { flops: number; gemmFlops: number; gemmSeconds: number }): Engine {
  const wrap = (name: string, kernel: Kernel): Kernel => {
    if (name === 'codec_conv_gemm')
      return (...a) => {
        const t0 = performance.now();
        const r = kernel(...a);
        tally.gemmSeconds += (performance.now() - t0) / 1000;
        const flops = 2 * a[0]! * a[1]! * a[2]!;
        tally.gemmFlops += flops;
        tally.flops += flops;
        return r;
      };
    if (name === 'codec_lstm' || name === 'codec_lstm_scalar')
      return (...a) => {
        tally.flops += 2 * 4 * a[0]! * a[0]! * a[1]!;
        return kernel(...a);
      };
    return kernel;
  };
  return new Proxy(engine, {
    get(target, key) {
      if (key === 'fn') return (name: string) => wrap(name, target.fn<Kernel>(name));
      const v = Reflect.get(target, key, target) as unknown;
      return typeof v === 'function' ? (v as Kernel).bind(target) : v;
    },
  });
}

/** Counts one encode and one decode of `seconds` of synthetic audio by the full-size model of `cfg`. */
export function codecArithmetic(cfg: EncodecConfig, seconds: number, bandwidth: number): CodecArithmetic {
  const tally = { flops: 0, gemmFlops: 0, gemmSeconds: 0 };
  const ops = wasmOps(countingEngine(getEngine(), tally));
  try {
    const model = new EncodecModel(weightsFromTensors(cfg, randomTensors(cfg, 7)), ops);
    const n = Math.round(cfg.samplingRate * seconds);
    const codes = model.encode(
      { data: synth(cfg.samplingRate, cfg.audioChannels, seconds), channels: cfg.audioChannels, length: n },
      bandwidth,
    );
    const encodeFlops = tally.flops / seconds;
    tally.flops = 0;
    model.decode(codes);
    return { encodeFlops, decodeFlops: tally.flops / seconds, gemmFlops: tally.gemmFlops, gemmSeconds: tally.gemmSeconds };
  } finally {
    ops.dispose();
  }
}
