/** `wavelm features stft|mel|mfcc|invert|resample`: librosa-style features to .npy (and PNG), mel back to audio, and resampling to WAV. */
import { writeFileSync } from 'node:fs';
import { Option } from './commander.js';
import type { Command } from 'commander';
import type { WavBitsName } from '../audio/index.js';
import type { FeatureKind, PadMode, ResampleQuality, WindowName } from '../features/index.js';
import { ConfigError } from '../util/errors.js';
import type { Colormap } from '../util/png.js';
import { action, barFor, checkWritable, emit } from './common.js';
import { integerOption, numberOption, numberOrWordOption } from './options.js';

interface SpectralCliOptions {
  output?: string;
  sr?: number;
  channel?: number;
  nFft?: number;
  hopLength?: number;
  winLength?: number;
  window: WindowName;
  center: boolean;
  padMode: PadMode;
  power?: number;
  nMels?: number;
  fmin?: number;
  fmax?: number;
  htk?: boolean;
  norm?: 'slaney' | 'none';
  nMfcc?: number;
  lifter?: number;
  db?: boolean;
  topDb?: number | 'none';
  ref?: number | 'max';
  png?: string;
  colormap: Colormap;
  quality: ResampleQuality;
}

const WAV_BITS: readonly WavBitsName[] = ['16', '24', '32', 'float'];

function qualityOption(description: string): Option {
  return new Option('--quality <q>', description).choices(['fast', 'default', 'best']).default('default');
}

async function runSpectral(kind: FeatureKind, input: string, o: SpectralCliOptions, cmd: Command): Promise<void> {
  if (!o.output && !o.png) throw new ConfigError('give -o OUT.npy and/or --png FILE', { subject: '-o' });
  if (o.output) checkWritable(o.output, '-o');
  if (o.png) checkWritable(o.png, '--png');
  const [{ loadAudio }, { extractFeature, monoSignal, spectrogramPng, writeMelFeatures }] = await Promise.all([
    import('../audio/index.js'),
    import('../features/index.js'),
  ]);
  const audio = await loadAudio(input);
  if (o.channel !== undefined && o.channel >= audio.channels)
    throw new ConfigError(`--channel ${o.channel}: ${input} has ${audio.channels} channel(s), numbered from 0`, { subject: '--channel' });
  const { samples: y, sampleRate: sr } = monoSignal(audio, { channel: o.channel, sampleRate: o.sr, quality: o.quality });
  const t0 = performance.now();
  const feature = extractFeature(y, {
    kind,
    sr,
    nFft: o.nFft,
    hopLength: o.hopLength,
    winLength: o.winLength,
    window: o.window,
    center: o.center,
    padMode: o.padMode,
    power: o.power,
    nMels: o.nMels,
    fmin: o.fmin,
    fmax: o.fmax,
    htk: o.htk,
    norm: o.norm === 'none' ? null : o.norm,
    db: o.db,
    topDb: o.topDb === 'none' ? null : o.topDb,
    ref: o.ref,
    nMfcc: o.nMfcc,
    lifter: o.lifter,
  });
  const seconds = (performance.now() - t0) / 1000;
  const m = feature.matrix;
  // The mel sidecar lets `features invert` (and AudioProcessor.featuresToAudio) undo it with the same settings.
  if (o.output && feature.melSettings) writeMelFeatures(o.output, { kind: 'mel', mel: m, settings: feature.melSettings });
  else if (o.output) (await import('../util/npy.js')).writeNpy(o.output, m.data, m.shape);
  if (o.png) writeFileSync(o.png, spectrogramPng(m, { scale: feature.scale, colormap: o.colormap }));
  const result = {
    input,
    output: o.output ?? null,
    png: o.png ?? null,
    feature: kind,
    shape: m.shape,
    sampleRate: sr,
    nativeSampleRate: audio.sampleRate,
    channels: audio.channels,
    mono: o.channel === undefined ? (audio.channels > 1 ? 'mean' : 'single') : `channel ${o.channel}`,
    durationSeconds: y.length / sr,
    computeSeconds: seconds,
  };
  emit(
    cmd,
    result,
    () => `${input}: ${kind} [${m.shape.join(', ')}] at ${sr} Hz${o.output ? ` -> ${o.output}` : ''}${o.png ? ` (image ${o.png})` : ''}`,
  );
}

interface ResampleCliOptions {
  sr: number;
  output: string;
  quality: ResampleQuality;
  bits?: WavBitsName;
}

async function runResample(input: string, o: ResampleCliOptions, cmd: Command): Promise<void> {
  checkWritable(o.output, '-o');
  const { resampleFile } = await import('../features/index.js');
  const r = await resampleFile(input, o.output, {
    sampleRate: o.sr,
    quality: o.quality,
    bits: o.bits,
    progress: barFor(cmd, { unit: 'frames' }),
  });
  const result = {
    input,
    output: o.output,
    fromRate: r.fromRate,
    toRate: r.toRate,
    channels: r.channels,
    framesIn: r.framesIn,
    framesOut: r.framesOut,
    quality: o.quality,
    bits: r.bits,
  };
  emit(cmd, result, () => `${input}: ${r.fromRate} Hz -> ${r.toRate} Hz (${o.quality}), ${r.framesOut} frames -> ${o.output}`);
}

function spectralCommand(parent: Command, kind: FeatureKind, description: string): void {
  const c = parent
    .command(`${kind} <input>`)
    .description(description)
    .option('-o, --output <file>', 'write the matrix as float32 .npy, shape [rows, frames] as librosa returns it')
    .option('--sr <rate>', "resample to this rate first (default: the file's own rate, librosa.load(sr=None))", integerOption({ min: 1 }))
    .option('--channel <n>', 'use this channel (from 0) instead of the mean of all channels', integerOption({ min: 0 }))
    .option('--n-fft <n>', 'FFT length (librosa: 2048)', integerOption({ min: 1 }))
    .option('--hop-length <n>', 'hop in samples (librosa: win_length // 4)', integerOption({ min: 1 }))
    .option('--win-length <n>', 'window length (librosa: n_fft)', integerOption({ min: 1 }))
    .addOption(new Option('--window <name>', 'analysis window').choices(['hann', 'hamming', 'blackman', 'boxcar']).default('hann'))
    .option('--center', 'pad n_fft // 2 on both sides (librosa default)', true)
    .option('--no-center', 'frames start at sample 0')
    .addOption(
      new Option('--pad-mode <mode>', 'padding for --center (librosa 0.11: constant)')
        .choices(['constant', 'reflect', 'edge', 'symmetric'])
        .default('constant'),
    )
    .option(
      '--power <p>',
      kind === 'stft' ? 'exponent of the magnitude (1: magnitude, 2: power)' : 'exponent of the magnitude (librosa: 2)',
      numberOption({ above: 0 }),
    )
    .option(
      '--top-db <dB>',
      "with dB output, clip this far below the peak, or 'none' (librosa: 80)",
      numberOrWordOption({ min: 0 }, ['none']),
    )
    .option('--ref <r>', "dB reference: a number (librosa: 1.0) or 'max'", numberOrWordOption({ above: 0 }, ['max']))
    .option('--png <file>', 'also draw the result as a PNG image (low frequencies at the bottom)')
    .addOption(new Option('--colormap <name>', 'colours of the --png image').choices(['viridis', 'magma', 'gray']).default('magma'))
    .addOption(qualityOption('resampler quality for --sr'));
  if (kind !== 'stft') {
    c.option('--n-mels <n>', 'mel bands (librosa: 128)', integerOption({ min: 1 }))
      .option('--fmin <hz>', 'lowest mel edge (librosa: 0)', numberOption({ min: 0 }))
      .option('--fmax <hz>', 'highest mel edge (librosa: sr / 2)', numberOption({ above: 0 }))
      .option('--htk', 'HTK mel scale instead of Slaney (librosa: false)')
      .addOption(new Option('--norm <norm>', 'slaney (area normalisation, librosa default) or none').choices(['slaney', 'none']));
  }
  if (kind === 'mfcc') {
    c.option('--n-mfcc <n>', 'coefficients (librosa: 20)', integerOption({ min: 1 })).option(
      '--lifter <l>',
      'cepstral liftering (librosa: 0)',
      numberOption({ min: 0 }),
    );
  } else {
    c.option(
      '--db',
      kind === 'stft' ? 'convert to dB (amplitude_to_db for power 1, power_to_db for power 2)' : 'convert to dB (power_to_db)',
    );
  }
  c.action(action(async (input: string, opts: SpectralCliOptions, cmd: Command) => runSpectral(kind, input, opts, cmd)));
}

interface InvertCliOptions {
  output: string;
  sr?: number;
  nFft?: number;
  hopLength?: number;
  power?: number;
  db?: boolean;
  ref?: number;
  nIter: number;
  momentum: number;
  init: 'random' | 'zero';
  seed: number;
  nnlsIter: number;
  length?: number;
  bits: WavBitsName;
}

/** Mel .npy (with the sidecar `features mel` writes, or librosa's defaults) back to a mono WAV by mel_to_audio. */
async function runInvert(input: string, o: InvertCliOptions, cmd: Command): Promise<void> {
  checkWritable(o.output, '-o');
  const [
    { defaultMelSettings, overrideMelSettings, readMelFeatures },
    { AudioProcessor },
    { encodeWav, fromFloat32Channels, wavBitsOptions },
  ] = await Promise.all([import('../features/index.js'), import('../codec/index.js'), import('../audio/index.js')]);
  const read = readMelFeatures(input, (nMels: number) => defaultMelSettings(o.sr, nMels));
  // Options given on the command line override the sidecar (or stand in for it).
  const f = {
    ...read,
    settings: overrideMelSettings(read.settings, {
      sampleRate: o.sr,
      nFft: o.nFft,
      hopLength: o.hopLength,
      power: o.power,
      db: o.db,
      ref: o.ref,
    }),
  };
  const t0 = performance.now();
  const audio = new AudioProcessor().featuresToAudio(f, {
    nIter: o.nIter,
    momentum: o.momentum,
    init: o.init === 'zero' ? null : 'random',
    randomState: o.seed,
    nnlsIter: o.nnlsIter,
    length: o.length,
  });
  const seconds = (performance.now() - t0) / 1000;
  const y = audio.channels[0]!;
  writeFileSync(o.output, encodeWav(fromFloat32Channels([y], audio.sampleRate), wavBitsOptions(o.bits)));
  const result = {
    input,
    output: o.output,
    shape: f.mel.shape,
    sampleRate: audio.sampleRate,
    samples: y.length,
    durationSeconds: y.length / audio.sampleRate,
    nIter: o.nIter,
    momentum: o.momentum,
    init: o.init,
    seed: o.seed,
    computeSeconds: seconds,
  };
  emit(
    cmd,
    result,
    () =>
      `${input}: mel [${f.mel.shape.join(', ')}] -> ${o.output} (${(y.length / audio.sampleRate).toFixed(2)} s at ` +
      `${audio.sampleRate} Hz, ${o.nIter} Griffin-Lim iterations, ${seconds.toFixed(2)} s)`,
  );
}

export function registerFeatures(program: Command): void {
  const f = program
    .command('features')
    .description('spectral features matching librosa 0.11 (stft, mel, mfcc), mel back to audio (invert) and scipy-compatible resampling');
  spectralCommand(f, 'stft', 'magnitude STFT, as np.abs(librosa.stft(y)) (shape [1 + n_fft/2, frames])');
  spectralCommand(f, 'mel', 'mel spectrogram, as librosa.feature.melspectrogram (shape [n_mels, frames])');
  spectralCommand(f, 'mfcc', 'MFCC, as librosa.feature.mfcc (shape [n_mfcc, frames])');
  f.command('invert <input>')
    .description(
      'mel spectrogram .npy back to audio, as librosa.feature.inverse.mel_to_audio (NNLS onto the filterbank, then Griffin-Lim); ' +
        "reads the settings from INPUT.json as 'features mel' writes it, else librosa's defaults",
    )
    .requiredOption('-o, --output <file>', 'output WAV (mono)')
    .option('--sr <rate>', "sample rate of the features (without a sidecar: librosa's 22050)", integerOption({ min: 1 }))
    .option('--n-fft <n>', 'FFT length the features used (without a sidecar: 2048; hop becomes n_fft // 4)', integerOption({ min: 1 }))
    .option('--hop-length <n>', 'hop the features used', integerOption({ min: 1 }))
    .option('--power <p>', 'exponent the mel spectrogram used (librosa: 2)', numberOption({ above: 0 }))
    .option('--db', 'the values are power_to_db output (converted back with db_to_power)')
    .option('--ref <r>', "with --db, the reference power (default: the sidecar's, else 1)", numberOption({ above: 0 }))
    .option('--n-iter <n>', 'Griffin-Lim iterations (librosa: 32)', integerOption({ min: 0 }), 32)
    .option('--momentum <m>', 'fast Griffin-Lim momentum (librosa: 0.99)', numberOption({ min: 0 }), 0.99)
    .addOption(
      new Option('--init <how>', "initial phase: random (librosa's default; seeded) or zero (librosa's init=None)")
        .choices(['random', 'zero'])
        .default('random'),
    )
    .option('--seed <n>', "seed of the random phases (numpy RandomState, as librosa's random_state)", integerOption({ min: 0 }), 0)
    .option('--nnls-iter <n>', 'projected-gradient iterations of the non-negative fit per frame', integerOption({ min: 0 }), 100)
    .option('--length <n>', "output length in samples (default: the sidecar's, the analysed audio's length)", integerOption({ min: 1 }))
    .addOption(new Option('--bits <b>', 'output encoding').choices(WAV_BITS).default('float'))
    .action(action(async (input: string, opts: InvertCliOptions, cmd: Command) => runInvert(input, opts, cmd)));
  f.command('resample <input>')
    .description("resample to another rate (scipy.signal.resample_poly's filter by default), streaming, to WAV")
    .requiredOption('--sr <rate>', 'output sample rate', integerOption({ min: 1 }))
    .requiredOption('-o, --output <file>', 'output WAV')
    .addOption(qualityOption("filter quality (default: scipy resample_poly's)"))
    .addOption(new Option('--bits <b>', 'output encoding (default: 16 for <= 16-bit input, 24 up to 24-bit, else float)').choices(WAV_BITS))
    .action(action(async (input: string, opts: ResampleCliOptions, cmd: Command) => runResample(input, opts, cmd)));
}
