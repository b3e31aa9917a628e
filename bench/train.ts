/**
 * Benchmark `train`: training tokens/s of the LMIC transformer (d=64, 4 layers, 8 heads, vocab 256)
 * at (batch 8, seq 512) and (batch 8, seq 2048) with 1 and 2 workers, peak RSS of each configuration
 * (each runs in its own process), and the KV-cache predictor's tokens/s over a 2048-token context.
 *
 *   npm run bench -- train [--steps N] [--quick]
 *
 * Peer: ../shared/peers/torchbench.py (PyTorch 1.13, CPU), run in the same minute when torch is installed.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createAudioTransformerConfig, createPredictor, createTrainer, initParams } from '../src/model/transformer.js';
import type { BenchResult } from './run.js';
import { peakRssMB, shared } from './_util.js';

const opt = { learningRate: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, clipNorm: 1 };

function tokens(n: number, seed: number): Uint8Array {
  const t = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    t[i] = (128 + 40 * Math.sin(i / 9) + (s >>> 28)) & 255;
  }
  return t;
}

/** One configuration, in this process: warm-up step, then `steps` timed steps. */
async function measure(B: number, T: number, workers: number, steps: number): Promise<BenchResult> {
  const config = createAudioTransformerConfig({ bitDepth: 8 });
  const tr = await createTrainer(config, { seed: 0, workers });
  try {
    await tr.step({ tokens: tokens(B * T, 1), batchSize: B, seqLen: T }, opt);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    let loss = 0;
    for (let s = 0; s < steps; s++) loss = (await tr.step({ tokens: tokens(B * T, 2 + s), batchSize: B, seqLen: T }, opt)).loss;
    const sec = (performance.now() - t0) / 1000;
    // user CPU time of the whole process (all threads): on a busy machine, tokens per CPU-second
    // estimates the per-core speed better than wall time
    const cpu = process.cpuUsage(c0).user / 1e6;
    return {
      what: 'train_step', batch: B, seq: T, workers, steps,
      tokens_per_s: Math.round((steps * B * T) / sec),
      tokens_per_cpu_s: Math.round((steps * B * T) / cpu),
      ms_per_step: Math.round((sec * 1000) / steps), loss: Number(loss.toFixed(3)), peak_rss_mb: Math.round(peakRssMB()),
    };
  } finally {
    await tr.dispose();
  }
}

async function measurePredictor(T: number): Promise<BenchResult> {
  const config = createAudioTransformerConfig({ bitDepth: 8 });
  const pr = await createPredictor(initParams(config, 0), config, { capacity: T });
  const tok = tokens(T, 5);
  pr.reset();
  for (let t = 0; t < 256; t++) pr.next(tok[t]!); // warm-up
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  pr.reset();
  for (let t = 0; t + 1 < T; t++) pr.next(tok[t]!);
  const sec = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0).user / 1e6;
  pr.dispose();
  return { what: 'predictor', context: T, tokens_per_s: Math.round(T / sec), tokens_per_cpu_s: Math.round(T / cpu), note: 'one thread; average over a full context from 0 to T tokens' };
}

function runChild(args: string[]): BenchResult {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, [...process.execArgv, self, '--child', ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as BenchResult;
  } catch {
    return { error: `child ${args.join(' ')} failed: ${r.stderr.slice(-500)}` };
  }
}

function peer(B: number, T: number): BenchResult | undefined {
  const script = shared('peers', 'torchbench.py');
  if (!script) return undefined;
  // the first step is warm-up; at T=2048 one more step is enough (a step takes about a minute)
  const r = spawnSync('/usr/bin/python3', [script, String(B), String(T), T >= 2048 ? '2' : '3'], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) return { what: 'peer_torch', batch: B, seq: T, skipped: r.error ? `timed out after 300 s` : (r.stderr || 'failed').trim().split('\n').pop() };
  const rates = [...r.stdout.matchAll(/(\d+) tok\/s/g)].map((m) => Number(m[1]));
  return { what: 'peer_torch', batch: B, seq: T, tokens_per_s: Math.max(...rates.slice(1)), threads: /threads (\d+)/.exec(r.stdout)?.[1] };
}

export default async function* bench(args: string[]): AsyncGenerator<BenchResult> {
  const quick = args.includes('--quick');
  const si = args.indexOf('--steps');
  const steps = si >= 0 ? Number(args[si + 1]) : quick ? 1 : 3;
  for (const [B, T] of [[8, 512], [8, 2048]] as const) {
    for (const w of [1, 2]) yield runChild([String(B), String(T), String(w), String(T === 2048 ? Math.max(1, steps - 1) : steps)]);
    const p = quick ? undefined : peer(B, T);
    if (p) yield p;
  }
  yield runChild(['predictor', '2048']);
}

if (process.argv[2] === '--child' && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [a, b, c, d] = process.argv.slice(3);
  const out = a === 'predictor' ? await measurePredictor(Number(b)) : await measure(Number(a), Number(b), Number(c), Number(d));
  process.stdout.write(JSON.stringify(out) + '\n');
}
