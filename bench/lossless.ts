/**
 * wavelm's lossless codec against FLAC -8 and WavPack -hhx on the same files, in one run:
 *
 *   npm run bench -- lossless [--level fast|normal|max] [--workers N] [SET...]
 *
 * SET is fsdd, arctic, sms, encodec (default: all; ../shared's 16-bit speech and music) or a folder.
 * Per set: total sizes (sums of per-file sizes, FLAC without its padding block), rates of the original
 * and of FLAC's size, and speeds as seconds of audio per second: the library on a runner opened for the
 * set, and `wavelm compress DIR` / `wavelm decompress DIR` as whole processes (the path a user runs,
 * once dist/ is built). Every archive is decoded and compared with its original. A missing flac or
 * wavpack is reported and skipped.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressLossless, decompressLossless } from '../src/compress/lossless/codec.js';
import type { LevelName } from '../src/compress/lossless/levels.js';
import { SegmentRunner } from '../src/compress/lossless/segment-runner.js';
import { forEachFile } from '../src/compress/batch.js';
import { readPcmImage } from '../src/compress/lossless/pcm-image.js';
import { collectAudioFiles } from '../src/tokens/index.js';
import type { BenchResult } from './run.js';
import { projectRoot, shared } from './_util.js';

const SETS: Record<string, string[]> = {
  fsdd: ['data', 'speech', 'fsdd'],
  arctic: ['data', 'speech', 'arctic'],
  sms: ['data', 'music', 'sms-tools'],
  encodec: ['data', 'music', 'encodec'],
};

function hasTool(tool: string): boolean {
  return spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== null;
}

/** Size and seconds of an external encoder over the files, one process per file. */
function external(
  files: string[],
  tmp: string,
  encode: (f: string, out: string) => string[],
  tool: string,
  ext: string,
): { bytes: number; seconds: number } {
  let bytes = 0;
  const t0 = performance.now();
  for (const [i, f] of files.entries()) {
    const out = join(tmp, `${i}.${ext}`);
    execFileSync(tool, encode(f, out), { stdio: 'ignore' });
    bytes += statSync(out).size;
    rmSync(out);
  }
  return { bytes, seconds: (performance.now() - t0) / 1000 };
}

async function audioSeconds(files: string[]): Promise<{ seconds: number; bytes: number }> {
  let seconds = 0;
  let bytes = 0;
  for (const f of files) {
    const b = new Uint8Array(readFileSync(f));
    const image = await readPcmImage(b, f);
    seconds += image.frames / image.sampleRate;
    bytes += b.length;
  }
  return { seconds, bytes };
}

export default async function* lossless(args: string[]): AsyncGenerator<BenchResult> {
  let level: LevelName = 'normal';
  let workers = 2;
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--level') level = args[++i] as LevelName;
    else if (args[i] === '--workers') workers = Number(args[++i]);
    else names.push(args[i]!);
  }
  const tools = { flac: hasTool('flac'), wavpack: hasTool('wavpack') };
  for (const [tool, ok] of Object.entries(tools))
    if (!ok) yield { skipped: tool, reason: `${tool} is not installed (Debian package ${tool})` };
  const cli = join(projectRoot, 'dist', 'src', 'cli', 'main.js');
  const cliBuilt = (() => {
    try {
      return statSync(cli).mtimeMs >= statSync(join(projectRoot, 'src', 'compress', 'lossless', 'codec.ts')).mtimeMs;
    } catch {
      return false;
    }
  })();
  if (!cliBuilt) yield { skipped: 'cli', reason: 'dist/ is missing or older than src/ (npm run build:ts)' };
  for (const name of names.length > 0 ? names : Object.keys(SETS)) {
    const dir = SETS[name] ? shared(...SETS[name]!) : name;
    if (!dir) {
      yield { set: name, skipped: true, reason: '../shared is missing' };
      continue;
    }
    const files = collectAudioFiles([dir]);
    const { seconds: audio, bytes: original } = await audioSeconds(files);
    const tmp = mkdtempSync(join(tmpdir(), 'wavelm-lossless-'));
    try {
      const runner = await SegmentRunner.open(workers);
      let ours = 0;
      let exact = true;
      const archives: Uint8Array[] = new Array<Uint8Array>(files.length);
      const plans = files.map((f, i) => ({ input: f, output: String(i) }));
      const t0 = performance.now();
      await forEachFile(plans, workers, async ({ input, output }) => {
        const { archive } = await compressLossless(new Uint8Array(readFileSync(input)), { level, runner, name: input });
        archives[Number(output)] = archive;
      });
      const encS = (performance.now() - t0) / 1000;
      const t1 = performance.now();
      await forEachFile(plans, workers, async ({ input, output }) => {
        const back = await decompressLossless(archives[Number(output)]!, { runner, name: input });
        const orig = new Uint8Array(readFileSync(input));
        if (back.bytes.length !== orig.length || !back.bytes.every((v, k) => v === orig[k])) exact = false;
      });
      const decS = (performance.now() - t1) / 1000;
      await runner.close();
      for (const a of archives) ours += a.length;
      const flac = tools.flac
        ? external(files, tmp, (f, out) => ['-8', '--no-padding', '-s', '-f', '-o', out, f], 'flac', 'flac')
        : undefined;
      const wavpack = tools.wavpack ? external(files, tmp, (f, out) => ['-hhx', '-q', '-y', f, '-o', out], 'wavpack', 'wv') : undefined;
      const ofFlac = (b: number): number | null => (flac ? Number(((100 * b) / flac.bytes).toFixed(2)) : null);
      const row: BenchResult = {
        set: name,
        files: files.length,
        audioSeconds: Number(audio.toFixed(1)),
        originalBytes: original,
        level,
        workers,
        wavelm: {
          bytes: ours,
          percent: Number(((100 * ours) / original).toFixed(2)),
          percentOfFlac: ofFlac(ours),
          roundTrip: exact,
          compressRealtime: Number((audio / encS).toFixed(1)),
          decompressRealtime: Number((audio / decS).toFixed(1)),
        },
        flac: flac && {
          bytes: flac.bytes,
          percent: Number(((100 * flac.bytes) / original).toFixed(2)),
          realtime: Number((audio / flac.seconds).toFixed(1)),
        },
        wavpack: wavpack && {
          bytes: wavpack.bytes,
          percent: Number(((100 * wavpack.bytes) / original).toFixed(2)),
          percentOfFlac: ofFlac(wavpack.bytes),
          realtime: Number((audio / wavpack.seconds).toFixed(1)),
        },
      };
      if (cliBuilt) row.cli = cliCase(cli, dir, tmp, level, workers, audio);
      yield row;
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
}

/** `wavelm compress DIR --out-dir` and `wavelm decompress` as processes: start-up, reading, coding, writing. */
function cliCase(cli: string, dir: string, tmp: string, level: LevelName, workers: number, audio: number): BenchResult {
  const run = (args: string[]): number => {
    const t0 = performance.now();
    execFileSync(process.execPath, [cli, ...args, '--workers', String(workers), '--quiet'], { stdio: 'ignore' });
    return (performance.now() - t0) / 1000;
  };
  const encS = run(['compress', dir, '--out-dir', join(tmp, 'a'), '--level', level]);
  const decS = run(['decompress', join(tmp, 'a'), '--out-dir', join(tmp, 'b')]);
  return {
    compressRealtime: Number((audio / encS).toFixed(1)),
    decompressRealtime: Number((audio / decS).toFixed(1)),
    compressSeconds: Number(encS.toFixed(2)),
    decompressSeconds: Number(decS.toFixed(2)),
  };
}
