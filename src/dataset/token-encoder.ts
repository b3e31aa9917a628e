/**
 * Codec tokens encoded during a build. A field spec `codec_tokens(model=MODEL,bandwidth=B)` asks the build
 * options' `codecTokenEncoder` for a CodecTokenEncoder (the wavelm CLI makes one from src/codec's EnCodec;
 * src/dataset knows no codec), and every sample's audio is encoded by it through the content-hash
 * TokenCache. The encoder is a loaded model that cannot be sent to the build's worker threads, so it is
 * called from the build's own thread, for a window of samples at once: an encoder with threads of its own
 * (the request says how many it may use) encodes them in parallel, while the build's workers encode the
 * other fields.
 */
import type { AudioData } from '../audio/types.js';
import { ConfigError, WavelmError } from '../util/errors.js';
import type { ItemOutcome, PlanItem } from './build.js';
import type { TokenArray } from './fields/codec-tokens.js';
import { argNumber, type Encoded, type Field } from './fields/field.js';
import type { FieldSpec } from './fields/index.js';
import type { TokenCache } from './token-cache.js';

export interface CodecTokenEncoder {
  /**
   * Everything besides the audio that the tokens depend on (model weights, bandwidth, codec version):
   * part of every cache key, so changing any of it encodes again. Also recorded in the schema.
   */
  readonly id: string;
  /** The codec's name as the schema records it (the model's hub id or folder). */
  readonly codec: string;
  readonly numCodebooks: number;
  readonly vocabSize: number;
  /** Token frames per second of audio. */
  readonly frameRate: number;
  /** The bandwidth in kbps, for codecs that have one. */
  readonly bandwidth?: number;
  /** Tokens [numCodebooks, frames] of audio at any rate and channel count (the encoder adapts both); called for several samples at once. */
  encode(audio: AudioData): Promise<TokenArray>;
  /** Frees the encoder's threads and memory; the build calls it when it ends. */
  close?(): Promise<void>;
}

/** What a field spec asks of the encoder factory. */
export interface CodecTokenRequest {
  /** The field's name, for error messages. */
  field: string;
  /** The spec's model=: a model folder or a hub id, as the factory resolves them. */
  model: string;
  /** The spec's bandwidth= in kbps, when given (the factory chooses otherwise). */
  bandwidth?: number;
  /** Worker threads the encoder may use (the build's workers option); 0: the calling thread only. */
  workers: number;
}

export type CodecTokenEncoderFactory = (request: CodecTokenRequest) => Promise<CodecTokenEncoder>;

/** Arguments that must agree with the encoder when a spec gives them too. */
const DERIVED: [arg: string, of: (e: CodecTokenEncoder) => number][] = [
  ['n_codebooks', (e) => e.numCodebooks],
  ['vocab_size', (e) => e.vocabSize],
  ['frame_rate', (e) => e.frameRate],
];

/** The spec of a field whose tokens `enc` makes: the codec's name, sizes, bandwidth and identity in its args. */
function encodedSpec(spec: FieldSpec, enc: CodecTokenEncoder): FieldSpec {
  for (const [arg, of] of DERIVED) {
    const given = argNumber(spec.args, arg, undefined, spec.name);
    if (given !== undefined && given !== of(enc)) {
      throw new ConfigError(
        `field '${spec.name}': ${arg}=${given} disagrees with the model ${enc.codec}, which gives ${of(enc)}; leave ${arg} out ` +
          'when model= is given',
        { subject: spec.name },
      );
    }
  }
  const args: Record<string, unknown> = {
    ...spec.args,
    codec: enc.codec,
    n_codebooks: enc.numCodebooks,
    vocab_size: enc.vocabSize,
    frame_rate: enc.frameRate,
    encoder: enc.id,
  };
  if (enc.bandwidth !== undefined) args.bandwidth = enc.bandwidth;
  return { ...spec, args };
}

/** Whether a spec asks for tokens encoded during the build (a codec_tokens field with model=). */
export function encodesTokens(spec: FieldSpec): boolean {
  return spec.type === 'codec_tokens' && spec.args.model !== undefined;
}

/**
 * Makes an encoder for every codec_tokens spec that names a model=, and returns the specs with the
 * encoders' parameters filled in and the encoders by field index.
 */
export async function resolveTokenEncoders(
  specs: FieldSpec[],
  factory: CodecTokenEncoderFactory | undefined,
  workers: number,
): Promise<{ specs: FieldSpec[]; encoders: Map<number, CodecTokenEncoder> }> {
  const encoders = new Map<number, CodecTokenEncoder>();
  try {
    return { specs: await encodedSpecs(specs, factory, workers, encoders), encoders };
  } catch (e) {
    await closeEncoders(encoders);
    throw e;
  }
}

export async function closeEncoders(encoders: Map<number, CodecTokenEncoder>): Promise<void> {
  await Promise.all([...encoders.values()].map((e) => e.close?.()));
}

/** resolveTokenEncoders' work: the specs, with the encoders it makes put in `encoders`. */
async function encodedSpecs(
  specs: FieldSpec[],
  factory: CodecTokenEncoderFactory | undefined,
  workers: number,
  encoders: Map<number, CodecTokenEncoder>,
): Promise<FieldSpec[]> {
  const out: FieldSpec[] = [];
  for (const [i, spec] of specs.entries()) {
    if (!encodesTokens(spec)) {
      out.push(spec);
      continue;
    }
    const model = spec.args.model;
    if (typeof model !== 'string' || model === '')
      throw new ConfigError(`field '${spec.name}': model= must name a model folder or hub id`, { subject: spec.name });
    if (spec.args.from !== undefined)
      throw new ConfigError(`field '${spec.name}': give model= (encode each sample's audio) or from= (read token arrays), not both`, {
        subject: spec.name,
      });
    if (!factory) {
      throw new ConfigError(
        `field '${spec.name}': model=${model} encodes tokens during the build, which needs an encoder: pass codecTokenEncoder in ` +
          'the build options (the wavelm CLI passes EnCodec)',
        { subject: spec.name },
      );
    }
    const bandwidth = argNumber(spec.args, 'bandwidth', undefined, spec.name);
    const enc = await factory({ field: spec.name, model, workers, ...(bandwidth !== undefined ? { bandwidth } : {}) });
    encoders.set(i, enc);
    out.push(encodedSpec(spec, enc));
  }
  return out;
}

/** Loads a plan item's audio (its frame range of its file) as the build reads sources. */
export type ItemAudioLoader = (item: PlanItem, onWarning: (message: string) => void) => Promise<AudioData>;

interface TokenJob {
  field: Field;
  encoder: CodecTokenEncoder;
}

/** Encodes one plan item's encoder-made token fields: from the cache when it has them, else by the encoders. */
export class TokenStep {
  private readonly jobs: TokenJob[];
  private cacheFailure: string | undefined;
  /** Samples' token fields encoded so far, and those the cache gave. */
  readonly counts = { encoded: 0, cached: 0 };

  constructor(
    fields: Field[],
    encoders: Map<number, CodecTokenEncoder>,
    private readonly cache: TokenCache | undefined,
    private readonly loadItemAudio: ItemAudioLoader,
  ) {
    this.jobs = [...encoders].map(([i, encoder]) => ({ field: fields[i]!, encoder }));
  }

  /** The item's token fields in field order, or the WavelmError that stopped it, as data (as the build's workers return it). */
  async run(item: PlanItem): Promise<ItemOutcome> {
    const warnings: string[] = [];
    // An encoder may compute on this thread; a turn of the event loop first lets the build's workers hand
    // back their results and take new items meanwhile.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      const encoded: Encoded[] = [];
      let audio: AudioData | undefined;
      for (const { field, encoder } of this.jobs) {
        const key = this.cache?.key(item.path, { start: item.start, end: item.end }, encoder.id);
        let tokens = key === undefined ? undefined : this.cache!.get(key, encoder.numCodebooks);
        const hit = tokens !== undefined;
        audio ??= hit ? undefined : await this.loadItemAudio(item, (m) => warnings.push(m));
        tokens ??= await encodeSample(encoder, audio!, field, item);
        this.counts[hit ? 'cached' : 'encoded'] += 1;
        const e = await field.encode({ key: item.key, values: { [field.name]: tokens } });
        if (key !== undefined && !hit) this.store(key, e, encoder.numCodebooks, warnings);
        encoded.push(e);
      }
      return { encoded, warnings };
    } catch (e) {
      if (!(e instanceof WavelmError)) throw e;
      return { error: { code: e.code, message: e.message, subject: e.subject, options: e.options }, warnings };
    }
  }

  /** Stores a field's blob (uint16 [numCodebooks, frames]); a cache that cannot be written is reported once and the build goes on. */
  private store(key: string, e: Encoded, numCodebooks: number, warnings: string[]): void {
    if (this.cacheFailure !== undefined) return;
    const codes = new Uint16Array(e.bytes.buffer, e.bytes.byteOffset, e.bytes.byteLength / 2);
    try {
      this.cache!.put(key, codes, [numCodebooks, e.meta[0]!]);
    } catch (err) {
      this.cacheFailure = (err as Error).message;
      warnings.push(`cannot write the codec token cache in ${this.cache!.dir} (${this.cacheFailure}); tokens are not cached in this build`);
    }
  }
}

/** The encoder's tokens for one sample; its typed errors name the field and the sample. */
async function encodeSample(encoder: CodecTokenEncoder, audio: AudioData, field: Field, item: PlanItem): Promise<TokenArray> {
  try {
    return await encoder.encode(audio);
  } catch (e) {
    if (!(e instanceof WavelmError)) throw e;
    throw new WavelmError(e.code, `field '${field.name}': sample ${item.key}: ${e.message}`, {
      subject: item.key,
      options: e.options,
      cause: e,
    });
  }
}

/** One item's outcome from the build's workers (`rest`: the other fields) joined with its token fields (at `tokenFields`). */
export function joinOutcomes(rest: ItemOutcome, tokens: ItemOutcome, tokenFields: readonly number[]): ItemOutcome {
  // Both sides may have read the same file and warned of the same damage: each warning once.
  const warnings = [...rest.warnings, ...tokens.warnings.filter((m) => !rest.warnings.includes(m))];
  if (!rest.encoded) return { ...rest, warnings };
  if (!tokens.encoded) return { ...tokens, warnings };
  const others = rest.encoded[Symbol.iterator]();
  const fromTokens = new Map(tokenFields.map((f, k) => [f, tokens.encoded![k]!]));
  const n = rest.encoded.length + tokenFields.length;
  return { encoded: Array.from({ length: n }, (_, i) => fromTokens.get(i) ?? others.next().value!), warnings };
}
