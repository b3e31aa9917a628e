/**
 * EnCodec encode/decode speed (multiples of real time) for the full-size 24 kHz mono and 48 kHz stereo
 * models with random weights of the real shapes, on 1 worker (this thread) and 2 workers (two clips at
 * once, one model per worker thread), plus STOI / ESTOI speed at 16 kHz.
 * Usage: npm run bench -- codec [SECONDS=10]
 * Reference (PyTorch 1.13 CPU, same shapes): 24 kHz encode 4.8x / decode 4.4x on one thread, 7.1x / 7.0x on two;
 * 48 kHz stereo 6 kbps 2.8x / 2.8x (3.1x / 2.8x on two); pystoi 165x (STOI) and 82x (ESTOI) at 16 kHz.
 */
import { readFileSync } from 'node:fs';
import { ENCODEC_48KHZ, ParallelEncodec } from '../src/codec/index.js';
import { WorkerPool } from '../src/engine/pool.js';
import { estoi, stoi } from '../src/metrics/index.js';
import { parseSafetensors, toFloat64 } from '../src/util/safetensors.js';
import { bestOf, shared } from './_util.js';

/** Best-of-n process CPU seconds of fn: on a shared, oversubscribed machine this tracks single-thread speed better than wall time. */
async function bestCpu(repeat: number, fn: () => unknown): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < repeat; i++) {
    const c0 = process.cpuUsage();
    await fn();
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / 1e6);
  }
  return best;
}
import { buildModel, synth, type CodecBenchInit, type CodecBenchTask } from './_codec_worker.js';
import type { BenchResult } from './run.js';

const TORCH: Record<string, { encode: number; decode: number }> = {
  '24k/1': { encode: 4.8, decode: 4.4 },
  '24k/2': { encode: 7.1, decode: 7.0 },
  '48k/1': { encode: 2.8, decode: 2.8 },
  '48k/2': { encode: 3.1, decode: 2.8 },
};

export default async function* codecBench(args: string[]): AsyncGenerator<BenchResult> {
  const seconds = Number(args[0] ?? 10);
  for (const which of ['24k', '48k'] as const) {
    const bandwidth = 6;
    const m = buildModel(which);
    const n = Math.round(m.sampleRate * seconds);
    const x = { data: synth(m.sampleRate, m.channels, seconds), channels: m.channels, length: n };
    m.encode({ ...x, length: m.sampleRate, data: synth(m.sampleRate, m.channels, 1) }, bandwidth); // warm-up: weights uploaded, code compiled
    let enc = m.encode(x, bandwidth);
    const te = await bestOf(2, () => (enc = m.encode(x, bandwidth)));
    const td = await bestOf(2, () => m.decode(enc));
    const ce = await bestCpu(2, () => m.encode(x, bandwidth));
    const cd = await bestCpu(2, () => m.decode(enc));
    const ref1 = TORCH[`${which}/1`]!;
    yield {
      model: which, channels: m.channels, bandwidth, workers: 1, seconds, encodeXRealtime: +(seconds / te).toFixed(2), decodeXRealtime: +(seconds / td).toFixed(2),
      encodeXRealtimeCpu: +(seconds / ce).toFixed(2), decodeXRealtimeCpu: +(seconds / cd).toFixed(2), torchEncode: ref1.encode, torchDecode: ref1.decode,
    };

    const ref2 = TORCH[`${which}/2`]!;
    if (which === '48k') {
      // One clip, its 1 s segments spread over two workers (same codes as one thread).
      const par = await ParallelEncodec.create({ random: { config: ENCODEC_48KHZ, seed: 7 } }, 2);
      try {
        let penc = await par.encode(x, bandwidth);
        const te2 = await bestOf(2, async () => (penc = await par.encode(x, bandwidth)));
        const td2 = await bestOf(2, () => par.decode(penc));
        yield {
          model: which, channels: m.channels, bandwidth, workers: 2, seconds, mode: 'one clip, segments over 2 workers',
          encodeXRealtime: +(seconds / te2).toFixed(2), decodeXRealtime: +(seconds / td2).toFixed(2), torchEncode: ref2.encode, torchDecode: ref2.decode,
        };
      } finally {
        await par.close();
      }
    }
    const pool = await WorkerPool.create<CodecBenchTask, number, CodecBenchInit>(new URL('./_codec_worker.js', import.meta.url), { size: 2, init: { model: which } });
    try {
      const both = (op: 'encode' | 'decode'): Promise<number[]> => pool.map([{ op, seconds, bandwidth }, { op, seconds, bandwidth }]);
      await both('encode'); // warm-up, leaves codes in each worker for decode
      const te2 = await bestOf(2, () => both('encode'));
      const td2 = await bestOf(2, () => both('decode'));
      yield {
        model: which, channels: m.channels, bandwidth, workers: 2, seconds, mode: 'two clips in parallel (throughput)',
        encodeXRealtime: +((2 * seconds) / te2).toFixed(2), decodeXRealtime: +((2 * seconds) / td2).toFixed(2), torchEncode: ref2.encode, torchDecode: ref2.decode,
      };
    } finally {
      await pool.close();
    }
  }

  // STOI / ESTOI at 16 kHz: the fixture pair when ../shared is there, else a synthetic 4 s pair.
  let x: Float64Array;
  let y: Float64Array;
  const f = shared('fixtures', 'stoi', 'inputs.safetensors');
  if (f) {
    const t = parseSafetensors(new Uint8Array(readFileSync(f))).tensors;
    x = toFloat64(t.get('p16k_noisy_0db.clean')!);
    y = toFloat64(t.get('p16k_noisy_0db.degraded')!);
  } else {
    x = Float64Array.from(synth(16000, 1, 4));
    y = x.map((v, i) => v + 0.1 * Math.sin(i * 1.7));
  }
  const dur = x.length / 16000;
  stoi(x, y, 16000);
  const ts = await bestOf(5, () => stoi(x, y, 16000));
  const tes = await bestOf(5, () => estoi(x, y, 16000));
  const cs = await bestCpu(5, () => stoi(x, y, 16000));
  const ces = await bestCpu(5, () => estoi(x, y, 16000));
  yield { metric: 'stoi', sampleRate: 16000, seconds: +dur.toFixed(2), xRealtime: +(dur / ts).toFixed(1), xRealtimeCpu: +(dur / cs).toFixed(1), pystoi: 165 };
  yield { metric: 'estoi', sampleRate: 16000, seconds: +dur.toFixed(2), xRealtime: +(dur / tes).toFixed(1), xRealtimeCpu: +(dur / ces).toFixed(1), pystoi: 82 };
}
