/**
 * `npm run bench -- pipeline [--quick] [--no-peer]`: audio to chunks for (a) ../shared/data/speech/fsdd
 * (3,000 small files) and (b) a generated 10-minute 44.1 kHz stereo 16-bit WAV, in three modes (LMIC's
 * first-channel 8-bit, the float pipeline's 16-bit stereo blocks, exact 16-bit blocks); then the peak RSS
 * of streaming a generated 2 GB WAV in a child process.
 * Each case reports two figures:
 * - the warm library call (best of several in-process runs, MB/s by wall and by CPU time: on a shared
 *   machine the wall rate mostly measures the neighbours);
 * - what a user waits for: `wavelm chunks` (dist/, so `npm run build:ts` first) and the Python peer
 *   (../shared/peers/peer_pipeline.py, with Debian's python3-numpy and python3-scipy) as whole processes,
 *   alternated in the same minute, best of each, and their ratio;
 * - the floor under any Node program doing this work: a Node process that only reads the same files into a
 *   reused buffer (no parsing, no conversion, no output), timed in the same rounds. peer / floor is the
 *   largest speed-up over the peer that a Node process could show on this machine (`processSpeedupCeiling`).
 * Generated files live in os.tmpdir() and are deleted afterwards.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { WavWriter } from '../src/audio/index.js';
import { collectAudioFiles, customAudioBatches, type IteratorOptions } from '../src/tokens/index.js';
import { bestOf, peakRssMB, projectRoot, shared, sharedRoot } from './_util.js';
import type { BenchResult } from './run.js';

interface Mode {
  options: IteratorOptions;
  /** The same settings as `wavelm chunks` flags. */
  flags: string[];
  /** peer_pipeline.py's mode doing the same work, if it has one. */
  peer?: string;
}

const MODES: Record<string, Mode> = {
  // LMIC's path: the first channel, audioop's 16 -> 8 bit (peer_pipeline.py's 'lmic').
  lmic8: {
    options: { bitDepth: 8, conversion: 'lmic', channelMode: 'pick' },
    flags: ['--conversion', 'lmic', '--channel-mode', 'pick'],
    peer: 'lmic',
  },
  // The float pipeline with stereo blocks of 1024 (peer_pipeline.py's 'seed16').
  seed16: {
    options: { bitDepth: 16, conversion: 'seed-float', blockingSize: 1024 },
    flags: ['--bit-depth', '16', '--conversion', 'seed-float', '--blocking-size', '1024'],
    peer: 'seed16',
  },
  blocked16: {
    options: { bitDepth: 16, conversion: 'exact', blockingSize: 1024 },
    flags: ['--bit-depth', '16', '--conversion', 'exact', '--blocking-size', '1024'],
  },
};

async function runOnce(files: string[], opts: IteratorOptions): Promise<{ chunks: number; inputBytes: number }> {
  let chunks = 0;
  const stats = { files: 0, skipped: 0, chunks: 0, bytes: 0, inputBytes: 0, frames: 0, seconds: 0, warnings: [] as string[] };
  // Transient batches, as `wavelm chunks` consumes them (each batch is used before the next).
  for await (const batch of customAudioBatches(files, { ...opts, strict: true, transient: true }, stats)) chunks += batch.length;
  return { chunks, inputBytes: stats.inputBytes };
}

/** Best wall and best CPU seconds over `repeat` runs. */
async function measure(
  repeat: number,
  files: string[],
  opts: IteratorOptions,
): Promise<{ wall: number; cpu: number; chunks: number; inputBytes: number }> {
  await runOnce(files, opts); // warm-up: page cache and JIT
  let r = { chunks: 0, inputBytes: 0 };
  let cpu = Infinity;
  const wall = await bestOf(repeat, async () => {
    const c0 = process.cpuUsage();
    r = await runOnce(files, opts);
    const c = process.cpuUsage(c0);
    cpu = Math.min(cpu, (c.user + c.system) / 1e6);
  });
  return { wall, cpu, ...r };
}

const PEER = join(sharedRoot, 'peers', 'peer_pipeline.py');
const CLI = join(projectRoot, 'dist', 'src', 'cli', 'main.js');

/**
 * A Node program that does the least any `wavelm chunks` must: start, find the .wav files under its argument
 * (sorted, as the peer and wavelm do) and read every byte of them into one reused 1 MiB buffer.
 */
const FLOOR_SCRIPT = `
const { openSync, readSync, closeSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');
const wav = (name) => name.toLowerCase().endsWith('.wav');
const files = (p) => statSync(p).isDirectory()
  ? readdirSync(p, { withFileTypes: true })
      .flatMap((e) => e.isDirectory() ? files(join(p, e.name)) : wav(e.name) ? [join(p, e.name)] : [])
  : [p];
const buf = Buffer.allocUnsafe(1 << 20);
let total = 0;
for (const f of files(process.argv[1]).sort()) {
  const fd = openSync(f, 'r');
  for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) total += n;
  closeSync(fd);
}
if (total === 0) throw new Error('no bytes read');
`;

/** Wall seconds of a whole process, or why it failed. */
function timeProcess(command: string, args: string[]): { seconds?: number; error?: string } {
  const t0 = performance.now();
  const r = spawnSync(command, args, { encoding: 'utf8' });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) return { error: (r.stderr || r.stdout || String(r.error)).trim().split('\n').pop() };
  return { seconds };
}

/**
 * `wavelm chunks` and the Python peer as whole processes, alternated `repeat` times in the same minute
 * (best of each): what a user waits for, start-up, imports and output writing included.
 */
function processes(input: string, mode: Mode, out: string, repeat: number, withPeer: boolean): Record<string, number | string | undefined> {
  if (!existsSync(CLI)) return { cliNote: 'dist/ is not built (npm run build:ts)' };
  const peerRuns = withPeer && mode.peer && existsSync(PEER);
  let cli = Infinity;
  let py = Infinity;
  let floor = Infinity;
  let peerNote: string | undefined = withPeer && mode.peer && !existsSync(PEER) ? `missing ${PEER}` : undefined;
  for (let i = 0; i < repeat; i++) {
    const c = timeProcess(process.execPath, [CLI, 'chunks', input, ...mode.flags, '-o', out]);
    if (c.error) return { cliNote: `wavelm chunks failed: ${c.error}` };
    cli = Math.min(cli, c.seconds!);
    const f = timeProcess(process.execPath, ['-e', FLOOR_SCRIPT, input]);
    if (f.error) return { cliNote: `the floor process failed: ${f.error}` };
    floor = Math.min(floor, f.seconds!);
    if (!peerRuns) continue;
    const p = timeProcess('/usr/bin/python3', ['-W', 'ignore', PEER, input, mode.peer!]);
    if (p.error) peerNote = `peer failed: ${p.error}`;
    else py = Math.min(py, p.seconds!);
  }
  const both = Number.isFinite(py);
  return {
    cliProcessSeconds: +cli.toFixed(3),
    peerProcessSeconds: both ? +py.toFixed(3) : undefined,
    processSpeedup: both ? +(py / cli).toFixed(2) : undefined,
    floorProcessSeconds: +floor.toFixed(3),
    processSpeedupCeiling: both ? +(py / floor).toFixed(2) : undefined,
    peerMode: mode.peer,
    peerNote,
  };
}

function loadAverage(): number {
  return +loadavg()[0]!.toFixed(2);
}

/** A deterministic stereo 16-bit WAV of `seconds` at 44.1 kHz (a chirp with noise), written in pieces. */
function writeTestWav(path: string, seconds: number): void {
  const rate = 44100;
  const frames = Math.round(seconds * rate);
  const writer = WavWriter.open(path, { sampleRate: rate, channels: 2, bits: 16, expectedFrames: frames });
  try {
    const piece = 1 << 20;
    const buf = new Int16Array(piece * 2);
    let seedState = 12345;
    for (let f0 = 0; f0 < frames; f0 += piece) {
      const n = Math.min(piece, frames - f0);
      // Past ten minutes, repeat the first pieces (the 2 GB file only measures memory).
      if (f0 < 30_000_000) {
        for (let i = 0; i < n; i++) {
          const t = (f0 + i) / rate;
          seedState = (seedState * 1103515245 + 12345) >>> 0;
          const noise = ((seedState >>> 16) & 0x3ff) - 512;
          buf[2 * i] = Math.round(12000 * Math.sin(2 * Math.PI * (220 + 20 * t) * t)) + noise;
          buf[2 * i + 1] = Math.round(9000 * Math.sin(2 * Math.PI * 330 * t)) - noise;
        }
      }
      writer.write(buf.subarray(0, n * 2));
    }
    writer.close();
  } finally {
    writer.abort();
  }
}

export default async function* pipeline(args: string[]): AsyncGenerator<BenchResult> {
  const quick = args.includes('--quick');
  const repeat = quick ? 2 : 5;
  // Child mode: stream one big file and report peak RSS.
  if (args[0] === '--rss-child') {
    const t0 = performance.now();
    const r = await runOnce([args[1]!], MODES[args[2] ?? 'lmic8']!.options);
    yield { chunks: r.chunks, seconds: (performance.now() - t0) / 1000, peakRssMB: peakRssMB() };
    return;
  }
  const withPeer = !args.includes('--no-peer');
  const dir = mkdtempSync(join(tmpdir(), 'wavelm-bench-'));
  try {
    yield* speechCorpus(dir, repeat, withPeer);
    yield* longStereoFile(dir, repeat, withPeer, quick);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** FSDD's 3,000 small files, as a folder. */
async function* speechCorpus(dir: string, repeat: number, withPeer: boolean): AsyncGenerator<BenchResult> {
  const fsdd = shared('data', 'speech', 'fsdd');
  if (fsdd) {
    const files = collectAudioFiles([fsdd]);
    for (const [mode, settings] of Object.entries(MODES)) {
      // The folder, as `wavelm chunks DIR` gets it: the recursive scan is part of the work.
      const m = await measure(repeat, [fsdd], settings.options);
      yield {
        case: 'fsdd',
        mode,
        files: files.length,
        inputMB: +(m.inputBytes / 1e6).toFixed(2),
        chunks: m.chunks,
        seconds: +m.wall.toFixed(4),
        MBps: +(m.inputBytes / 1e6 / m.wall).toFixed(1),
        cpuMBps: +(m.inputBytes / 1e6 / m.cpu).toFixed(1),
        target: 300,
        loadavg: loadAverage(),
        ...processes(fsdd, settings, join(dir, 'chunks.bin'), repeat, withPeer),
      };
    }
  } else {
    yield { case: 'fsdd', skipped: 'missing ../shared/data/speech/fsdd' };
  }
}

/** A generated 10-minute 44.1 kHz stereo file; then, unless quick, peak memory on a 2 GB one. */
async function* longStereoFile(dir: string, repeat: number, withPeer: boolean, quick: boolean): AsyncGenerator<BenchResult> {
  const wav = join(dir, 'ten-minutes.wav');
  writeTestWav(wav, 600);
  const size = statSync(wav).size;
  for (const [mode, settings] of Object.entries(MODES)) {
    const m = await measure(repeat, [wav], settings.options);
    yield {
      case: '10min-44k1-stereo-16bit',
      mode,
      inputMB: +(size / 1e6).toFixed(1),
      chunks: m.chunks,
      seconds: +m.wall.toFixed(4),
      MBps: +(size / 1e6 / m.wall).toFixed(1),
      cpuMBps: +(size / 1e6 / m.cpu).toFixed(1),
      target: 1000,
      loadavg: loadAverage(),
      ...processes(wav, settings, join(dir, 'chunks.bin'), repeat, withPeer),
    };
  }
  rmSync(wav);
  if (!quick) {
    const big = join(dir, 'two-gigabytes.wav');
    writeTestWav(big, (2e9 - 44) / (44100 * 4));
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(projectRoot, 'bench', 'run.ts'), 'pipeline', '--rss-child', big, 'lmic8'],
      {
        cwd: projectRoot,
        encoding: 'utf8',
      },
    );
    const line = child.stdout.trim().split('\n').pop() ?? '{}';
    const res = JSON.parse(line) as { chunks?: number; seconds?: number; peakRssMB?: number };
    const bigSize = statSync(big).size;
    yield {
      case: '2GB-stream',
      mode: 'lmic8',
      inputMB: +(bigSize / 1e6).toFixed(0),
      chunks: res.chunks,
      seconds: res.seconds,
      MBps: res.seconds ? +(bigSize / 1e6 / res.seconds).toFixed(1) : null,
      peakRssMB: res.peakRssMB,
      target: '< 200 MB',
      stderr: child.status === 0 ? undefined : child.stderr.slice(-500),
    };
  }
}
