/**
 * EnCodec encode/decode speed (multiples of real time) for the full-size 24 kHz mono and 48 kHz stereo
 * models with random weights of the real shapes, on 1 worker (this thread) and 2 workers, each beside the
 * PyTorch peer (../shared/peers/peer_encodec.py, same shapes, same run); STOI / ESTOI speed beside pystoi
 * (peer_stoi.py); and a long input (a real clip looped into a WAV) encoded and decoded by spawned
 * `wavelm codec` processes, with their peak RSS and real-time factor.
 *
 * Usage: npm run bench -- codec [SECONDS=10] [--rounds N=3] [--model 24k|48k] [--long S=120] [--long-model 24k|48k]
 *          [--only speed|stoi|long] [--encodec-src DIR] [--pystoi-src DIR] [--python PATH]
 * One-thread rows alternate wavelm and PyTorch N times and keep each side's best.
 * The peers need Debian's python3-torch, python3-numpy and python3-scipy and checkouts of
 * facebookresearch/encodec and mpariente/pystoi, given by the options or $WAVELM_PEER_ENCODEC /
 * $WAVELM_PEER_PYSTOI; a missing one prints a "peer skipped: <reason>" row.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAudio, toFloat32Channels, WavWriter } from '../src/audio/index.js';
import {
  ENCODEC_24KHZ,
  ENCODEC_48KHZ,
  interleavedOf,
  ParallelEncodec,
  planarOf,
  randomTensors,
  type EncodecConfig,
} from '../src/codec/index.js';
import { WorkerPool } from '../src/engine/pool.js';
import { estoi, stoi } from '../src/metrics/index.js';
import { parseSafetensors, toFloat64, writeSafetensors } from '../src/util/safetensors.js';
import { bestOf, projectRoot, shared, sharedRoot } from './_util.js';
import { codecArithmetic } from './_codec_flops.js';
import { buildModel, synth, type CodecBenchInit, type CodecBenchTask } from './_codec_worker.js';
import { requireBuiltCli } from './_process.js';
import type { BenchResult } from './run.js';

interface Options {
  seconds: number;
  longSeconds: number;
  longModel: '24k' | '48k';
  only?: 'speed' | 'stoi' | 'long';
  encodecSrc?: string;
  pystoiSrc?: string;
  python: string;
  /** Alternating wavelm / PyTorch rounds for the one-thread comparison. */
  rounds: number;
  models: ('24k' | '48k')[];
}

function parseArgs(args: string[]): Options {
  const o: Options = {
    seconds: 10,
    longSeconds: 120,
    longModel: '24k',
    python: '/usr/bin/python3',
    rounds: 3,
    models: ['24k', '48k'],
    encodecSrc: process.env.WAVELM_PEER_ENCODEC,
    pystoiSrc: process.env.WAVELM_PEER_PYSTOI,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string => {
      const v = args[++i];
      if (v === undefined) throw new Error(`bench codec: ${a} needs a value`);
      return v;
    };
    if (a === '--long') o.longSeconds = Number(value());
    else if (a === '--long-model') o.longModel = value() === '48k' ? '48k' : '24k';
    else if (a === '--only') {
      const v = value();
      if (v !== 'speed' && v !== 'stoi' && v !== 'long') throw new Error(`bench codec: --only takes speed, stoi or long, got '${v}'`);
      o.only = v;
    } else if (a === '--encodec-src') o.encodecSrc = value();
    else if (a === '--pystoi-src') o.pystoiSrc = value();
    else if (a === '--python') o.python = value();
    else if (a === '--rounds') o.rounds = Number(value());
    else if (a === '--model') o.models = [value() === '48k' ? '48k' : '24k'];
    else o.seconds = Number(a);
  }
  if (!(o.seconds > 0) || !(o.longSeconds > 0) || !(Number.isInteger(o.rounds) && o.rounds > 0))
    throw new Error('bench codec: durations must be positive numbers of seconds');
  return o;
}

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

type PeerResult = { ok: true; stdout: string } | { ok: false; reason: string };

/** Runs a program of ../shared/peers, or says why it cannot. */
function runPeer(
  o: Options,
  script: string,
  args: string[],
  src: string | undefined,
  srcName: string,
  env: Record<string, string> = {},
): PeerResult {
  const program = shared('peers', script);
  if (!program) return { ok: false, reason: `../shared/peers/${script} not found` };
  if (!src) return { ok: false, reason: `no ${srcName} checkout (give --${srcName}-src DIR or $WAVELM_PEER_${srcName.toUpperCase()})` };
  if (!existsSync(src)) return { ok: false, reason: `${src} does not exist` };
  if (!existsSync(o.python))
    return { ok: false, reason: `${o.python} not found (Debian's python3 with python3-torch, python3-numpy, python3-scipy)` };
  const r = spawnSync(o.python, [program, src, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 1_800_000 });
  if (r.status !== 0) {
    const last = `${r.stderr ?? ''}${r.error ? String(r.error) : ''}`.trim().split('\n').pop() ?? '';
    return { ok: false, reason: `${script} failed (${last.slice(0, 200)})` };
  }
  return { ok: true, stdout: r.stdout };
}

/** peer_encodec.py's encode and decode multiples of real time. */
function torchEncodec(o: Options, which: '24k' | '48k', threads: number): { torchEncode: number; torchDecode: number } | { peer: string } {
  const r = runPeer(o, 'peer_encodec.py', [which === '24k' ? '24' : '48', String(threads), String(o.seconds)], o.encodecSrc, 'encodec');
  if (!r.ok) return { peer: `peer skipped: ${r.reason}` };
  const m = /encode ([\d.]+)x, decode ([\d.]+)x/.exec(r.stdout);
  return m
    ? { torchEncode: Number(m[1]), torchDecode: Number(m[2]) }
    : { peer: `peer skipped: unexpected output ${JSON.stringify(r.stdout.trim())}` };
}

function withRatios(row: BenchResult, peer: ReturnType<typeof torchEncodec>): BenchResult {
  if ('peer' in peer) return { ...row, ...peer };
  const enc = row.encodeXRealtime as number;
  const dec = row.decodeXRealtime as number;
  return { ...row, ...peer, encodeVsTorch: +(enc / peer.torchEncode).toFixed(2), decodeVsTorch: +(dec / peer.torchDecode).toFixed(2) };
}

/**
 * Operations per second of audio (counted on wavelm's kernels: bench/_codec_flops.ts) times each side's
 * multiple of real time: the rate of useful arithmetic each sustains on one thread, beside the rate of the
 * engine's GEMM kernel alone on the model's shapes. PyTorch runs the same architecture, so the same counts
 * apply to it. `neededFor1_5xTorch` is the whole-pass rate at which wavelm would run at 1.5x PyTorch.
 */
function arithmeticRow(
  which: '24k' | '48k',
  row: { encodeXRealtime: number; decodeXRealtime: number },
  peer: ReturnType<typeof torchEncodec>,
): BenchResult {
  const a = codecArithmetic(which === '24k' ? ENCODEC_24KHZ : ENCODEC_48KHZ, 5, 6);
  const g = (flops: number): number => +(flops / 1e9).toFixed(1);
  const out: BenchResult = {
    model: which,
    workers: 1,
    arithmetic: 'GFLOP per second of audio; GFLOP/s sustained over a whole encode / decode',
    encodeGflopPerAudioSecond: g(a.encodeFlops),
    decodeGflopPerAudioSecond: g(a.decodeFlops),
    encodeGflops: g(a.encodeFlops * row.encodeXRealtime),
    decodeGflops: g(a.decodeFlops * row.decodeXRealtime),
    gemmKernelGflops: g(a.gemmFlops / a.gemmSeconds),
  };
  if ('peer' in peer) return { ...out, ...peer };
  return {
    ...out,
    torchEncodeGflops: g(a.encodeFlops * peer.torchEncode),
    torchDecodeGflops: g(a.decodeFlops * peer.torchDecode),
    neededFor1_5xTorch: [g(1.5 * a.encodeFlops * peer.torchEncode), g(1.5 * a.decodeFlops * peer.torchDecode)],
  };
}

async function* speed(o: Options): AsyncGenerator<BenchResult> {
  const seconds = o.seconds;
  for (const which of o.models) {
    const bandwidth = 6;
    const m = buildModel(which);
    const n = Math.round(m.sampleRate * seconds);
    const x = { data: synth(m.sampleRate, m.channels, seconds), channels: m.channels, length: n };
    // Warm-up: weights uploaded, code compiled.
    m.encode({ ...x, length: m.sampleRate, data: synth(m.sampleRate, m.channels, 1) }, bandwidth);
    // wavelm and PyTorch take turns, `rounds` times, and each side keeps its best: on a shared machine a
    // single pair can land in different minutes' load.
    let enc = m.encode(x, bandwidth);
    const best = { te: Infinity, td: Infinity, ce: Infinity, cd: Infinity };
    let peer: ReturnType<typeof torchEncodec> | undefined;
    for (let r = 0; r < o.rounds; r++) {
      best.te = Math.min(best.te, await bestOf(2, () => (enc = m.encode(x, bandwidth))));
      best.td = Math.min(best.td, await bestOf(2, () => m.decode(enc)));
      best.ce = Math.min(best.ce, await bestCpu(2, () => m.encode(x, bandwidth)));
      best.cd = Math.min(best.cd, await bestCpu(2, () => m.decode(enc)));
      const p = torchEncodec(o, which, 1);
      if ('peer' in p) {
        peer = p;
        break;
      }
      peer =
        peer && !('peer' in peer)
          ? { torchEncode: Math.max(peer.torchEncode, p.torchEncode), torchDecode: Math.max(peer.torchDecode, p.torchDecode) }
          : p;
    }
    const row1 = {
      model: which,
      channels: m.channels,
      bandwidth,
      workers: 1,
      seconds,
      rounds: o.rounds,
      encodeXRealtime: +(seconds / best.te).toFixed(2),
      decodeXRealtime: +(seconds / best.td).toFixed(2),
      encodeXRealtimeCpu: +(seconds / best.ce).toFixed(2),
      decodeXRealtimeCpu: +(seconds / best.cd).toFixed(2),
      loadAverage: +loadavg()[0]!.toFixed(1),
    };
    yield withRatios(row1, peer!);
    yield arithmeticRow(which, row1, peer!);

    if (which === '48k') {
      // One clip, its 1 s segments spread over two workers (same codes as one thread).
      const par = await ParallelEncodec.create({ random: { config: ENCODEC_48KHZ, seed: 7 } }, 2);
      try {
        let penc = await par.encode(x, bandwidth);
        const te2 = await bestOf(2, async () => (penc = await par.encode(x, bandwidth)));
        const td2 = await bestOf(2, () => par.decode(penc));
        const row = {
          model: which,
          channels: m.channels,
          bandwidth,
          workers: 2,
          seconds,
          mode: 'one clip, segments over 2 workers',
          encodeXRealtime: +(seconds / te2).toFixed(2),
          decodeXRealtime: +(seconds / td2).toFixed(2),
        };
        yield withRatios(row, torchEncodec(o, which, 2));
      } finally {
        await par.close();
      }
    }
    const pool = await WorkerPool.create<CodecBenchTask, number, CodecBenchInit>(new URL('./_codec_worker.js', import.meta.url), {
      size: 2,
      init: { model: which },
    });
    try {
      const both = (op: 'encode' | 'decode'): Promise<number[]> =>
        pool.map([
          { op, seconds, bandwidth },
          { op, seconds, bandwidth },
        ]);
      await both('encode'); // warm-up, leaves codes in each worker for decode
      const te2 = await bestOf(2, () => both('encode'));
      const td2 = await bestOf(2, () => both('decode'));
      const row = {
        model: which,
        channels: m.channels,
        bandwidth,
        workers: 2,
        seconds,
        mode: 'two clips in parallel (throughput; peer: one clip on 2 threads)',
        encodeXRealtime: +((2 * seconds) / te2).toFixed(2),
        decodeXRealtime: +((2 * seconds) / td2).toFixed(2),
      };
      if (which === '24k') yield withRatios(row, torchEncodec(o, which, 2));
      else yield row;
    } finally {
      await pool.close();
    }
  }
}

/** STOI / ESTOI at 16 kHz: the fixture pair when ../shared is there, else a synthetic 4 s pair; pystoi on the fixture pair beside. */
async function* stoiSpeed(o: Options): AsyncGenerator<BenchResult> {
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
  const peer = f
    ? runPeer(o, 'peer_stoi.py', [sharedRoot], o.pystoiSrc, 'pystoi', { OPENBLAS_NUM_THREADS: '1' })
    : { ok: false as const, reason: 'no ../shared STOI fixture pair' };
  const pystoi = (metric: string): Record<string, number | string> => {
    if (!peer.ok) return { peer: `peer skipped: ${peer.reason}` };
    const m = new RegExp(`pystoi ${metric} 16 kHz: ([\\d.]+)x`).exec(peer.stdout);
    return m ? { pystoi: Number(m[1]) } : { peer: `peer skipped: unexpected output ${JSON.stringify(peer.stdout.trim())}` };
  };
  const row = (metric: string, t: number, c: number, p: Record<string, number | string>): BenchResult => {
    const xr = +(dur / t).toFixed(1);
    return {
      metric: metric.toLowerCase(),
      sampleRate: 16000,
      seconds: +dur.toFixed(2),
      xRealtime: xr,
      xRealtimeCpu: +(dur / c).toFixed(1),
      ...p,
      ...(typeof p.pystoi === 'number' ? { vsPystoi: +(xr / p.pystoi).toFixed(2) } : {}),
    };
  };
  yield row('STOI', ts, cs, pystoi('STOI'));
  yield row('ESTOI', tes, ces, pystoi('ESTOI'));
}

/** HF config.json fields for a config (the inverse of parseEncodecConfig). */
function hfConfig(c: EncodecConfig): Record<string, unknown> {
  return {
    model_type: 'encodec',
    target_bandwidths: c.targetBandwidths,
    sampling_rate: c.samplingRate,
    audio_channels: c.audioChannels,
    normalize: c.normalize,
    chunk_length_s: c.chunkLengthS,
    overlap: c.overlap,
    hidden_size: c.hiddenSize,
    num_filters: c.numFilters,
    num_residual_layers: c.numResidualLayers,
    upsampling_ratios: c.upsamplingRatios,
    norm_type: c.normType,
    kernel_size: c.kernelSize,
    last_kernel_size: c.lastKernelSize,
    residual_kernel_size: c.residualKernelSize,
    dilation_growth_rate: c.dilationGrowthRate,
    use_causal_conv: c.useCausalConv,
    pad_mode: c.padMode,
    compress: c.compress,
    num_lstm_layers: c.numLstmLayers,
    trim_right_ratio: c.trimRightRatio,
    codebook_size: c.codebookSize,
    codebook_dim: c.codebookDim,
    use_conv_shortcut: c.useConvShortcut,
  };
}

/**
 * A real clip (../shared's EnCodec test clip at the model's rate and channels, else synthetic audio) looped
 * into a 16-bit WAV of `seconds`.
 */
async function loopedWav(path: string, cfg: EncodecConfig, seconds: number): Promise<string> {
  const name = cfg.samplingRate === 24000 ? 'test_24k.wav' : 'test_48k.wav';
  const real = shared('data', 'music', 'encodec', name);
  let clip = planarOf(
    Array.from({ length: cfg.audioChannels }, (_, c) =>
      synth(cfg.samplingRate, 1, 5).map((v, i) => v * (c === 0 ? 1 : Math.cos(i * 1e-4))),
    ),
  );
  if (real) {
    const a = await loadAudio(real);
    if (a.sampleRate === cfg.samplingRate && a.channels === cfg.audioChannels) clip = planarOf(toFloat32Channels(a));
  }
  const total = Math.round(seconds * cfg.samplingRate);
  const out = WavWriter.open(path, { sampleRate: cfg.samplingRate, channels: cfg.audioChannels, expectedFrames: total });
  for (let at = 0; at < total; at += clip.length) {
    const n = Math.min(clip.length, total - at);
    out.write(
      interleavedOf(
        n === clip.length
          ? clip
          : planarOf(Array.from({ length: clip.channels }, (_, c) => clip.data.subarray(c * clip.length, c * clip.length + n))),
      ),
    );
  }
  out.close();
  return real ? `../shared/data/music/encodec/${name}, looped` : 'synthetic clip, looped';
}

/** Runs the built `wavelm ARGS` (what a user runs) under /usr/bin/time -v: wall seconds and peak RSS in MB. */
function timedWavelm(args: string[]): { wall: number; peakRssMB: number } {
  const cli = [requireBuiltCli('codec'), ...args];
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, ...cli], { encoding: 'utf8', cwd: projectRoot, maxBuffer: 64 << 20 });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0)
    throw new Error(`wavelm ${args.join(' ')} failed (${r.status}): ${(r.stderr ?? '').trim().split('\n').slice(-25).join('\n')}`);
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  return { wall, peakRssMB: m ? +(Number(m[1]) / 1024).toFixed(1) : NaN };
}

/** The long-input case: `wavelm codec encode` then `decode` of a looped clip, as processes, one worker. */
async function* longInput(o: Options): AsyncGenerator<BenchResult> {
  if (!existsSync('/usr/bin/time')) {
    yield { case: 'long input', skipped: '/usr/bin/time not found (Debian package time)' };
    return;
  }
  const cfg = o.longModel === '24k' ? ENCODEC_24KHZ : ENCODEC_48KHZ;
  const dir = mkdtempSync(join(tmpdir(), 'wavelm-bench-codec-'));
  try {
    const modelDir = join(dir, 'model');
    mkdirSync(modelDir);
    writeFileSync(join(modelDir, 'config.json'), JSON.stringify(hfConfig(cfg)));
    writeSafetensors(join(modelDir, 'model.safetensors'), Object.fromEntries(randomTensors(cfg, 7)));
    const wav = join(dir, 'long.wav');
    const source = await loopedWav(wav, cfg, o.longSeconds);
    const codes = join(dir, 'long.npy');
    const back = join(dir, 'back.wav');
    const enc = timedWavelm(['--quiet', 'codec', 'encode', wav, '-m', modelDir, '-b', '6', '-o', codes, '--no-cache', '-w', '1']);
    const dec = timedWavelm(['--quiet', 'codec', 'decode', codes, '-m', modelDir, '-o', back]);
    const base = {
      case: 'long input, spawned wavelm codec, 1 worker',
      model: o.longModel,
      bandwidth: 6,
      seconds: o.longSeconds,
      source,
      inputMB: +(statSync(wav).size / 2 ** 20).toFixed(1),
    };
    yield {
      ...base,
      op: 'encode',
      wallSeconds: +enc.wall.toFixed(1),
      xRealtime: +(o.longSeconds / enc.wall).toFixed(2),
      peakRssMB: enc.peakRssMB,
      targetRssMB: 1024,
    };
    yield {
      ...base,
      op: 'decode',
      wallSeconds: +dec.wall.toFixed(1),
      xRealtime: +(o.longSeconds / dec.wall).toFixed(2),
      peakRssMB: dec.peakRssMB,
      targetRssMB: 1024,
      outputMB: +(statSync(back).size / 2 ** 20).toFixed(1),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export default async function* codecBench(args: string[]): AsyncGenerator<BenchResult> {
  const o = parseArgs(args);
  if (!o.only || o.only === 'speed') yield* speed(o);
  if (!o.only || o.only === 'stoi') yield* stoiSpeed(o);
  if (!o.only || o.only === 'long') yield* longInput(o);
}
