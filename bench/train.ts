/**
 * Benchmark `train`: training tokens/s of the LMIC transformer (d=64, 4 layers, 8 heads, vocab 256) at
 * (batch 8, seq 512) and (batch 8, seq 2048) with 1 and 2 workers, on FSDD speech turned into LMIC 8-bit chunks
 * by the project's pipeline (synthetic tokens only when ../shared is absent), three ways in one run:
 *
 * - `train_step` (the kernel): Trainer.step in a process of its own (so peak RSS is that configuration's),
 *   one untimed warm-up step, then STEPS timed steps;
 * - `cli` (the path a user runs): `wavelm train --files FSDD --conversion lmic` spawned from the built CLI for
 *   STEPS + 1 steps: the tokens/s the run reports (training steps only, its first step included) and the steps'
 *   tokens over the process's wall time from start to exit (Node start-up, reading the 3,000 files, a final
 *   evaluation of 8 sequences and one checkpoint included), each with its ratio to the kernel row;
 * - `peer_torch`: ../shared/peers/torchbench.py (LMIC's model in PyTorch, CPU) when Debian's /usr/bin/python3
 *   imports torch, with its ratio to wavelm at the same thread count; otherwise a row saying why it was skipped.
 *
 * Then the KV-cache predictor's tokens/s over a 2048-token context of the same speech.
 *
 *   npm run bench -- train [--steps N] [--quick]      (--quick: one step, no peer)
 *
 * Tokens per CPU-second (user time of all the process's threads) estimate per-core speed on a busy machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createAudioTransformerConfig, createPredictor, createTrainer, initParams } from '../src/model/transformer.js';
import { customAudioBatches } from '../src/tokens/index.js';
import type { BenchResult } from './run.js';
import { peakRssMB, shared } from './_util.js';
import { lastJson, requireBuiltCli, runWavelm } from './_process.js';
import { runPeer } from './_peers.js';

const opt = { learningRate: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, clipNorm: 1 };
const fsdd = shared('data', 'speech', 'fsdd', 'recordings');

/** `count` tokens of FSDD as LMIC 8-bit chunks (the files in sorted order, repeated if too few), or synthetic. */
async function speechTokens(count: number): Promise<{ tokens: Uint8Array; source: string }> {
  const out = new Uint8Array(count);
  let n = 0;
  if (fsdd) {
    for await (const batch of customAudioBatches(fsdd, { bitDepth: 8, conversion: 'lmic', numChunks: Math.ceil(count / 2048) })) {
      for (const chunk of batch) {
        const take = Math.min(chunk.length, count - n);
        out.set(chunk.subarray(0, take), n);
        n += take;
      }
    }
    if (n > 0) {
      for (let i = n; i < count; i++) out[i] = out[i - n]!;
      return { tokens: out, source: 'fsdd (lmic 8-bit chunks)' };
    }
  }
  let s = 1;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (128 + 40 * Math.sin(i / 9) + (s >>> 28)) & 255;
  }
  return { tokens: out, source: 'synthetic (../shared absent)' };
}

/** One configuration, in this process: a warm-up step, then `steps` timed steps, each on the next slice of speech. */
async function measure(B: number, T: number, workers: number, steps: number): Promise<BenchResult> {
  const config = createAudioTransformerConfig({ bitDepth: 8 });
  const { tokens, source } = await speechTokens((steps + 1) * B * T);
  const batch = (s: number) => ({ tokens: tokens.subarray(s * B * T, (s + 1) * B * T), batchSize: B, seqLen: T });
  const tr = await createTrainer(config, { seed: 0, workers });
  try {
    await tr.step(batch(0), opt);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    let loss = 0;
    for (let s = 1; s <= steps; s++) loss = (await tr.step(batch(s), opt)).loss;
    const sec = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0).user / 1e6;
    return {
      what: 'train_step',
      batch: B,
      seq: T,
      workers,
      steps,
      tokens_per_s: Math.round((steps * B * T) / sec),
      tokens_per_cpu_s: Math.round((steps * B * T) / cpu),
      ms_per_step: Math.round((sec * 1000) / steps),
      loss: Number(loss.toFixed(3)),
      peak_rss_mb: Math.round(peakRssMB()),
      source,
    };
  } finally {
    await tr.dispose();
  }
}

async function measurePredictor(T: number): Promise<BenchResult> {
  const config = createAudioTransformerConfig({ bitDepth: 8 });
  const pr = await createPredictor(initParams(config, 0), config, { capacity: T });
  const { tokens, source } = await speechTokens(T);
  pr.reset();
  for (let t = 0; t < 256; t++) pr.next(tokens[t]!); // warm-up
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  pr.reset();
  for (let t = 0; t + 1 < T; t++) pr.next(tokens[t]!);
  const sec = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0).user / 1e6;
  pr.dispose();
  return {
    what: 'predictor',
    context: T,
    tokens_per_s: Math.round(T / sec),
    tokens_per_cpu_s: Math.round(T / cpu),
    source,
    note: 'one thread; average over a full context from 0 to T tokens',
  };
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

const ratio = (a: number, b: unknown): number | undefined => (typeof b === 'number' && b > 0 ? Number((a / b).toFixed(2)) : undefined);

/** `wavelm train` as a user runs it, for `steps` steps into a temporary run directory. */
function cliRun(B: number, T: number, workers: number, steps: number, kernel: BenchResult): BenchResult {
  const row = { what: 'cli', batch: B, seq: T, workers, steps };
  if (!fsdd) return { ...row, skipped: 'no ../shared/data/speech/fsdd/recordings to train on' };
  const out = mkdtempSync(join(tmpdir(), 'wavelm-bench-train-'));
  try {
    const run = runWavelm([
      '--json',
      'train',
      '--files',
      fsdd,
      '--conversion',
      'lmic',
      '--batch-size',
      String(B),
      '--seq-len',
      String(T),
      '--steps',
      String(steps),
      '--workers',
      String(workers),
      '--eval-every',
      '0',
      '--eval-sequences',
      '8',
      '--checkpoint-every',
      '0',
      '--log-every',
      String(steps),
      '--out',
      out,
    ]);
    const result = lastJson(run.stdout);
    const reported = Math.round(Number(result.tokensPerSecond));
    const endToEnd = Math.round((steps * B * T) / run.wallSeconds);
    return {
      ...row,
      process_s: Number(run.wallSeconds.toFixed(2)),
      train_s: Number(Number(result.trainSeconds).toFixed(2)),
      tokens_per_s: reported,
      end_to_end_tokens_per_s: endToEnd,
      ...(run.cpuSeconds ? { end_to_end_tokens_per_cpu_s: Math.round((steps * B * T) / run.cpuSeconds) } : {}),
      vs_kernel: ratio(reported, kernel.tokens_per_s),
      end_to_end_vs_kernel: ratio(endToEnd, kernel.tokens_per_s),
      loss: Number(Number(result.finalLoss).toFixed(3)),
      files: (result.dataset as { numFiles?: number } | undefined)?.numFiles,
    };
  } catch (e) {
    return { ...row, error: (e as Error).message.slice(0, 500) };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** torchbench.py in this run, paired with wavelm's kernel and CLI rows at torch's thread count (1 or 2). */
function peer(B: number, T: number, rows: Map<number, { kernel: BenchResult; cli: BenchResult }>): BenchResult {
  // The first step is warm-up; at T=2048 one more step is enough (PyTorch takes a minute or more per step).
  const r = runPeer('torchbench.py', [String(B), String(T), T >= 2048 ? '2' : '3'], ['torch', 'numpy'], { timeoutMs: 900_000 });
  if (!r.ok) return { what: 'peer_torch', batch: B, seq: T, skipped: r.skipped };
  const rates = [...r.stdout.matchAll(/(\d+) tok\/s/g)].map((m) => Number(m[1]));
  const threads = Number(/threads (\d+)/.exec(r.stdout)?.[1] ?? 1);
  const torch = Math.max(...rates.slice(1));
  const workers = Math.min(2, Math.max(1, threads));
  const pair = rows.get(workers);
  return {
    what: 'peer_torch',
    batch: B,
    seq: T,
    threads,
    tokens_per_s: torch,
    paired_workers: workers,
    kernel_vs_torch: pair ? ratio(Number(pair.kernel.tokens_per_s), torch) : undefined,
    cli_vs_torch: pair ? ratio(Number(pair.cli.tokens_per_s), torch) : undefined,
    cli_end_to_end_vs_torch: pair ? ratio(Number(pair.cli.end_to_end_tokens_per_s), torch) : undefined,
  };
}

export default async function* bench(args: string[]): AsyncGenerator<BenchResult> {
  const quick = args.includes('--quick');
  const si = args.indexOf('--steps');
  const steps = si >= 0 ? Number(args[si + 1]) : quick ? 1 : 3;
  requireBuiltCli('train');
  for (const [B, T] of [
    [8, 512],
    [8, 2048],
  ] as const) {
    const timed = T === 2048 ? Math.max(1, steps - 1) : steps;
    const rows = new Map<number, { kernel: BenchResult; cli: BenchResult }>();
    for (const w of [1, 2]) {
      const kernel = runChild([String(B), String(T), String(w), String(timed)]);
      yield kernel;
      const cli = cliRun(B, T, w, timed + 1, kernel);
      yield cli;
      rows.set(w, { kernel, cli });
    }
    yield quick ? { what: 'peer_torch', batch: B, seq: T, skipped: '--quick' } : peer(B, T, rows);
  }
  yield runChild(['predictor', '2048']);
}

if (process.argv[2] === '--child' && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [a, b, c, d] = process.argv.slice(3);
  const out = a === 'predictor' ? await measurePredictor(Number(b)) : await measure(Number(a), Number(b), Number(c), Number(d));
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
