/**
 * `npm run bench -- startup [REPEATS] [AUDIO_FILE] [BASELINE]`: how long the built CLI (`node dist/src/cli/main.js`,
 * from `npm run build:ts`) takes from process start to exit for `--version` and `info FILE`, beside
 * `node -e 0` (Node's own start-up on this machine). The cases run in turns, REPEATS rounds (default 15),
 * so that a slow minute slows all of them alike; each result gives the median and the fastest run in ms
 * and the median's ratio to `node -e 0`'s. `info` reads a 16-bit WAV the benchmark writes, and the FLAC
 * test clip of ../shared (or AUDIO_FILE) when there is one. BASELINE, the main.js of another build (say
 * an older commit's, built in a copy), adds its `--version` and `info WAV` to the same rounds.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav } from '../src/audio/index.js';
import { projectRoot, shared } from './_util.js';
import type { BenchResult } from './run.js';

interface Case {
  name: string;
  args: string[];
}

const cli = join(projectRoot, 'dist', 'src', 'cli', 'main.js');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The newest modification time of the TypeScript sources, to warn when dist/ was built before it. */
function newestSource(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestSource(p) : e.name.endsWith('.ts') ? statSync(p).mtimeMs : 0);
  }
  return t;
}

/** Wall time of one run in ms; a run that fails stops the benchmark (a broken CLI starts fast). */
function timeRun(c: Case): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, c.args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${c.name} exited with ${r.status}: ${r.stderr.toString().trim()}`);
  return ms;
}

export default async function* startup(args: string[]): AsyncGenerator<BenchResult> {
  const repeats = Number(args[0] ?? 15);
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build it with npm run build:ts`);
  const stale = statSync(cli).mtimeMs < newestSource(join(projectRoot, 'src'));
  if (stale) process.stderr.write('startup: dist/ is older than src/; run npm run build:ts to time the current code\n');
  const dir = mkdtempSync(join(tmpdir(), 'wavelm-bench-startup-'));
  try {
    const wav = join(dir, 'tone.wav');
    writeFileSync(
      wav,
      encodeWav({ sampleRate: 16000, channels: 1, frames: 16000, sampleType: 'int16', bitsPerSample: 16, samples: new Int16Array(16000) }),
    );
    const flac = args[1] || shared('data', 'encoded', 'test_48k_stereo.flac');
    const baseline = args[2];
    const cases: Case[] = [
      { name: 'node -e 0', args: ['-e', '0'] },
      { name: 'wavelm --version', args: [cli, '--version'] },
      { name: 'wavelm info WAV', args: [cli, 'info', wav] },
      ...(flac ? [{ name: `wavelm info ${flac.split('/').pop()}`, args: [cli, 'info', flac] }] : []),
      ...(baseline
        ? [
            { name: 'baseline --version', args: [baseline, '--version'] },
            { name: 'baseline info WAV', args: [baseline, 'info', wav] },
          ]
        : []),
    ];
    for (const c of cases) timeRun(c); // warm the file cache
    const times = cases.map(() => [] as number[]);
    for (let r = 0; r < repeats; r++) for (let i = 0; i < cases.length; i++) times[i]!.push(timeRun(cases[i]!));
    const base = median(times[0]!);
    for (let i = 0; i < cases.length; i++) {
      const m = median(times[i]!);
      yield {
        case: cases[i]!.name,
        repeats,
        medianMs: +m.toFixed(1),
        minMs: +Math.min(...times[i]!).toFixed(1),
        ratioToNode: +(m / base).toFixed(2),
        staleDist: stale,
      };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
