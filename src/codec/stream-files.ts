/**
 * Files through the EnCodec streams: an audio file of any length is read window by window (WAV by frame
 * ranges, FLAC/Vorbis/Opus/MP3 piece by piece), converted to the model's channels and rate as it goes, and
 * encoded; codes are decoded block by block into a WAV written as it goes. Memory holds a window and the
 * codes (4 bytes per codebook per frame: about 35 MB for an hour at 24 kbps), not the signal.
 */
import {
  decodeStream as decodeAudioStream,
  loadAudio,
  openSource,
  parseWavLayout,
  readWavFrames,
  sliceFrames,
  sniffFile,
  toFloat32Channels,
  wavWindows,
  type AudioData,
  WavWriter,
} from '../audio/index.js';
import { StreamingResampler } from '../features/index.js';
import { ConfigError } from '../util/errors.js';
import type { EncodecConfig } from './config.js';
import type { EncodecModel } from './model.js';
import { interleavedOf, planarOf, type Planar } from './planar.js';
import {
  adaptChannels,
  chunksOf,
  featuresFromEncoded,
  sourceRecord,
  type AudioProcessor,
  type CodecFeatures,
  type EncodeOptions,
} from './processor.js';
import { codePieces, CodesCollector, streamingDecoder, streamingEncoder } from './stream.js';

/** Frames per read window (about 1.4 s at 48 kHz). */
const WINDOW_FRAMES = 1 << 16;

/**
 * Consecutive windows of a file's audio. WAV windows view a reused buffer: each is valid until the next is
 * asked for. Formats without a piecewise reader here (AIFF, SPHERE) are loaded whole and cut.
 */
export async function* audioWindows(path: string, windowFrames = WINDOW_FRAMES): AsyncGenerator<AudioData> {
  const src = openSource(path, 1 << 20);
  try {
    const format = sniffFile(src);
    if (format === 'wav') {
      const layout = parseWavLayout(src);
      // A truncated file is refused with loadAudio's error.
      if (layout.truncated) readWavFrames(src, layout, { startFrame: 0, endFrame: 0 });
      yield* wavWindows(src, layout, windowFrames);
      return;
    }
    if (format === 'flac' || format === 'ogg-vorbis' || format === 'ogg-opus' || format === 'mp3') {
      yield* decodeAudioStream(src, format, 256 << 10);
      return;
    }
  } finally {
    src.close();
  }
  const audio = await loadAudio(path);
  for (let s = 0; s < audio.frames; s += windowFrames) yield sliceFrames(audio, s, Math.min(audio.frames, s + windowFrames));
}

export interface StreamEncodeOptions extends EncodeOptions {
  /** Frames per read window of the input file. */
  windowFrames?: number;
}

/** The shape of the file a stream of model-rate blocks came from, known once the stream has ended. */
export interface SourceShape {
  sampleRate: number;
  channels: number;
  frames: number;
}

/**
 * A file's audio at the model's rate and channel count, block by block: the first maxSeconds, channels adapted,
 * resampled as a stream, so the blocks join to prepareAudio of the loaded file. Fills `shape` as it reads.
 */
export async function* modelRateBlocks(
  config: EncodecConfig,
  path: string,
  opts: { maxSeconds?: number; windowFrames?: number },
  shape: SourceShape,
): AsyncGenerator<Planar> {
  if (opts.maxSeconds !== undefined && !(opts.maxSeconds > 0))
    throw new ConfigError(`maxSeconds must be positive, got ${opts.maxSeconds}`, { subject: String(opts.maxSeconds) });
  let resamplers: StreamingResampler[] | undefined;
  let limit = Infinity;
  for await (const w of audioWindows(path, opts.windowFrames)) {
    if (shape.frames === 0) {
      shape.sampleRate = w.sampleRate;
      shape.channels = w.channels;
      if (opts.maxSeconds !== undefined) limit = Math.round(opts.maxSeconds * w.sampleRate);
      if (w.sampleRate !== config.samplingRate)
        resamplers = Array.from({ length: config.audioChannels }, () => new StreamingResampler(w.sampleRate, config.samplingRate));
    }
    const take = Math.max(0, Math.min(w.frames, limit - shape.frames));
    shape.frames += w.frames;
    if (take === 0) continue;
    const chs = adaptChannels(toFloat32Channels(take < w.frames ? sliceFrames(w, 0, take) : w), config.audioChannels);
    yield planarOf(resamplers ? chs.map((ch, i) => resamplers![i]!.push(ch) as Float32Array) : chs);
  }
  if (shape.frames === 0) throw new ConfigError(`${path}: the file holds no audio frames`, { subject: path });
  if (resamplers) yield planarOf(resamplers.map((r) => r.flush() as Float32Array));
}

/**
 * Encodes a file as a stream: codes and sidecar equal audioToFeatures on the loaded file, in memory bounded
 * by a window. `sha256` goes into the sidecar's source record.
 */
export async function encodeFileStreaming(
  model: EncodecModel,
  path: string,
  opts: StreamEncodeOptions,
  sha256?: string,
): Promise<CodecFeatures> {
  const encoder = streamingEncoder(model, opts.bandwidth);
  const codes = new CodesCollector();
  const shape: SourceShape = { sampleRate: 0, channels: 0, frames: 0 };
  for await (const block of modelRateBlocks(model.config, path, opts, shape)) codes.add(encoder.push(block));
  if (encoder.length === 0) throw new ConfigError('encodec: the input is empty (0 samples)');
  codes.add(encoder.end());
  const source = sourceRecord(shape, opts.maxSeconds, { path, ...(sha256 ? { sha256 } : {}) });
  return featuresFromEncoded(model.config, codes.result(encoder.length, opts.bandwidth), source, opts.groupSeconds);
}

/** Loads a file and encodes it as a stream (used by the CLI in the main thread and in workers). */
export function encodeFile(proc: AudioProcessor, path: string, opts: EncodeOptions, audioSha?: string): Promise<CodecFeatures> {
  return encodeFileStreaming(proc.model, path, opts, audioSha);
}

export interface WavDecodeOptions {
  /** 32-bit float samples instead of 16-bit PCM. */
  float?: boolean;
  /** Code frames per decoded block of a causal model (default 75: one second at 24 kHz). */
  framesPerBlock?: number;
}

/**
 * Decodes codes into a WAV file block by block: the same bytes as encodeWav(featuresToAudio(f)), with memory
 * bounded by a block. Returns the audio's shape.
 */
export function decodeToWavFile(
  model: EncodecModel,
  f: CodecFeatures,
  outPath: string,
  opts: WavDecodeOptions = {},
): { sampleRate: number; channels: number; frames: number } {
  const chunks = chunksOf(f, model.config);
  const length = f.sidecar.length;
  const decoder = streamingDecoder(model, length);
  const out = WavWriter.open(outPath, {
    sampleRate: model.sampleRate,
    channels: model.channels,
    float: opts.float === true,
    expectedFrames: length,
  });
  try {
    for (const piece of codePieces(model, chunks, opts.framesPerBlock ?? 75)) out.write(interleavedOf(decoder.push(piece)));
    out.write(interleavedOf(decoder.end()));
    out.close();
  } catch (err) {
    out.abort();
    throw err;
  }
  return { sampleRate: model.sampleRate, channels: model.channels, frames: length };
}
