/**
 * `npm run bench -- features [SECONDS] [REPEAT]`: multiples of real time (seconds of audio per second), two ways.
 *
 * Kernel rows, in this process on one core: librosa-default mel and MFCC at 22.05 kHz (n_fft 2048, hop 512,
 * 128 mels), Whisper-style mel and MFCC at 16 kHz (n_fft 400, hop 160, 80 mels), and resampling 44.1 -> 16 kHz
 * (scipy resample_poly's filter, and the other qualities), on a real recording from ../shared looped to SECONDS
 * (a synthetic signal when ../shared is absent). Best of REPEAT by wall time and, separately, by CPU time.
 *
 * `cli_*` rows, the path a user runs: `wavelm features mel|mfcc FILE -o OUT.npy --png OUT.png` and
 * `wavelm features resample FILE --sr 16000 -o OUT.wav` spawned from the built CLI on real ../shared files
 * (decoding, writing the .npy and PNG or WAV, and Node's start-up included), best of REPEAT, beside the same
 * kernel on the same file's samples in this process (`kernelShare`: the part of the process's time the kernel
 * is) and `wavelm --version` in the same run (`startupSeconds`: what any command costs before it starts).
 *
 * ../shared/peers has no librosa or scipy program for these cases, so no peer runs here; docs/features.md
 * gives the Python figures measured by hand and when.
 *
 * `--against REV` compares this tree's kernels with REV's instead (see againstRevision).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot, shared } from './_util.js';
import { bestWavelmRun, requireBuiltCli } from './_process.js';
import type { BenchResult } from './run.js';
import { loadAudio, toFloat32Channels } from '../src/audio/index.js';
import { melSpectrogram, mfcc, resample, StreamingResampler, type ResampleQuality } from '../src/features/index.js';
import { parseSafetensors } from '../src/util/safetensors.js';

function signal(rate: number, seconds: number): { x: Float32Array; source: string } {
  const n = Math.round(rate * seconds);
  const fx = shared('fixtures', 'resample', 'sms_speech_female_44k1_to_16k.safetensors');
  const x = new Float32Array(n);
  if (fx) {
    const t = parseSafetensors(new Uint8Array(readFileSync(fx)), fx).tensors.get('input_i16');
    if (t && t.data instanceof Int16Array && t.data.length > 0) {
      // Speech at 44.1 kHz, reused as a stream at `rate`: the content does not change the work done.
      for (let i = 0; i < n; i++) x[i] = t.data[i % t.data.length]! / 32768;
      return { x, source: 'speech-female.wav (looped)' };
    }
  }
  for (let i = 0; i < n; i++) x[i] = 0.3 * Math.sin(i * 0.05) + 0.1 * Math.sin(i * 0.71) + 0.01 * Math.sin(i * i * 1e-7);
  return { x, source: 'synthetic' };
}

/** Best of `repeat` for wall time and, separately, for this process's CPU time: on a shared machine the CPU time
 * is the steadier figure of what one core does; both are reported. */
function bestTimes(repeat: number, fn: () => unknown): { wall: number; cpu: number } {
  fn(); // warm up the JIT
  let wall = Infinity;
  let cpu = Infinity;
  for (let r = 0; r < repeat; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    wall = Math.min(wall, (performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpu = Math.min(cpu, (c.user + c.system) / 1e6);
  }
  return { wall, cpu };
}

function kernelCases(seconds: number): { cases: [string, () => unknown][]; source: string } {
  const a22 = signal(22050, seconds);
  const a16 = signal(16000, seconds);
  const a44 = signal(44100, seconds);
  const cases: [string, () => unknown][] = [
    ['mel_22k', () => melSpectrogram(a22.x, { sr: 22050 })],
    ['mel_16k', () => melSpectrogram(a16.x, { sr: 16000, ...whisper })],
    ['mfcc_22k', () => mfcc(a22.x, { sr: 22050 })],
    ['mfcc_16k', () => mfcc(a16.x, { sr: 16000, ...whisper })],
  ];
  for (const q of ['default', 'fast', 'best'] as ResampleQuality[]) {
    cases.push([q === 'default' ? 'resample_44k1_16k' : `resample_44k1_16k_${q}`, () => resample(a44.x, 44100, 16000, { quality: q })]);
  }
  cases.push([
    'resample_44k1_16k_streaming',
    () => {
      const r = new StreamingResampler(44100, 16000);
      for (let i = 0; i < a44.x.length; i += 4096) r.push(a44.x.subarray(i, i + 4096));
      return r.flush();
    },
  ]);
  return { cases, source: a22.source };
}

const whisper = { nFft: 400, hopLength: 160, nMels: 80 };
const whisperArgs = ['--n-fft', '400', '--hop-length', '160', '--n-mels', '80'];

interface CliCase {
  name: string;
  /** The input, as parts of a path under ../shared. */
  file: string[];
  /** `wavelm` arguments after the input path, given the output directory. */
  args: (input: string, dir: string) => string[];
  /** The same computation on the decoded mono samples, in this process. */
  kernel: (y: Float32Array, sr: number) => unknown;
}

const spectral =
  (kind: 'mel' | 'mfcc', extra: string[] = []) =>
  (input: string, dir: string): string[] => [
    'features',
    kind,
    input,
    ...extra,
    '-o',
    join(dir, `${kind}.npy`),
    '--png',
    join(dir, `${kind}.png`),
  ];

const cliCases: CliCase[] = [
  { name: 'cli_mel_22k', file: ['fixtures', 'mel', 'lj22k.wav'], args: spectral('mel'), kernel: (y, sr) => melSpectrogram(y, { sr }) },
  {
    name: 'cli_mel_16k',
    file: ['fixtures', 'mel', 'sb16k.wav'],
    args: spectral('mel', whisperArgs),
    kernel: (y, sr) => melSpectrogram(y, { sr, ...whisper }),
  },
  { name: 'cli_mfcc_22k', file: ['fixtures', 'mel', 'lj22k.wav'], args: spectral('mfcc'), kernel: (y, sr) => mfcc(y, { sr }) },
  {
    name: 'cli_mfcc_16k',
    file: ['fixtures', 'mel', 'sb16k.wav'],
    args: spectral('mfcc', whisperArgs),
    kernel: (y, sr) => mfcc(y, { sr, ...whisper }),
  },
  // A longer file, in FLAC: decoding is a larger part of the work than for the short WAVs.
  {
    name: 'cli_mel_24k_flac',
    file: ['data', 'encoded', 'test_24k.flac'],
    args: spectral('mel'),
    kernel: (y, sr) => melSpectrogram(y, { sr }),
  },
  {
    name: 'cli_resample_44k1_16k',
    file: ['data', 'music', 'sms-tools', 'sounds', 'cello-double-2.wav'],
    args: (input, dir) => ['features', 'resample', input, '--sr', '16000', '-o', join(dir, 'out16k.wav')],
    kernel: (y, sr) => resample(y, sr, 16000),
  },
];

/** A file's samples as `wavelm features` reads them: the mean of its channels. */
async function monoOf(path: string): Promise<{ y: Float32Array; sr: number }> {
  const audio = await loadAudio(path);
  const chans = toFloat32Channels(audio);
  if (chans.length === 1) return { y: chans[0]!, sr: audio.sampleRate };
  const y = new Float32Array(audio.frames);
  for (let i = 0; i < audio.frames; i++) y[i] = chans.reduce((s, c) => s + c[i]!, 0) / chans.length;
  return { y, sr: audio.sampleRate };
}

async function* cliRows(repeat: number): AsyncGenerator<BenchResult> {
  requireBuiltCli('features');
  const startup = bestWavelmRun(repeat, () => ['--version']);
  const dir = mkdtempSync(join(tmpdir(), 'wavelm-bench-features-'));
  try {
    for (const c of cliCases) {
      const input = shared(...c.file);
      if (!input) {
        yield { case: c.name, skipped: `../shared/${c.file.join('/')} is missing` };
        continue;
      }
      const { y, sr } = await monoOf(input);
      const audioSeconds = y.length / sr;
      const kernel = bestTimes(repeat, () => c.kernel(y, sr));
      const proc = bestWavelmRun(repeat, () => c.args(input, dir));
      yield {
        case: c.name,
        file: c.file.at(-1),
        audioSeconds: Number(audioSeconds.toFixed(2)),
        processSeconds: Number(proc.wallSeconds.toFixed(3)),
        realtime: Math.round(audioSeconds / proc.wallSeconds),
        ...(proc.cpuSeconds
          ? { processCpuSeconds: Number(proc.cpuSeconds.toFixed(2)), realtimeCpu: Math.round(audioSeconds / proc.cpuSeconds) }
          : {}),
        kernelSeconds: Number(kernel.wall.toFixed(4)),
        kernelRealtime: Math.round(audioSeconds / kernel.wall),
        kernelRealtimeCpu: Math.round(audioSeconds / kernel.cpu),
        kernelShare: Number((kernel.wall / proc.wallSeconds).toFixed(3)),
        startupSeconds: Number(startup.wallSeconds.toFixed(3)),
        ...(startup.cpuSeconds ? { startupCpuSeconds: Number(startup.cpuSeconds.toFixed(2)) } : {}),
      };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export default async function* features(args: string[]): AsyncGenerator<BenchResult> {
  const against = args.indexOf('--against');
  if (against >= 0) {
    yield* againstRevision(args[against + 1] ?? 'HEAD', Number(args[0] ?? 60), Number(args[1] ?? 5));
    return;
  }
  const seconds = Number(args[0] ?? 60);
  const repeat = Number(args[1] ?? 5);
  const { cases, source } = kernelCases(seconds);
  for (const [name, fn] of cases) {
    const t = bestTimes(repeat, fn);
    yield {
      case: name,
      audioSeconds: seconds,
      wallSeconds: Number(t.wall.toFixed(4)),
      realtime: Math.round(seconds / t.wall),
      realtimeCpu: Math.round(seconds / t.cpu),
      source,
    };
  }
  yield* cliRows(repeat);
}

type FeaturesModule = typeof import('../src/features/index.js');

/**
 * `npm run bench -- features SECONDS REPEAT --against REV`: this tree's src/ and kernels against REV's (extracted
 * with git archive into .tmp/ and built there), for kernel changes. In one process, old and new library calls
 * alternate (best of REPEAT each); then the CLI (`wavelm features mel|mfcc|resample` on a WAV file) is spawned from
 * both trees, alternating, and the outputs are compared byte for byte. Reports ratios new / old (below 1: the new
 * tree is faster).
 */
async function* againstRevision(rev: string, seconds: number, repeat: number): AsyncGenerator<BenchResult> {
  const dir = join(projectRoot, '.tmp', `bench-against-${rev.replace(/[^\w.-]/g, '_')}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // REV's package.json makes REV's tree its own package root, so it loads the kernels built here from REV's assembly/.
  const git = spawnSync('sh', ['-c', 'git archive "$0" package.json src assembly scripts | tar -x -C "$1"', rev, dir], {
    cwd: projectRoot,
    encoding: 'utf8',
  });
  if (git.status !== 0) throw new Error(`bench features --against: cannot extract ${rev}: ${git.stderr}`);
  const build = spawnSync(process.execPath, ['scripts/build-wasm.mjs'], { cwd: dir, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`bench features --against: cannot build ${rev}'s kernels: ${build.stderr}`);
  const trees: [string, string][] = [
    ['old', dir],
    ['new', projectRoot],
  ];
  const lib: Record<string, FeaturesModule> = {};
  for (const [name, root] of trees) lib[name] = (await import(pathToFileURL(join(root, 'src/features/index.ts')).href)) as FeaturesModule;
  const a22 = signal(22050, seconds).x;
  const a16 = signal(16000, seconds).x;
  const a44 = signal(44100, seconds).x;
  const cases: [string, (F: FeaturesModule) => unknown][] = [
    ['mel_22k', (F) => F.melSpectrogram(a22, { sr: 22050 })],
    ['mel_16k', (F) => F.melSpectrogram(a16, { sr: 16000, nFft: 400, hopLength: 160, nMels: 80 })],
    ['mfcc_22k', (F) => F.mfcc(a22, { sr: 22050 })],
    ['mfcc_16k', (F) => F.mfcc(a16, { sr: 16000, nFft: 400, hopLength: 160, nMels: 80 })],
    ['stft_16k', (F) => F.stft(a16, { nFft: 400, hopLength: 160 })],
    [
      'istft_16k',
      (F) => {
        const st = F.stft(a16.subarray(0, 16000 * 10), { nFft: 400, hopLength: 160 });
        return F.istft(st.re, st.im, { nFft: 400, hopLength: 160 });
      },
    ],
    ['griffinlim_5s', (F) => F.griffinLim(F.spectrogram(a22.subarray(0, 22050 * 5)), { nIter: 8 })],
    ['resample_44k1_16k', (F) => F.resample(a44, 44100, 16000)],
    ['resample_16k_44k1', (F) => F.resample(a16, 16000, 44100)],
  ];
  for (const [name, fn] of cases) {
    const best: Record<string, { wall: number; cpu: number }> = {};
    for (const [tree] of trees) {
      fn(lib[tree]!); // warm up the JIT and the caches of plans and wasm instances
      best[tree] = { wall: Infinity, cpu: Infinity };
    }
    for (let r = 0; r < repeat; r++) {
      for (const [tree] of r % 2 === 0 ? trees : [...trees].reverse()) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        fn(lib[tree]!);
        const wall = (performance.now() - t0) / 1000;
        const c = process.cpuUsage(c0);
        const b = best[tree]!;
        b.wall = Math.min(b.wall, wall);
        b.cpu = Math.min(b.cpu, (c.user + c.system) / 1e6);
      }
    }
    yield {
      case: `${name}_vs_${rev}`,
      audioSeconds: seconds,
      oldWall: round4(best.old!.wall),
      newWall: round4(best.new!.wall),
      ratioWall: round4(best.new!.wall / best.old!.wall),
      ratioCpu: round4(best.new!.cpu / best.old!.cpu),
    };
  }
  yield* cliAgainst(rev, dir, a16, Math.max(3, Math.ceil(repeat / 2)));
}

/** The CLI spawned from both trees on one WAV file, alternating; outputs compared byte for byte. */
async function* cliAgainst(rev: string, oldRoot: string, x: Float32Array, repeat: number): AsyncGenerator<BenchResult> {
  const { encodeWav } = await import('../src/audio/wav-encode.js');
  const work = join(oldRoot, 'io');
  mkdirSync(work, { recursive: true });
  const wav = join(work, 'in.wav');
  writeFileSync(wav, encodeWav({ sampleRate: 16000, channels: 1, frames: x.length, sampleType: 'float32', bitsPerSample: 32, samples: x }));
  const commands: [string, string[]][] = [
    ['mel', ['features', 'mel', wav, '--n-fft', '400', '--hop-length', '160', '--n-mels', '80']],
    ['mfcc', ['features', 'mfcc', wav, '--n-fft', '400', '--hop-length', '160', '--n-mels', '80']],
    ['resample', ['features', 'resample', wav, '--sr', '44100', '--bits', 'float']],
  ];
  for (const [name, args] of commands) {
    const best: Record<string, number> = { old: Infinity, new: Infinity };
    const outputs: Record<string, Buffer> = {};
    for (let r = 0; r < repeat; r++) {
      for (const tree of r % 2 === 0 ? ['old', 'new'] : ['new', 'old']) {
        const out = join(work, `${name}-${tree}.${name === 'resample' ? 'wav' : 'npy'}`);
        const main = join(tree === 'old' ? oldRoot : projectRoot, 'src/cli/main.ts');
        const t0 = performance.now();
        const p = spawnSync(process.execPath, ['--import', 'tsx', main, ...args, '-o', out], { cwd: projectRoot, encoding: 'utf8' });
        const wall = (performance.now() - t0) / 1000;
        if (p.status !== 0) throw new Error(`wavelm ${args.join(' ')} (${tree}) failed: ${p.stderr}`);
        best[tree] = Math.min(best[tree]!, wall);
        outputs[tree] = readFileSync(out);
      }
    }
    yield {
      case: `cli_${name}_vs_${rev}`,
      audioSeconds: x.length / 16000,
      oldWall: round4(best.old!),
      newWall: round4(best.new!),
      ratioWall: round4(best.new! / best.old!),
      sameOutput: outputs.old!.equals(outputs.new!),
    };
  }
}

function round4(v: number): number {
  return Number(v.toFixed(4));
}
