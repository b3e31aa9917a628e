/** Worker for bench/codec.ts: a full-size random-weight EnCodec model per worker; encodes or decodes a synthetic clip. */
import {
  EncodecModel,
  ENCODEC_24KHZ,
  ENCODEC_48KHZ,
  randomTensors,
  wasmOps,
  weightsFromTensors,
  type EncodedAudio,
} from '../src/codec/index.js';

export interface CodecBenchInit {
  model: '24k' | '48k';
}
export interface CodecBenchTask {
  op: 'encode' | 'decode';
  seconds: number;
  bandwidth: number;
}

let model: EncodecModel | undefined;
let encoded: EncodedAudio | undefined;

export function synth(rate: number, channels: number, seconds: number): Float32Array {
  const n = Math.round(rate * seconds);
  const x = new Float32Array(n * channels);
  let s = 12345;
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      x[c * n + i] = 0.3 * Math.sin(i * 0.013 * (c + 1)) + 0.05 * (s / 2 ** 32 - 0.5);
    }
  }
  return x;
}

export function buildModel(which: '24k' | '48k'): EncodecModel {
  const cfg = which === '24k' ? ENCODEC_24KHZ : ENCODEC_48KHZ;
  return new EncodecModel(weightsFromTensors(cfg, randomTensors(cfg, 7)), wasmOps());
}

export function init(d: CodecBenchInit): void {
  model = buildModel(d.model);
}

export function run(t: CodecBenchTask): number {
  const m = model!;
  const n = Math.round(m.sampleRate * t.seconds);
  if (t.op === 'encode' || !encoded)
    encoded = m.encode({ data: synth(m.sampleRate, m.channels, t.seconds), channels: m.channels, length: n }, t.bandwidth);
  if (t.op === 'decode') m.decode(encoded);
  return n;
}
