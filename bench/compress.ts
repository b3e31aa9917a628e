/**
 * `npm run bench -- compress [CHUNKS] [WORKERS] [CHECKPOINT]`: bytes per second through `compressAudio` and
 * `decompressAudio` with the d=64 model (4 layers, 8 heads) at sequence length 2048 on WORKERS threads (default 2),
 * on CHUNKS x 2048 8-bit samples of FSDD speech converted as LMIC does (default 64 chunks, 131 KB, 16 s of 8 kHz
 * audio; synthetic speech-like audio when ../shared is absent). The model is a real safetensors checkpoint, as a
 * user's is: CHECKPOINT (a run directory, checkpoint or model.safetensors), else one that `wavelm train` writes
 * at the start of the run (one step on FSDD, or on the embedded samples when ../shared is absent). Cases:
 * - `lm` (cold): one call each, as `wavelm compress` / `decompress` run, starting the workers and loading the
 *   model in each;
 * - `lm-warm`: on a runner opened beforehand, as `wavelm eval` and batch compression keep one open;
 * - `cli` (needs dist/, which `npm ci` builds): `wavelm compress -m CHECKPOINT` and `wavelm decompress` as
 *   processes on the same audio as a WAV file, timed from process start to exit (Node start-up, reading the
 *   checkpoint, workers, coding, writing): what a user sees, with its speed as a share of the `lm` row's.
 * Also the entropy coder alone (quantisation + range coding, no model), LMIC's bitwise coder, and the
 * predictor alone on one thread, for comparison. This machine's speed drifts by up to ±20% between
 * minutes, so compare figures taken in the same run.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressAudio, decompressAudio } from '../src/compress/archive.js';
import { loadCompressionModel, type LoadedCompressionModel } from '../src/compress/model.js';
import { pcmLayout } from '../src/compress/wav-layout.js';
import { findSymbol, quantizeProbs, RangeDecoder, RangeEncoder } from '../src/compress/range-coder.js';
import { LmicEncoder, normalizePdfForArithmeticCoding } from '../src/compress/lmic-coder.js';
import { ChunkRunner, makePredictor } from '../src/compress/parallel.js';
import type { BenchResult } from './run.js';
import { lastJson, requireBuiltCli, runWavelm } from './_process.js';
import { projectRoot, shared } from './_util.js';

function speechU8(samples: number): { data: Uint8Array; source: string } {
  const dir = shared('data', 'speech', 'fsdd', 'recordings');
  const out = new Uint8Array(samples);
  let n = 0;
  if (dir) {
    for (const f of readdirSync(dir).sort()) {
      const b = new Uint8Array(readFileSync(join(dir, f)));
      const l = pcmLayout(b, f);
      if (l.bitsPerSample !== 16) continue;
      for (let i = 0; i < l.frames && n < samples; i++) out[n++] = (b[l.dataOffset + 2 * i * l.channels + 1]! + 128) & 255;
      if (n >= samples) return { data: out, source: 'fsdd (lmic 8-bit)' };
    }
  }
  let s = 1;
  for (; n < samples; n++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[n] = 128 + Math.round(40 * Math.sin(n / 11) * Math.sin(n / 1700) + 6 * (s / 2 ** 32 - 0.5));
  }
  return { data: out, source: 'synthetic' };
}

function wavU8(samples: Uint8Array, rate: number): Uint8Array {
  const out = new Uint8Array(44 + samples.length + (samples.length & 1));
  const dv = new DataView(out.buffer);
  const ascii = (o: number, s: string): void => {
    for (let i = 0; i < s.length; i++) out[o + i] = s.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  dv.setUint32(4, out.length - 8, true);
  ascii(8, 'WAVEfmt ');
  dv.setUint32(16, 16, true);
  dv.setUint16(20, 1, true);
  dv.setUint16(22, 1, true);
  dv.setUint32(24, rate, true);
  dv.setUint32(28, rate, true);
  dv.setUint16(32, 1, true);
  dv.setUint16(34, 8, true);
  ascii(36, 'data');
  dv.setUint32(40, samples.length, true);
  out.set(samples, 44);
  return out;
}

function coderOnly(tokens: Uint8Array): BenchResult {
  // A fixed peaked distribution stands in for the model: measures quantisation + range coding alone.
  const p = new Float32Array(256);
  let s = 0;
  for (let i = 0; i < 256; i++) s += p[i] = 1 / (1 + Math.abs(i - 128));
  for (let i = 0; i < 256; i++) p[i] = p[i]! / s;
  const cum = new Uint32Array(257);
  let t0 = performance.now();
  const enc = new RangeEncoder();
  for (const t of tokens) {
    quantizeProbs(p, cum);
    enc.encode(cum[t]!, cum[t + 1]! - cum[t]!, 2 ** 24);
  }
  const bytes = enc.finish();
  const encS = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const dec = new RangeDecoder(bytes);
  for (let i = 0; i < tokens.length; i++) {
    quantizeProbs(p, cum);
    const x = findSymbol(cum, dec.target(2 ** 24));
    dec.decode(cum[x]!, cum[x + 1]! - cum[x]!);
    if (x !== tokens[i]) throw new Error('coder-only round trip failed');
  }
  const decS = (performance.now() - t0) / 1000;
  const n = Math.min(tokens.length, 20000);
  t0 = performance.now();
  const lm = new LmicEncoder(256);
  for (let i = 0; i < n; i++) lm.encode(normalizePdfForArithmeticCoding(p), tokens[i]!);
  lm.terminate();
  const lmicS = (performance.now() - t0) / 1000;
  return {
    case: 'coder-only',
    tokens: tokens.length,
    rangeEncodeTokensPerSec: Math.round(tokens.length / encS),
    rangeDecodeTokensPerSec: Math.round(tokens.length / decS),
    lmicEncodeTokensPerSec: Math.round(n / lmicS),
  };
}

export default async function* bench(args: string[]): AsyncGenerator<BenchResult> {
  const chunks = Number(args[0] ?? 64);
  const workers = Number(args[1] ?? 2);
  const ckpt = args[2];
  const seqLen = 2048;
  const { data: samples, source } = speechU8(chunks * seqLen);
  yield coderOnly(samples);
  const input = wavU8(samples, 8000);
  requireBuiltCli('compress');
  const trainDir = ckpt ? undefined : mkdtempSync(join(tmpdir(), 'wavelm-bench-compress-'));
  try {
    const checkpoint = ckpt ? { path: ckpt, label: ckpt } : trainCheckpoint(trainDir!);
    let lm: BenchResult | undefined;
    for await (const row of coding(loadCompressionModel(checkpoint.path), checkpoint.label, samples, input, source, seqLen, workers)) {
      if (row.case === 'lm') lm = row;
      yield row;
    }
    yield cliCase(input, checkpoint.path, workers, lm!);
  } finally {
    if (trainDir) rmSync(trainDir, { recursive: true, force: true });
  }
}

/** A checkpoint as a user makes one: `wavelm train` for one step on real speech, into dir. */
function trainCheckpoint(dir: string): { path: string; label: string } {
  const fsdd = shared('data', 'speech', 'fsdd', 'recordings');
  const files = fsdd ?? join(projectRoot, 'node_modules', 'supersonic-scsynth-samples', 'samples');
  const run = runWavelm([
    '--json',
    'train',
    '--files',
    files,
    '--conversion',
    'lmic',
    '--steps',
    '1',
    '--batch-size',
    '1',
    '--eval-sequences',
    '1',
    '--out',
    dir,
  ]);
  const r = lastJson(run.stdout);
  return { path: dir, label: `wavelm train, 1 step on ${fsdd ? 'FSDD' : 'the embedded samples'} (${Number(r.numParams)} params)` };
}

async function* coding(
  model: LoadedCompressionModel,
  label: string,
  samples: Uint8Array,
  input: Uint8Array,
  source: string,
  seqLen: number,
  workers: number,
): AsyncGenerator<BenchResult> {
  // The model alone, one thread: what the coder adds on top of it.
  {
    const pred = await makePredictor(model.spec);
    let p = pred.reset();
    const t0 = performance.now();
    for (let i = 0; i < seqLen - 1; i++) p = pred.next(samples[i]!);
    const s = (performance.now() - t0) / 1000;
    (pred as { dispose?: () => void }).dispose?.();
    yield { case: 'predictor-only', model: label, seqLen, threads: 1, tokensPerSec: Math.round((seqLen - 1) / s), vocab: p.length };
  }
  const c0 = process.cpuUsage();
  const c = await compressAudio(input, model, { chunkLength: seqLen, workers });
  const compressCpuSeconds = cpuSince(c0);
  const t0 = performance.now();
  const c1 = process.cpuUsage();
  const restored = await decompressAudio(c.archive, model, { workers });
  const decompressCpuSeconds = cpuSince(c1);
  const decS = (performance.now() - t0) / 1000;
  const common = { model: label, source, seqLen, workers, inputBytes: input.length, archiveBytes: c.archive.length };
  yield {
    case: 'lm',
    ...common,
    rate: Number(c.stats.rate.toFixed(4)),
    idealRate: Number((c.stats.idealLmBytes / c.stats.codedSamples).toFixed(4)),
    coderOverheadPct: Number((100 * (c.stats.payloadBytes / c.stats.idealLmBytes - 1)).toFixed(4)),
    ...speeds(input.length, c.stats.seconds, decS, same(restored, input)),
    compressCpuSeconds,
    decompressCpuSeconds,
  };
  const runner = await ChunkRunner.open(model.spec, workers);
  try {
    await compressAudio(wavU8(samples.subarray(0, 2 * seqLen), 8000), model, { chunkLength: seqLen, runner }); // warm-up
    const t1 = performance.now();
    const w = await compressAudio(input, model, { chunkLength: seqLen, runner });
    const encW = (performance.now() - t1) / 1000;
    const t2 = performance.now();
    const back = await decompressAudio(w.archive, model, { runner });
    const decW = (performance.now() - t2) / 1000;
    yield {
      case: 'lm-warm',
      ...common,
      sameArchiveAsCold: same(w.archive, c.archive),
      ...speeds(input.length, encW, decW, same(back, input)),
    };
  } finally {
    await runner.close();
  }
}

/** The speed fields every coding case reports. */
function speeds(bytes: number, encS: number, decS: number, roundTrip: boolean): BenchResult {
  return {
    compressSeconds: Number(encS.toFixed(2)),
    compressBytesPerSec: Math.round(bytes / encS),
    decompressSeconds: Number(decS.toFixed(2)),
    decompressBytesPerSec: Math.round(bytes / decS),
    roundTrip,
    targetBytesPerSec: 20000,
  };
}

/** CPU seconds of this process since c0, worker threads included: the steadier figure on a shared machine. */
function cpuSince(c0: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(c0);
  return Number(((c.user + c.system) / 1e6).toFixed(2));
}

/** How many times faster `seconds` is than `reference` (below 1: slower), to two places. */
function ratio(reference: number, seconds: number): number {
  return Number((reference / seconds).toFixed(2));
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * `wavelm compress` / `decompress` as separate processes, wall time from start to exit, with their speeds as a
 * share of the `lm` row's one-call library figures (`vsLibrary`: 1 = the process costs nothing on top).
 */
function cliCase(input: Uint8Array, ckpt: string, workers: number, lm: BenchResult): BenchResult {
  const dir = mkdtempSync(join(tmpdir(), 'wavelm-bench-'));
  try {
    const wav = join(dir, 'in.wav');
    writeFileSync(wav, input);
    const flags = ['-m', ckpt, '--workers', String(workers), '--quiet'];
    const enc = runWavelm(['compress', wav, '-o', join(dir, 'a.wlm'), ...flags]);
    const dec = runWavelm(['decompress', join(dir, 'a.wlm'), '-o', join(dir, 'out.wav'), ...flags]);
    const s = speeds(input.length, enc.wallSeconds, dec.wallSeconds, same(new Uint8Array(readFileSync(join(dir, 'out.wav'))), input));
    const { model, source, seqLen, inputBytes } = lm;
    return {
      case: 'cli',
      model,
      source,
      seqLen,
      workers,
      inputBytes,
      archiveBytes: statSync(join(dir, 'a.wlm')).size,
      ...s,
      compressVsLibrary: ratio(Number(lm.compressSeconds), enc.wallSeconds),
      decompressVsLibrary: ratio(Number(lm.decompressSeconds), dec.wallSeconds),
      ...(enc.cpuSeconds && dec.cpuSeconds
        ? {
            compressCpuSeconds: Number(enc.cpuSeconds.toFixed(2)),
            decompressCpuSeconds: Number(dec.cpuSeconds.toFixed(2)),
            compressVsLibraryCpu: ratio(Number(lm.compressCpuSeconds), enc.cpuSeconds),
            decompressVsLibraryCpu: ratio(Number(lm.decompressCpuSeconds), dec.cpuSeconds),
          }
        : {}),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
