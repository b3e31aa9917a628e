/**
 * `npm run bench -- pipeline [--quick] [--no-peer]`: MB of input WAV per second turned into chunks
 * (warm page cache, best of several runs), for (a) ../shared/data/speech/fsdd (3,000 small files)
 * and (b) a generated 10-minute 44.1 kHz stereo 16-bit WAV, in LMIC 8-bit and 16-bit blocked modes;
 * then the peak RSS of streaming a generated 2 GB WAV in a child process. Each case also runs the
 * Python peer (../shared/peers/peer_pipeline.py) on the same input in the same minute when
 * /usr/bin/python3 has numpy and scipy. Rates are given by wall time and by CPU time: on a shared
 * machine the wall rate mostly measures the neighbours. Generated files live in os.tmpdir() and are
 * deleted afterwards.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { WavWriter } from '../src/audio/index.js';
import { collectAudioFiles, customAudioBatches, type IteratorOptions } from '../src/tokens/index.js';
import { bestOf, peakRssMB, projectRoot, shared, sharedRoot } from './_util.js';
import type { BenchResult } from './run.js';

const MODES: Record<string, IteratorOptions> = {
  lmic8: { bitDepth: 8, conversion: 'lmic' },
  blocked16: { bitDepth: 16, conversion: 'exact', blockingSize: 1024 },
};

async function runOnce(files: string[], opts: IteratorOptions): Promise<{ chunks: number; inputBytes: number }> {
  let chunks = 0;
  const stats = { files: 0, skipped: 0, chunks: 0, bytes: 0, inputBytes: 0, frames: 0, seconds: 0, warnings: [] as string[] };
  // Transient batches, as `wavelm chunks` consumes them (each batch is used before the next).
  for await (const batch of customAudioBatches(files, { ...opts, strict: true, transient: true }, stats)) chunks += batch.length;
  return { chunks, inputBytes: stats.inputBytes };
}

/** Best wall and best CPU seconds over `repeat` runs. */
async function measure(repeat: number, files: string[], opts: IteratorOptions): Promise<{ wall: number; cpu: number; chunks: number; inputBytes: number }> {
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
const PEER_MODE: Record<string, string> = { lmic8: 'lmic', blocked16: 'seed16' };

/** The Python peer on the same input: its MB/s line, or why it did not run. */
function peer(path: string, mode: string): { peerMBps?: number; peerMode: string; peerNote?: string } {
  const peerMode = PEER_MODE[mode]!;
  if (!existsSync(PEER)) return { peerMode, peerNote: `missing ${PEER}` };
  const r = spawnSync('/usr/bin/python3', [PEER, path, peerMode], { encoding: 'utf8' });
  const m = /= ([\d.]+) MB\/s/.exec(r.stdout ?? '');
  if (r.status !== 0 || !m) return { peerMode, peerNote: `peer failed: ${(r.stderr || r.stdout || String(r.error)).trim().split('\n').pop()}` };
  return { peerMode, peerMBps: Number(m[1]) };
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
    const r = await runOnce([args[1]!], MODES[args[2] ?? 'lmic8']!);
    yield { chunks: r.chunks, seconds: (performance.now() - t0) / 1000, peakRssMB: peakRssMB() };
    return;
  }
  const withPeer = !args.includes('--no-peer');
  const fsdd = shared('data', 'speech', 'fsdd');
  if (fsdd) {
    const files = collectAudioFiles([fsdd]);
    for (const [mode, opts] of Object.entries(MODES)) {
      // The folder, as `wavelm chunks DIR` gets it: the recursive scan is part of the work.
      const m = await measure(repeat, [fsdd], opts);
      yield {
        case: 'fsdd', mode, files: files.length, inputMB: +(m.inputBytes / 1e6).toFixed(2), chunks: m.chunks,
        seconds: +m.wall.toFixed(4), MBps: +(m.inputBytes / 1e6 / m.wall).toFixed(1), cpuMBps: +(m.inputBytes / 1e6 / m.cpu).toFixed(1),
        target: 300, loadavg: loadAverage(), ...(withPeer ? peer(fsdd, mode) : {}),
      };
    }
  } else {
    yield { case: 'fsdd', skipped: 'missing ../shared/data/speech/fsdd' };
  }
  const dir = mkdtempSync(join(tmpdir(), 'wavelm-bench-'));
  try {
    const wav = join(dir, 'ten-minutes.wav');
    writeTestWav(wav, 600);
    const size = statSync(wav).size;
    for (const [mode, opts] of Object.entries(MODES)) {
      const m = await measure(repeat, [wav], opts);
      yield {
        case: '10min-44k1-stereo-16bit', mode, inputMB: +(size / 1e6).toFixed(1), chunks: m.chunks,
        seconds: +m.wall.toFixed(4), MBps: +(size / 1e6 / m.wall).toFixed(1), cpuMBps: +(size / 1e6 / m.cpu).toFixed(1),
        target: 1000, loadavg: loadAverage(), ...(withPeer ? peer(wav, mode) : {}),
      };
    }
    rmSync(wav);
    if (!quick) {
      const big = join(dir, 'two-gigabytes.wav');
      writeTestWav(big, (2e9 - 44) / (44100 * 4));
      const child = spawnSync(process.execPath, ['--import', 'tsx', join(projectRoot, 'bench', 'run.ts'), 'pipeline', '--rss-child', big, 'lmic8'], {
        cwd: projectRoot,
        encoding: 'utf8',
      });
      const line = child.stdout.trim().split('\n').pop() ?? '{}';
      const res = JSON.parse(line) as { chunks?: number; seconds?: number; peakRssMB?: number };
      const bigSize = statSync(big).size;
      yield { case: '2GB-stream', mode: 'lmic8', inputMB: +(bigSize / 1e6).toFixed(0), chunks: res.chunks, seconds: res.seconds, MBps: res.seconds ? +(bigSize / 1e6 / res.seconds).toFixed(1) : null, peakRssMB: res.peakRssMB, target: '< 200 MB', stderr: child.status === 0 ? undefined : child.stderr.slice(-500) };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
