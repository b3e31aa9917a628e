/**
 * AudioProcessor, EnCodec tokens as features (docs/codec.md): audio in any supported format, rate and channel count in,
 * codes [codebooks, frames] (optionally grouped into fixed-length windows) plus a sidecar out, and back.
 * Also the codes file format (.npy + .json sidecar) and the content-hash cache.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { toFloat32Channels, type AudioData } from '../audio/index.js';
import { melFeaturesToAudio, resample, type MelFeatures, type MelInversionOptions } from '../features/index.js';
import { ConfigError, FormatError, MismatchError, NotFoundError } from '../util/errors.js';
import { parseNpy, serializeNpy } from '../util/npy.js';
import { codebooksForBandwidth, frameRate, hopLength, segmentation, type EncodecConfig } from './config.js';
import { EncodecModel, type EncodedAudio, type EncodedChunk, type Planar } from './model.js';
import { jsOps, type CodecOps } from './ops.js';
import { planarOf } from './planar.js';
import { wasmOps } from './ops-wasm.js';
import { loadEncodecWeights } from './weights.js';

/** Bumped whenever codes for the same audio and model could change, so old cache entries are ignored. */
export const CODES_FORMAT_VERSION = 1;

export interface CodesSidecar {
  format: 'wavelm-encodec-codes';
  version: number;
  /** The model: rate, channels, frames per second, hop, codebook size, segmentation. */
  model: {
    sampleRate: number;
    channels: number;
    frameRate: number;
    hopLength: number;
    codebookSize: number;
    segmentSeconds: number | null;
    overlap: number | null;
    normalize: boolean;
  };
  bandwidth: number;
  codebooks: number;
  /** Code frames in all (sum over chunks). */
  frames: number;
  /** Samples per channel at the model rate that the codes decode to. */
  length: number;
  /** Per-chunk frame counts (one chunk unless the model segments its input). */
  chunkFrames: number[];
  /** Per-chunk RMS scales (models with normalize), else null. */
  scales: number[] | null;
  /** Where the audio came from (before resampling and channel adaptation). */
  source: { sampleRate: number; channels: number; frames: number; sha256?: string; path?: string; maxSeconds?: number };
  /** Present when frames were grouped into windows: the .npy is [windows, codebooks, framesPerWindow], padded with padValue. */
  group?: { seconds: number; framesPerWindow: number; windows: number; padValue: number };
  /** Shape of the array in the .npy file. */
  shape: number[];
}

export interface CodecFeatures {
  /** Codes in row-major order of `sidecar.shape`: [codebooks, frames] or, grouped, [windows, codebooks, framesPerWindow]. */
  codes: Int32Array;
  sidecar: CodesSidecar;
}

export interface EncodeOptions {
  /** Target bandwidth in kbps (one of the model's target bandwidths). */
  bandwidth: number;
  /** Encode only the first S seconds of the input. */
  maxSeconds?: number;
  /** Group frames into windows of S seconds (docs/codec.md). */
  groupSeconds?: number;
}

export interface ProcessorOptions {
  /** 'wasm' (default; SIMD kernels) or 'js' (the plain TypeScript reference). */
  backend?: 'wasm' | 'js';
}

/** Planar float channels at a known rate: the processor's audio currency. */
export interface PlanarAudio {
  sampleRate: number;
  channels: Float32Array[];
}

/** encodec's convert_audio: mean to mono, duplicate mono to stereo, or keep the first channels. */
export function adaptChannels(chs: Float32Array[], target: number): Float32Array[] {
  if (chs.length === target) return chs;
  if (target === 1) {
    const n = chs[0]!.length;
    const m = new Float32Array(n);
    for (const c of chs) for (let i = 0; i < n; i++) m[i] = m[i]! + c[i]!;
    for (let i = 0; i < n; i++) m[i] = m[i]! / chs.length;
    return [m];
  }
  if (chs.length === 1) return Array.from({ length: target }, () => chs[0]!);
  return chs.slice(0, target);
}

/** Splits [codebooks, frames] into windows of `framesPerWindow`, padding the last with padValue. */
export function groupFrames(
  codes: Int32Array,
  codebooks: number,
  frames: number,
  framesPerWindow: number,
  padValue = -1,
): { data: Int32Array; windows: number } {
  const windows = Math.max(1, Math.ceil(frames / framesPerWindow));
  const out = new Int32Array(windows * codebooks * framesPerWindow).fill(padValue);
  for (let w = 0; w < windows; w++) {
    for (let q = 0; q < codebooks; q++) {
      const start = w * framesPerWindow;
      const end = Math.min(frames, start + framesPerWindow);
      out.set(codes.subarray(q * frames + start, q * frames + end), (w * codebooks + q) * framesPerWindow);
    }
  }
  return { data: out, windows };
}

/** Inverse of groupFrames: back to [codebooks, frames]. */
export function ungroupFrames(data: Int32Array, windows: number, codebooks: number, framesPerWindow: number, frames: number): Int32Array {
  const out = new Int32Array(codebooks * frames);
  for (let w = 0; w < windows; w++) {
    for (let q = 0; q < codebooks; q++) {
      const start = w * framesPerWindow;
      const end = Math.min(frames, start + framesPerWindow);
      if (end > start)
        out.set(
          data.subarray((w * codebooks + q) * framesPerWindow, (w * codebooks + q) * framesPerWindow + (end - start)),
          q * frames + start,
        );
    }
  }
  return out;
}

export class AudioProcessor {
  /** With no model, only mel features can be turned back into audio (`new AudioProcessor().featuresToAudio(mel)`). */
  constructor(private readonly encodec?: EncodecModel) {}

  get model(): EncodecModel {
    if (!this.encodec)
      throw new ConfigError(
        'this AudioProcessor has no EnCodec model: create it with AudioProcessor.load(MODEL_DIR) to encode or decode codes',
      );
    return this.encodec;
  }

  /** Loads an HF-format model folder (config.json + model.safetensors). */
  static load(modelDir: string, opts: ProcessorOptions = {}): AudioProcessor {
    const ops: CodecOps = opts.backend === 'js' ? jsOps : wasmOps();
    return new AudioProcessor(new EncodecModel(loadEncodecWeights(modelDir), ops));
  }

  get sampleRate(): number {
    return this.model.sampleRate;
  }

  /** Model-rate, model-channel planar audio from any planar audio (resampled with the features resampler). */
  prepare(audio: PlanarAudio, maxSeconds?: number): Planar {
    return prepareAudio(this.model.config, audio, maxSeconds);
  }

  /** Audio to EnCodec codes (grouped when groupSeconds is set) and their sidecar. */
  audioToFeatures(audio: PlanarAudio | AudioData, opts: EncodeOptions, source: Partial<CodesSidecar['source']> = {}): CodecFeatures {
    const planar = toPlanarAudio(audio);
    const x = this.prepare(planar, opts.maxSeconds);
    const enc = this.model.encode(x, opts.bandwidth);
    return featuresFromEncoded(this.model.config, enc, sourceInfo(planar, opts.maxSeconds, source), opts.groupSeconds);
  }

  /**
   * Features back to audio: codes (grouped or not) back to planar audio at the model rate, trimmed to the
   * encoded length; or mel features back to mono audio at their rate by librosa's mel_to_audio (NNLS, then
   * Griffin-Lim), which needs no model.
   */
  featuresToAudio(f: CodecFeatures | MelFeatures, melOpts: MelInversionOptions = {}): PlanarAudio {
    if ('kind' in f && f.kind === 'mel') return { sampleRate: f.settings.sampleRate, channels: [melFeaturesToAudio(f, melOpts)] };
    return this.codesToAudio(f as CodecFeatures);
  }

  private codesToAudio(f: CodecFeatures): PlanarAudio {
    const c = this.model.config;
    const y = this.model.decode({ chunks: chunksOf(f, c), length: f.sidecar.length });
    const channels = Array.from({ length: y.channels }, (_, ch) => y.data.slice(ch * y.length, (ch + 1) * y.length));
    return { sampleRate: c.samplingRate, channels };
  }
}

/** The encoded chunks that codes features hold, after checking that model `c` made them. */
export function chunksOf(f: CodecFeatures, c: EncodecConfig): EncodedChunk[] {
  const s = f.sidecar;
  if (s.model.sampleRate !== c.samplingRate || s.model.channels !== c.audioChannels || s.model.codebookSize !== c.codebookSize) {
    throw new MismatchError(
      `codes were made by a ${s.model.sampleRate} Hz, ${s.model.channels}-channel model with ${s.model.codebookSize}-entry codebooks; ` +
        `this model is ${c.samplingRate} Hz, ${c.audioChannels}-channel, ${c.codebookSize}: decode with the model that encoded them`,
    );
  }
  const flat = ungroupFeatures(f);
  const chunks: EncodedChunk[] = [];
  let off = 0;
  for (let k = 0; k < s.chunkFrames.length; k++) {
    const n = s.chunkFrames[k]!;
    const codes = new Int32Array(s.codebooks * n);
    for (let q = 0; q < s.codebooks; q++) codes.set(flat.subarray(q * s.frames + off, q * s.frames + off + n), q * n);
    chunks.push({ codes, codebooks: s.codebooks, frames: n, scale: s.scales ? s.scales[k]! : null });
    off += n;
  }
  return chunks;
}

/** AudioData (any sample type) or planar float audio as planar float audio. */
export function toPlanarAudio(audio: PlanarAudio | AudioData): PlanarAudio {
  return 'samples' in audio ? { sampleRate: audio.sampleRate, channels: toFloat32Channels(audio) } : audio;
}

/** Model-rate, model-channel planar audio for config `c`: first maxSeconds, channels adapted, resampled. */
export function prepareAudio(c: EncodecConfig, audio: PlanarAudio, maxSeconds?: number): Planar {
  if (audio.channels.length === 0) throw new ConfigError('encodec: audio has no channels');
  let chs = audio.channels;
  if (maxSeconds !== undefined) {
    if (!(maxSeconds > 0)) throw new ConfigError(`maxSeconds must be positive, got ${maxSeconds}`, { options: ['maxSeconds'] });
    const n = Math.min(chs[0]!.length, Math.round(maxSeconds * audio.sampleRate));
    chs = chs.map((ch) => ch.subarray(0, n));
  }
  chs = adaptChannels(chs, c.audioChannels);
  if (audio.sampleRate !== c.samplingRate) chs = chs.map((ch) => resample(ch, audio.sampleRate, c.samplingRate));
  const x = planarOf(chs);
  if (x.length === 0) throw new ConfigError('encodec: the input is empty (0 samples)');
  return x;
}

/** The sidecar's source record. */
export function sourceInfo(
  planar: PlanarAudio,
  maxSeconds: number | undefined,
  extra: Partial<CodesSidecar['source']>,
): CodesSidecar['source'] {
  return sourceRecord(
    { sampleRate: planar.sampleRate, channels: planar.channels.length, frames: planar.channels[0]!.length },
    maxSeconds,
    extra,
  );
}

/** The sidecar's source record from the file's rate, channels and frames. */
export function sourceRecord(
  audio: { sampleRate: number; channels: number; frames: number },
  maxSeconds: number | undefined,
  extra: Partial<CodesSidecar['source']>,
): CodesSidecar['source'] {
  const src: CodesSidecar['source'] = { sampleRate: audio.sampleRate, channels: audio.channels, frames: audio.frames, ...extra };
  if (maxSeconds !== undefined) src.maxSeconds = maxSeconds;
  return src;
}

/** Codes [codebooks, frames] (segments concatenated along time) and their sidecar, from an encoding by a model with config `c`. */
export function featuresFromEncoded(
  c: EncodecConfig,
  enc: EncodedAudio,
  source: CodesSidecar['source'],
  groupSeconds?: number,
): CodecFeatures {
  const nq = codebooksForBandwidth(c, enc.bandwidth);
  const frames = enc.chunks.reduce((a, ch) => a + ch.frames, 0);
  const codes = new Int32Array(nq * frames);
  let off = 0;
  for (const ch of enc.chunks) {
    for (let q = 0; q < nq; q++) codes.set(ch.codes.subarray(q * ch.frames, (q + 1) * ch.frames), q * frames + off);
    off += ch.frames;
  }
  const seg = segmentation(c);
  const sidecar: CodesSidecar = {
    format: 'wavelm-encodec-codes',
    version: CODES_FORMAT_VERSION,
    model: {
      sampleRate: c.samplingRate,
      channels: c.audioChannels,
      frameRate: frameRate(c),
      hopLength: hopLength(c),
      codebookSize: c.codebookSize,
      segmentSeconds: seg ? c.chunkLengthS : null,
      overlap: seg ? c.overlap : null,
      normalize: c.normalize,
    },
    bandwidth: enc.bandwidth,
    codebooks: nq,
    frames,
    length: enc.length,
    chunkFrames: enc.chunks.map((ch) => ch.frames),
    scales: c.normalize ? enc.chunks.map((ch) => ch.scale!) : null,
    source,
    shape: [nq, frames],
  };
  const f: CodecFeatures = { codes, sidecar };
  return groupSeconds === undefined ? f : groupFeatures(f, groupSeconds);
}

/** Groups ungrouped features into windows of `seconds`. */
export function groupFeatures(f: CodecFeatures, seconds: number): CodecFeatures {
  const s = f.sidecar;
  if (s.group) throw new ConfigError('codes are already grouped');
  const fpw = Math.round(seconds * s.model.frameRate);
  if (!(seconds > 0) || fpw < 1)
    throw new ConfigError(`groupSeconds must give at least one frame per window (frame rate ${s.model.frameRate}/s), got ${seconds}`, {
      options: ['groupSeconds'],
    });
  const g = groupFrames(f.codes, s.codebooks, s.frames, fpw);
  return {
    codes: g.data,
    sidecar: { ...s, group: { seconds, framesPerWindow: fpw, windows: g.windows, padValue: -1 }, shape: [g.windows, s.codebooks, fpw] },
  };
}

/** Codes as [codebooks, frames] whatever their grouping. */
export function ungroupFeatures(f: CodecFeatures): Int32Array {
  const s = f.sidecar;
  if (!s.group) return f.codes;
  return ungroupFrames(f.codes, s.group.windows, s.codebooks, s.group.framesPerWindow, s.frames);
}

/** The sidecar path for a codes .npy path (x.npy -> x.json). */
export function sidecarPath(npyPath: string): string {
  return `${npyPath.replace(/\.npy$/i, '')}.json`;
}

/** Writes codes.npy (int32) and its JSON sidecar. */
export function writeCodes(npyPath: string, f: CodecFeatures): void {
  mkdirSync(dirname(resolve(npyPath)), { recursive: true });
  writeFileSync(npyPath, serializeNpy(f.codes, f.sidecar.shape));
  writeFileSync(sidecarPath(npyPath), `${JSON.stringify(f.sidecar, null, 1)}\n`);
}

/** Reads codes.npy and its sidecar, checking that they agree. */
export function readCodes(npyPath: string): CodecFeatures {
  if (!existsSync(npyPath)) throw new NotFoundError(`${npyPath}: no such codes file`, { subject: npyPath });
  const side = sidecarPath(npyPath);
  if (!existsSync(side))
    throw new NotFoundError(
      `${side}: the codes sidecar is missing (it holds the bandwidth, chunking and scales needed to decode ${npyPath})`,
      { subject: side },
    );
  let s: CodesSidecar;
  try {
    s = JSON.parse(readFileSync(side, 'utf8')) as CodesSidecar;
  } catch (e) {
    throw new FormatError(`${side}: not valid JSON`, { subject: side, cause: e });
  }
  if (s.format !== 'wavelm-encodec-codes' || !Array.isArray(s.shape) || !Array.isArray(s.chunkFrames))
    throw new FormatError(`${side}: not a wavelm EnCodec codes sidecar`, { subject: side });
  // A plain Uint8Array copy: parseNpy's .slice() would be a view (not a copy) on a Node Buffer.
  const a = parseNpy(new Uint8Array(readFileSync(npyPath)), npyPath);
  if (a.shape.length !== s.shape.length || a.shape.some((d, i) => d !== s.shape[i])) {
    throw new MismatchError(`${npyPath}: array shape [${a.shape.join(', ')}] differs from the sidecar's [${s.shape.join(', ')}]`, {
      subject: npyPath,
    });
  }
  if (s.chunkFrames.reduce((x, y) => x + y, 0) !== s.frames)
    throw new FormatError(`${side}: chunk frame counts do not add up to ${s.frames}`, { subject: side });
  const codes = a.data instanceof Int32Array ? a.data : Int32Array.from(a.data as ArrayLike<number>);
  return { codes, sidecar: s };
}

/** The default cache folder: $WAVELM_CACHE_DIR, else $XDG_CACHE_HOME/wavelm, else ~/.cache/wavelm. */
export function defaultCacheDir(): string {
  if (process.env.WAVELM_CACHE_DIR) return process.env.WAVELM_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return join(base, 'wavelm');
}

const modelHashes = new Map<string, string>();

/** A hash identifying a model folder's config and weights (cached per path, size and mtime within the process). */
export function modelFingerprint(modelDir: string): string {
  const files = ['config.json', 'model.safetensors'].map((f) => join(modelDir, f));
  const key = files
    .map((p) => {
      const st = statSync(p);
      return `${resolve(p)}:${st.size}:${st.mtimeMs}`;
    })
    .join('|');
  let h = modelHashes.get(key);
  if (!h) {
    const hash = createHash('sha256');
    for (const p of files) hash.update(readFileSync(p));
    h = hash.digest('hex');
    modelHashes.set(key, h);
  }
  return h;
}

/** SHA-256 of a file, read 1 MiB at a time (inputs can be hours of audio). */
export function sha256File(path: string): string {
  const hash = createHash('sha256');
  const buf = new Uint8Array(1 << 20);
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** The content-hash cache of ungrouped codes: key = audio bytes, model, bandwidth, max seconds, format version. */
export class CodesCache {
  constructor(readonly dir: string) {}
  key(audioSha: string, modelSha: string, bandwidth: number, maxSeconds?: number): string {
    return createHash('sha256')
      .update(JSON.stringify([CODES_FORMAT_VERSION, audioSha, modelSha, bandwidth, maxSeconds ?? null]))
      .digest('hex');
  }
  private path(key: string): string {
    return join(this.dir, 'codec', key.slice(0, 2), `${key}.npy`);
  }
  get(key: string): CodecFeatures | undefined {
    const p = this.path(key);
    if (!existsSync(p)) return undefined;
    try {
      return readCodes(p);
    } catch {
      return undefined; // a damaged entry is recomputed
    }
  }
  put(key: string, f: CodecFeatures): void {
    const p = this.path(key);
    const tmp = `${p}.${process.pid}.tmp.npy`;
    writeCodes(tmp, f);
    // sidecar first, then the array: a reader that finds the .npy also finds its sidecar
    renameSync(sidecarPath(tmp), sidecarPath(p));
    renameSync(tmp, p);
  }
}
