/**
 * Benchmark `predictor`: the KV-cache incremental predictor (LMIC d=64, 4 layers, 8 heads, vocab 256)
 * over one full context of T tokens (default 2048, so the average context is T/2), one thread:
 * tokens per second of wall time and per CPU-second (user time of this process, the better per-core
 * estimate on a shared machine), for next() token by token and for forwardSequence() when present.
 * `hash` is an FNV-1a hash of every probability's bits, to compare runs and machines.
 *
 *   npm run bench -- predictor [--context T] [--repeat N]
 *   npm run bench -- predictor --ab A.wasm B.wasm [--repeat N]
 *
 * --ab compares two builds of the kernels (e.g. build/kernels.wasm before and after an edit, copied
 * aside) in one process, alternating them N times (default 8) so that a busy neighbour on the machine
 * slows both alike; it reports each build's median and whether their probabilities are the same bits.
 */
import { createEngine } from '../src/engine/wasm.js';
import { createAudioTransformerConfig, createPredictor, initParams } from '../src/model/transformer.js';
import type { IncrementalPredictor } from '../src/model/api.js';
import type { BenchResult } from './run.js';

function tokens(n: number, seed: number): Uint8Array {
  const t = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    t[i] = (128 + 40 * Math.sin(i / 9) + (s >>> 28)) & 255;
  }
  return t;
}

function fnv(h: number, p: Float32Array): number {
  const u = new Uint32Array(p.buffer, p.byteOffset, p.length);
  for (let i = 0; i < u.length; i++) h = Math.imul(h ^ u[i]!, 16777619) >>> 0;
  return h;
}

function run(pr: IncrementalPredictor, tok: Uint8Array): { sec: number; hash: number } {
  const t0 = performance.now();
  let h = fnv(2166136261, pr.reset());
  for (let t = 0; t + 1 < tok.length; t++) h = fnv(h, pr.next(tok[t]!));
  return { sec: (performance.now() - t0) / 1000, hash: h };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

async function* ab(files: string[], T: number, repeat: number): AsyncGenerator<BenchResult> {
  const config = createAudioTransformerConfig({ bitDepth: 8 });
  const params = initParams(config, 0);
  const tok = tokens(T, 5);
  const prs = await Promise.all(files.map((f) => createPredictor(params, config, { capacity: T, engine: createEngine(f) })));
  const rates: number[][] = files.map(() => []);
  const hashes = files.map(() => 0);
  for (const pr of prs) run(pr, tok.subarray(0, 256)); // warm-up
  for (let r = 0; r < repeat; r++) {
    prs.forEach((pr, i) => {
      const { sec, hash } = run(pr, tok);
      rates[i]!.push(T / sec);
      hashes[i] = hash;
    });
  }
  for (let i = 0; i < files.length; i++) {
    yield {
      what: 'ab',
      wasm: files[i],
      context: T,
      tokens_per_s: Math.round(median(rates[i]!)),
      hash: hashes[i]!.toString(16),
      same_bits_as_first: hashes[i] === hashes[0],
    };
  }
  for (const pr of prs) pr.dispose();
}

export default async function* bench(args: string[]): AsyncGenerator<BenchResult> {
  const ci = args.indexOf('--context');
  const T = ci >= 0 ? Number(args[ci + 1]) : 2048;
  const ri = args.indexOf('--repeat');
  const ai = args.indexOf('--ab');
  if (ai >= 0) {
    yield* ab(args.slice(ai + 1, ai + 3), T, ri >= 0 ? Number(args[ri + 1]) : 8);
    return;
  }
  const repeat = ri >= 0 ? Number(args[ri + 1]) : 2;
  const config = createAudioTransformerConfig({ bitDepth: 8 });
  const pr = await createPredictor(initParams(config, 0), config, { capacity: T });
  const tok = tokens(T, 5);
  pr.reset();
  for (let t = 0; t + 1 < Math.min(T, 256); t++) pr.next(tok[t]!); // warm-up
  for (let r = 0; r < repeat; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    let h = fnv(2166136261, pr.reset());
    for (let t = 0; t + 1 < T; t++) h = fnv(h, pr.next(tok[t]!));
    const sec = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0).user / 1e6;
    yield { what: 'next', context: T, tokens_per_s: Math.round(T / sec), tokens_per_cpu_s: Math.round(T / cpu), hash: h.toString(16) };
  }
  const seq = (pr as { forwardSequence?: (t: Uint8Array) => Float32Array[] }).forwardSequence;
  if (seq) {
    for (let r = 0; r < repeat; r++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const rows = seq.call(pr, tok.subarray(0, T - 1));
      const sec = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(c0).user / 1e6;
      let h = 2166136261;
      for (const p of rows) h = fnv(h, p);
      yield {
        what: 'forwardSequence',
        context: T,
        tokens_per_s: Math.round(T / sec),
        tokens_per_cpu_s: Math.round(T / cpu),
        hash: h.toString(16),
      };
    }
  }
  pr.dispose();
}
