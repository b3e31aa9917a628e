/** `wavelm features stft|mel|mfcc|invert|resample`: librosa-style features to .npy (and PNG), mel back to audio, and resampling to WAV. */
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { Option, type Command } from 'commander';
import type { AudioData } from '../audio/index.js';
import type { FeatureMatrix, MelSettings, MelSpectrogramOptions, PadMode, ResampleQuality, WindowName } from '../features/index.js';
import { ConfigError } from '../util/errors.js';
import type { Colormap } from '../util/png.js';
import { action, barFor, checkWritable, emit } from './common.js';
import { integerOption, numberOption } from './options.js';

interface SpectralCliOptions {
  output?: string;
  sr?: number;
  channel?: number;
  nFft?: number;
  hopLength?: number;
  winLength?: number;
  window: string;
  center: boolean;
  padMode: string;
  power?: number;
  nMels?: number;
  fmin?: number;
  fmax?: number;
  htk?: boolean;
  norm?: string;
  nMfcc?: number;
  lifter?: number;
  db?: boolean;
  topDb?: string;
  ref?: string;
  png?: string;
  colormap: string;
  quality: string;
}

type Kind = 'stft' | 'mel' | 'mfcc';

/** Loads a file as mono float32 (librosa's mono=True averages channels) or one picked channel, resampled if asked. */
async function loadMono(path: string, o: Pick<SpectralCliOptions, 'sr' | 'channel' | 'quality'>): Promise<{ y: Float32Array; sr: number; native: number; channels: number }> {
  const { loadAudio, toFloat32Channels } = await import('../audio/index.js');
  const audio = await loadAudio(path);
  const chans = toFloat32Channels(audio);
  let y: Float32Array;
  if (o.channel !== undefined) {
    if (o.channel < 0 || o.channel >= chans.length) throw new ConfigError(`--channel ${o.channel}: ${path} has ${chans.length} channel(s), numbered from 0`, { subject: '--channel' });
    y = chans[o.channel]!;
  } else if (chans.length === 1) y = chans[0]!;
  else {
    y = new Float32Array(audio.frames);
    for (let i = 0; i < audio.frames; i++) {
      let s = 0;
      for (const c of chans) s += c[i]!;
      y[i] = s / chans.length;
    }
  }
  let sr = audio.sampleRate;
  if (o.sr !== undefined && o.sr !== sr) {
    const { resample } = await import('../features/index.js');
    y = resample(y, sr, o.sr, { quality: o.quality as ResampleQuality });
    sr = o.sr;
  }
  return { y, sr, native: audio.sampleRate, channels: audio.channels };
}

function topDbOf(v: string | undefined, librosaDefault: number): number | null {
  if (v === undefined) return librosaDefault;
  if (v === 'none') return null;
  const n = Number(v);
  if (!(n >= 0)) throw new ConfigError(`--top-db must be a non-negative number or 'none', got '${v}'`, { subject: '--top-db' });
  return n;
}

function refOf(v: string | undefined): number | 'max' {
  if (v === undefined) return 1.0;
  if (v === 'max') return 'max';
  const n = Number(v);
  if (!(n > 0)) throw new ConfigError(`--ref must be a positive number or 'max', got '${v}'`, { subject: '--ref' });
  return n;
}

/** Renders a matrix as an image: one column per frame, row 0 (lowest frequency) at the bottom. */
async function writeSpectrogramPng(path: string, m: FeatureMatrix, isDb: boolean, isPower: boolean, colormap: string): Promise<void> {
  const [{ powerToDb }, { colormapTable, encodePng }] = await Promise.all([import('../features/index.js'), import('../util/png.js')]);
  const [rows, cols] = m.shape;
  if (rows === 0 || cols === 0) throw new ConfigError(`--png: nothing to draw (${rows}x${cols})`, { subject: '--png' });
  let v = m.data;
  let lo = Infinity;
  let hi = -Infinity;
  if (isDb) {
    for (const x of v) {
      hi = Math.max(hi, x);
      lo = Math.min(lo, x);
    }
  } else {
    // Linear magnitudes or powers are drawn in dB relative to the peak, 80 dB of range.
    const S = isPower ? m : { data: m.data.map((x) => x * x), shape: m.shape };
    v = powerToDb(S, { ref: 'max', topDb: 80 }).data;
    hi = 0;
    lo = -80;
  }
  const span = hi - lo || 1;
  const table = colormapTable(colormap as Colormap);
  const data = new Uint8Array(rows * cols * 3);
  for (let r = 0; r < rows; r++) {
    const y = rows - 1 - r;
    for (let c = 0; c < cols; c++) {
      const level = Math.max(0, Math.min(255, Math.round(((v[r * cols + c]! - lo) / span) * 255)));
      const o = (y * cols + c) * 3;
      data[o] = table[level * 3]!;
      data[o + 1] = table[level * 3 + 1]!;
      data[o + 2] = table[level * 3 + 2]!;
    }
  }
  writeFileSync(path, encodePng({ width: cols, height: rows, channels: 3, data, filter: 'adaptive', level: 9 }));
}

async function runSpectral(kind: Kind, input: string, o: SpectralCliOptions, cmd: Command): Promise<void> {
  if (!o.output && !o.png) throw new ConfigError('give -o OUT.npy and/or --png FILE', { subject: '-o' });
  if (o.output) checkWritable(o.output, '-o');
  if (o.png) checkWritable(o.png, '--png');
  const { y, sr, native, channels } = await loadMono(input, o);
  const { LIBROSA_DEFAULTS, melSpectrogram, mfccFromDb, powerToDb, spectrogram } = await import('../features/index.js');
  const norm = o.norm === undefined ? 'slaney' : o.norm === 'none' ? null : o.norm;
  if (norm !== null && norm !== 'slaney') throw new ConfigError(`--norm must be slaney or none, got '${o.norm}'`, { subject: '--norm' });
  const base: MelSpectrogramOptions = {
    sr,
    nFft: o.nFft,
    hopLength: o.hopLength,
    winLength: o.winLength,
    window: o.window as WindowName,
    center: o.center,
    padMode: o.padMode as PadMode,
    nMels: o.nMels,
    fmin: o.fmin,
    fmax: o.fmax,
    htk: o.htk,
    norm,
  };
  const topDb = topDbOf(o.topDb, LIBROSA_DEFAULTS.topDb);
  const ref = refOf(o.ref);
  const t0 = performance.now();
  let m: FeatureMatrix;
  let isDb = false;
  let isPower = false;
  let melRef = 1;
  if (kind === 'stft') {
    const power = o.power ?? 1;
    m = spectrogram(y, { ...base, power });
    isPower = power === 2;
    if (o.db) {
      // power 1 is librosa.amplitude_to_db (power_to_db of S^2 with ref^2, amin^2), power 2 is power_to_db.
      const S = power === 2 ? m : { data: m.data.map((x) => x * x), shape: m.shape };
      const r = power === 2 || ref === 'max' ? ref : ref * ref;
      m = powerToDb(S, { ref: r, amin: 1e-10, topDb });
      isDb = true;
    }
  } else {
    const power = o.power ?? LIBROSA_DEFAULTS.power;
    m = melSpectrogram(y, { ...base, power });
    isPower = power === 2;
    if (kind === 'mfcc') {
      m = mfccFromDb(powerToDb(m, { ref, topDb }), { nMfcc: o.nMfcc, lifter: o.lifter });
      isDb = true;
    } else if (o.db) {
      melRef = ref === 'max' ? m.data.reduce((a, b) => Math.max(a, b), 0) : ref;
      m = powerToDb(m, { ref, topDb });
      isDb = true;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  if (o.output && kind === 'mel') {
    // The sidecar lets `features invert` (and AudioProcessor.featuresToAudio) undo it with the same settings.
    const { LIBROSA_DEFAULTS, writeMelFeatures } = await import('../features/index.js');
    const nFft = o.nFft ?? LIBROSA_DEFAULTS.nFft;
    const winLength = o.winLength ?? nFft;
    const settings: MelSettings = {
      sampleRate: sr, nFft, hopLength: o.hopLength ?? Math.max(1, Math.floor(winLength / 4)), winLength, window: o.window as WindowName, center: o.center,
      padMode: o.padMode as PadMode, power: o.power ?? LIBROSA_DEFAULTS.power, nMels: m.shape[0], fmin: o.fmin ?? 0, fmax: o.fmax ?? sr / 2, htk: o.htk ?? false, norm,
      scale: isDb ? 'db' : 'power', ref: melRef, length: y.length,
    };
    writeMelFeatures(o.output, { kind: 'mel', mel: m, settings });
  } else if (o.output) (await import('../util/npy.js')).writeNpy(o.output, m.data, m.shape);
  if (o.png) await writeSpectrogramPng(o.png, m, isDb, isPower, o.colormap);
  const result = {
    input,
    output: o.output ?? null,
    png: o.png ?? null,
    feature: kind,
    shape: m.shape,
    sampleRate: sr,
    nativeSampleRate: native,
    channels,
    mono: o.channel === undefined ? (channels > 1 ? 'mean' : 'single') : `channel ${o.channel}`,
    durationSeconds: y.length / sr,
    computeSeconds: seconds,
  };
  emit(cmd, result, () => `${input}: ${kind} [${m.shape.join(', ')}] at ${sr} Hz${o.output ? ` -> ${o.output}` : ''}${o.png ? ` (image ${o.png})` : ''}`);
}

/** Streams a file through per-channel StreamingResamplers into a WAV written block by block (bounded memory). */
async function runResample(input: string, o: { sr?: number; output?: string; quality: string; bits?: string }, cmd: Command): Promise<void> {
  if (o.sr === undefined) throw new ConfigError('resample needs --sr RATE', { subject: '--sr' });
  if (!o.output) throw new ConfigError('resample needs -o OUT.wav', { subject: '-o' });
  checkWritable(o.output, '-o');
  const [{ encodeWav, openAudio, toFloat32Channels }, { StreamingResampler }] = await Promise.all([import('../audio/index.js'), import('../features/index.js')]);
  const reader = await openAudio(input);
  const bar = barFor(cmd, { unit: 'frames' });
  try {
    const ch = reader.channels;
    const rs = Array.from({ length: ch }, () => new StreamingResampler(reader.sampleRate, o.sr!, { quality: o.quality as ResampleQuality }));
    const total = Math.ceil((reader.frames * rs[0]!.design.up) / rs[0]!.design.down);
    const bits = o.bits ?? (reader.bitsPerSample <= 16 ? '16' : reader.bitsPerSample <= 24 ? '24' : 'float');
    if (!['16', '24', '32', 'float'].includes(bits)) throw new ConfigError(`--bits must be 16, 24, 32 or float, got '${bits}'`, { subject: '--bits' });
    const wavOpts = bits === 'float' ? { float: true } : { bits: Number(bits) as 16 | 24 | 32 };
    const block = (frames: number, samples: Float32Array): AudioData => ({ sampleRate: o.sr!, channels: ch, frames, sampleType: 'float32', bitsPerSample: 32, samples });
    const header = encodeWav(block(0, new Float32Array(0)), wavOpts);
    const bytesPerFrame = ch * (bits === 'float' ? 4 : Number(bits) / 8);
    const dataBytes = total * bytesPerFrame;
    // Patch the sizes of an empty file's header to the known output length (ceil(n * up / down)).
    const dv = new DataView(header.buffer, header.byteOffset, header.byteLength);
    dv.setUint32(4, header.length - 8 + dataBytes + (dataBytes & 1), true);
    dv.setUint32(header.length - 4, dataBytes, true);
    for (let p = 12; p + 8 <= header.length - 8; ) {
      const id = String.fromCharCode(...header.subarray(p, p + 4));
      const size = dv.getUint32(p + 4, true);
      if (id === 'fact') dv.setUint32(p + 8, total, true);
      p += 8 + size + (size & 1);
    }
    const fd = openSync(o.output, 'w');
    let written = 0;
    try {
      writeSync(fd, header);
      const emitBlock = (outs: Float32Array[]): void => {
        const n = outs[0]!.length;
        if (n === 0) return;
        const inter = new Float32Array(n * ch);
        for (let c = 0; c < ch; c++) for (let i = 0; i < n; i++) inter[i * ch + c] = outs[c]![i]!;
        const wav = encodeWav(block(n, inter), wavOpts);
        writeSync(fd, wav.subarray(header.length));
        written += n;
      };
      bar.start(reader.frames, 'resample');
      const W = 1 << 16;
      for (let s = 0; s < reader.frames; s += W) {
        const e = Math.min(reader.frames, s + W);
        const chans = toFloat32Channels(reader.read(s, e));
        emitBlock(chans.map((x, c) => rs[c]!.push(x) as Float32Array));
        bar.tick(e - s);
      }
      emitBlock(rs.map((r) => r.flush() as Float32Array));
      if (dataBytes & 1) writeSync(fd, new Uint8Array(1));
    } finally {
      closeSync(fd);
      bar.stop();
    }
    if (written !== total) throw new ConfigError(`internal: wrote ${written} frames, expected ${total}`);
    const result = { input, output: o.output, fromRate: reader.sampleRate, toRate: o.sr, channels: ch, framesIn: reader.frames, framesOut: total, quality: o.quality, bits };
    emit(cmd, result, () => `${input}: ${reader.sampleRate} Hz -> ${o.sr} Hz (${o.quality}), ${total} frames -> ${o.output}`);
  } finally {
    reader.close();
  }
}

function spectralCommand(parent: Command, kind: Kind, description: string): void {
  const c = parent
    .command(`${kind} <input>`)
    .description(description)
    .option('-o, --output <file>', 'write the matrix as float32 .npy, shape [rows, frames] as librosa returns it')
    .option('--sr <rate>', 'resample to this rate first (default: the file\'s own rate, librosa.load(sr=None))', integerOption({ min: 1 }))
    .option('--channel <n>', 'use this channel (from 0) instead of the mean of all channels', integerOption({ min: 0 }))
    .option('--n-fft <n>', 'FFT length (librosa: 2048)', integerOption({ min: 1 }))
    .option('--hop-length <n>', 'hop in samples (librosa: win_length // 4)', integerOption({ min: 1 }))
    .option('--win-length <n>', 'window length (librosa: n_fft)', integerOption({ min: 1 }))
    .addOption(new Option('--window <name>', 'analysis window').choices(['hann', 'hamming', 'blackman', 'boxcar']).default('hann'))
    .option('--center', 'pad n_fft // 2 on both sides (librosa default)', true)
    .option('--no-center', 'frames start at sample 0')
    .addOption(new Option('--pad-mode <mode>', 'padding for --center (librosa 0.11: constant)').choices(['constant', 'reflect', 'edge', 'symmetric']).default('constant'))
    .option('--power <p>', kind === 'stft' ? 'exponent of the magnitude (1: magnitude, 2: power)' : 'exponent of the magnitude (librosa: 2)', numberOption({ above: 0 }))
    .option('--top-db <dB>', "with dB output, clip this far below the peak, or 'none' (librosa: 80)")
    .option('--ref <r>', "dB reference: a number (librosa: 1.0) or 'max'")
    .option('--png <file>', 'also draw the result as a PNG image (low frequencies at the bottom)')
    .addOption(new Option('--colormap <name>', 'colours of the --png image').choices(['viridis', 'magma', 'gray']).default('magma'))
    .addOption(new Option('--quality <q>', 'resampler quality for --sr').choices(['fast', 'default', 'best']).default('default'));
  if (kind !== 'stft') {
    c.option('--n-mels <n>', 'mel bands (librosa: 128)', integerOption({ min: 1 }))
      .option('--fmin <hz>', 'lowest mel edge (librosa: 0)', numberOption({ min: 0 }))
      .option('--fmax <hz>', 'highest mel edge (librosa: sr / 2)', numberOption({ above: 0 }))
      .option('--htk', 'HTK mel scale instead of Slaney (librosa: false)')
      .option('--norm <norm>', 'slaney (area normalisation, librosa default) or none');
  }
  if (kind === 'mfcc') {
    c.option('--n-mfcc <n>', 'coefficients (librosa: 20)', integerOption({ min: 1 })).option('--lifter <l>', 'cepstral liftering (librosa: 0)', numberOption({ min: 0 }));
  } else {
    c.option('--db', kind === 'stft' ? 'convert to dB (amplitude_to_db for power 1, power_to_db for power 2)' : 'convert to dB (power_to_db)');
  }
  c.action(action(async (input: string, opts: SpectralCliOptions, cmd: Command) => runSpectral(kind, input, opts, cmd)));
}

interface InvertCliOptions {
  output?: string;
  sr?: number;
  nFft?: number;
  hopLength?: number;
  power?: number;
  db?: boolean;
  ref?: string;
  nIter: number;
  momentum: number;
  init: string;
  seed: number;
  nnlsIter: number;
  length?: number;
  bits: string;
}

/** Mel .npy (with the sidecar `features mel` writes, or librosa's defaults) back to a mono WAV by mel_to_audio. */
async function runInvert(input: string, o: InvertCliOptions, cmd: Command): Promise<void> {
  if (!o.output) throw new ConfigError('invert needs -o OUT.wav', { subject: '-o' });
  if (o.init !== 'random' && o.init !== 'zero') throw new ConfigError(`--init must be random or zero, got '${o.init}'`, { subject: '--init' });
  if (!['16', '24', '32', 'float'].includes(o.bits)) throw new ConfigError(`--bits must be 16, 24, 32 or float, got '${o.bits}'`, { subject: '--bits' });
  checkWritable(o.output, '-o');
  const [{ readMelFeatures, defaultMelSettings }, { AudioProcessor }, { encodeWav }] = await Promise.all([import('../features/index.js'), import('../codec/index.js'), import('../audio/index.js')]);
  const f = readMelFeatures(input, (nMels: number) => defaultMelSettings(o.sr, nMels));
  const s = f.settings;
  // Options given on the command line override the sidecar (or stand in for it).
  if (o.sr !== undefined) s.sampleRate = o.sr;
  if (o.nFft !== undefined) {
    s.nFft = o.nFft;
    s.winLength = o.nFft;
    s.hopLength = Math.floor(o.nFft / 4);
  }
  if (o.hopLength !== undefined) s.hopLength = o.hopLength;
  if (o.power !== undefined) s.power = o.power;
  if (o.db) {
    s.scale = 'db';
    s.ref = o.ref === undefined ? s.ref : Number(o.ref);
    if (!(s.ref > 0)) throw new ConfigError(`--ref must be a positive number, got '${o.ref}'`, { subject: '--ref' });
  }
  if (s.fmax > s.sampleRate / 2) s.fmax = s.sampleRate / 2;
  const t0 = performance.now();
  const audio = new AudioProcessor().featuresToAudio(f, { nIter: o.nIter, momentum: o.momentum, init: o.init === 'zero' ? null : 'random', randomState: o.seed, nnlsIter: o.nnlsIter, length: o.length });
  const seconds = (performance.now() - t0) / 1000;
  const y = audio.channels[0]!;
  const wavOpts = o.bits === 'float' ? { float: true } : { bits: Number(o.bits) as 16 | 24 | 32 };
  writeFileSync(o.output, encodeWav({ sampleRate: audio.sampleRate, channels: 1, frames: y.length, sampleType: 'float32', bitsPerSample: 32, samples: y }, wavOpts));
  const result = { input, output: o.output, shape: f.mel.shape, sampleRate: audio.sampleRate, samples: y.length, durationSeconds: y.length / audio.sampleRate, nIter: o.nIter, momentum: o.momentum, init: o.init, seed: o.seed, computeSeconds: seconds };
  emit(cmd, result, () => `${input}: mel [${f.mel.shape.join(', ')}] -> ${o.output} (${(y.length / audio.sampleRate).toFixed(2)} s at ${audio.sampleRate} Hz, ${o.nIter} Griffin-Lim iterations, ${seconds.toFixed(2)} s)`);
}

export function registerFeatures(program: Command): void {
  const f = program.command('features').description('spectral features matching librosa 0.11 (stft, mel, mfcc), mel back to audio (invert) and scipy-compatible resampling');
  spectralCommand(f, 'stft', 'magnitude STFT, as np.abs(librosa.stft(y)) (shape [1 + n_fft/2, frames])');
  spectralCommand(f, 'mel', 'mel spectrogram, as librosa.feature.melspectrogram (shape [n_mels, frames])');
  spectralCommand(f, 'mfcc', 'MFCC, as librosa.feature.mfcc (shape [n_mfcc, frames])');
  f.command('invert <input>')
    .description("mel spectrogram .npy back to audio, as librosa.feature.inverse.mel_to_audio (NNLS onto the filterbank, then Griffin-Lim); reads the settings from INPUT.json as 'features mel' writes it, else librosa's defaults")
    .requiredOption('-o, --output <file>', 'output WAV (mono)')
    .option('--sr <rate>', 'sample rate of the features (without a sidecar: librosa\'s 22050)', integerOption({ min: 1 }))
    .option('--n-fft <n>', 'FFT length the features used (without a sidecar: 2048; hop becomes n_fft // 4)', integerOption({ min: 1 }))
    .option('--hop-length <n>', 'hop the features used', integerOption({ min: 1 }))
    .option('--power <p>', 'exponent the mel spectrogram used (librosa: 2)', numberOption({ above: 0 }))
    .option('--db', 'the values are power_to_db output (converted back with db_to_power)')
    .option('--ref <r>', 'with --db, the reference power (default: the sidecar\'s, else 1)')
    .option('--n-iter <n>', 'Griffin-Lim iterations (librosa: 32)', integerOption({ min: 0 }), 32)
    .option('--momentum <m>', 'fast Griffin-Lim momentum (librosa: 0.99)', numberOption({ min: 0 }), 0.99)
    .option('--init <how>', "initial phase: random (librosa's default; seeded) or zero (librosa's init=None)", 'random')
    .option('--seed <n>', "seed of the random phases (numpy RandomState, as librosa's random_state)", integerOption({ min: 0 }), 0)
    .option('--nnls-iter <n>', 'projected-gradient iterations of the non-negative fit per frame', integerOption({ min: 0 }), 100)
    .option('--length <n>', 'output length in samples (default: the sidecar\'s, the analysed audio\'s length)', integerOption({ min: 1 }))
    .option('--bits <b>', 'output encoding: 16, 24, 32 or float', 'float')
    .action(action(async (input: string, opts: InvertCliOptions, cmd: Command) => runInvert(input, opts, cmd)));
  f.command('resample <input>')
    .description('resample to another rate (scipy.signal.resample_poly\'s filter by default), streaming, to WAV')
    .requiredOption('--sr <rate>', 'output sample rate', integerOption({ min: 1 }))
    .requiredOption('-o, --output <file>', 'output WAV')
    .addOption(new Option('--quality <q>', 'filter quality (default: scipy resample_poly\'s)').choices(['fast', 'default', 'best']).default('default'))
    .addOption(new Option('--bits <b>', 'output encoding (default: 16 for <= 16-bit input, 24 up to 24-bit, else float)').choices(['16', '24', '32', 'float']))
    .action(action(async (input: string, opts: { sr?: number; output?: string; quality: string; bits?: string }, cmd: Command) => runResample(input, opts, cmd)));
}
