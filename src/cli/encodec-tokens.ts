/**
 * EnCodec as the codec of `dataset build --fields 'codec_tokens(model=MODEL,bandwidth=B)'`: src/dataset's
 * CodecTokenEncoder made from src/codec, which neither knows the other. The model is found as
 * `wavelm codec encode -m` finds it (a folder, or a Hugging Face hub id through the HF cache), and audio is
 * encoded by the same calls (AudioProcessor's, or with worker threads prepareAudio and ParallelEncodec, as
 * codec encode does for one long file), so a sample's tokens equal that command's codes for the same audio,
 * resampling and channel mixing included.
 */
import { join } from 'node:path';
import type { AudioData } from '../audio/types.js';
import type { EncodecConfig } from '../codec/index.js';
import type { CodecTokenEncoder, CodecTokenRequest } from '../dataset/index.js';
import { ConfigError } from '../util/errors.js';
import type { ProgressSink } from '../util/progress.js';

/** `wavelm codec encode`'s default bandwidth, in kbps. */
export const DEFAULT_BANDWIDTH = 6;

export interface EncodecTokenOptions {
  /** Download progress of a hub model, in bytes. */
  progress?: ProgressSink;
  backend?: 'wasm' | 'js';
}

export async function encodecTokenEncoder(request: CodecTokenRequest, opts: EncodecTokenOptions = {}): Promise<CodecTokenEncoder> {
  const [codec, { ENCODEC_FILES, resolveModelPath }] = await Promise.all([import('../codec/index.js'), import('../util/hub.js')]);
  const dir = await resolveModelPath(request.model, { files: ENCODEC_FILES, progress: opts.progress });
  const config = codec.readEncodecConfig(join(dir, 'config.json'));
  const bandwidth = request.bandwidth ?? DEFAULT_BANDWIDTH;
  if (!config.targetBandwidths.includes(bandwidth)) {
    throw new ConfigError(
      `field '${request.field}': bandwidth=${bandwidth} is not one of the target bandwidths of ${request.model} ` +
        `(${config.targetBandwidths.join(', ')} kbps); give one of those`,
      { subject: String(bandwidth) },
    );
  }
  const identity = {
    // The weights' hash, not the name: another revision with other weights is another encoder, and a
    // folder and the hub id of the same weights share their cache entries. The codes format version changes
    // when codes for the same audio and model could.
    id: `encodec:v${codec.CODES_FORMAT_VERSION}:${codec.modelFingerprint(dir)}:${bandwidth}kbps`,
    codec: request.model,
    numCodebooks: codec.codebooksForBandwidth(config, bandwidth),
    vocabSize: config.codebookSize,
    frameRate: codec.frameRate(config),
    bandwidth,
  };
  const model =
    request.workers > 0
      ? await pooled(codec, dir, config, bandwidth, request.workers, opts.backend)
      : inThread(codec, dir, bandwidth, opts.backend);
  return { ...identity, ...model };
}

type Codec = typeof import('../codec/index.js');
/** The part of an encoder that holds the model. */
type Encode = Pick<CodecTokenEncoder, 'encode' | 'close'>;

function inThread(codec: Codec, dir: string, bandwidth: number, backend: EncodecTokenOptions['backend']): Encode {
  const proc = codec.AudioProcessor.load(dir, { backend });
  return {
    async encode(audio: AudioData) {
      const f = proc.audioToFeatures(audio, { bandwidth });
      return { shape: f.sidecar.shape, data: f.codes };
    },
  };
}

/** One model per worker thread; the build asks for several samples at once, and their segments share the workers. */
async function pooled(
  codec: Codec,
  dir: string,
  config: EncodecConfig,
  bandwidth: number,
  workers: number,
  backend: EncodecTokenOptions['backend'],
): Promise<Encode> {
  const par = await codec.ParallelEncodec.create({ modelDir: dir, backend }, workers);
  return {
    async encode(audio: AudioData) {
      const planar = codec.toPlanarAudio(audio);
      const enc = await par.encode(codec.prepareAudio(config, planar), bandwidth);
      const f = codec.featuresFromEncoded(config, enc, codec.sourceInfo(planar, undefined, {}));
      return { shape: f.sidecar.shape, data: f.codes };
    },
    close: () => par.close(),
  };
}
