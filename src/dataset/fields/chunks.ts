/**
 * `chunks`: wavelm's byte-token chunks of a sample (src/tokens: bit depth, conversion, channel
 * blocking and chunk size recorded in the schema), the input of the byte-level language models.
 * Batches are uint8 [batch, n_chunks * chunk_size]; lengths count bytes (a multiple of chunk_size).
 */
import {
  audioToChunks,
  validateAudioConfig,
  type ChannelMode,
  type Conversion,
  type PipelineOptions,
  type TailMode,
} from '../../tokens/index.js';
import { ConfigError } from '../../util/errors.js';
import type { MetaColumn } from '../format.js';
import { argNumber, argString, type ArrayBatch, type DecodedValue, type Encoded, type Field, type SampleInput } from './field.js';
import { needAudio } from './waveform.js';

export class ChunksField implements Field {
  readonly type = 'chunks';
  readonly kind = 'array';
  readonly heavy = false;
  readonly meta: MetaColumn[] = [{ name: 'chunks', type: 'u32' }];
  readonly args: Record<string, unknown>;
  readonly chunkSize: number;
  private readonly opts: PipelineOptions;

  constructor(
    readonly name: string,
    args: Record<string, unknown>,
  ) {
    const bitDepth = argNumber(args, 'bit_depth', 8, name);
    if (bitDepth !== 8 && bitDepth !== 16) throw new ConfigError(`field '${name}': bit_depth must be 8 or 16, got ${bitDepth}`);
    const o: PipelineOptions = {
      bitDepth,
      conversion: argString<Conversion>(args, 'conversion', 'exact', ['lmic', 'seed-float', 'exact'], name),
      blockingSize: argNumber(args, 'blocking_size', 1024, name),
      chunkSizeBytes: argNumber(args, 'chunk_size', 2048, name),
      channelMode: argString<ChannelMode>(args, 'channel_mode', 'block', ['block', 'mix', 'pick', 'upmix'], name),
      channel: argNumber(args, 'channel', 0, name),
      tail: argString<TailMode>(args, 'tail', 'drop', ['drop', 'pad'], name),
    };
    const { options } = validateAudioConfig(o);
    this.opts = options;
    this.chunkSize = options.chunkSizeBytes;
    this.args = {
      bit_depth: options.bitDepth,
      conversion: options.conversion,
      blocking_size: options.blockingSize,
      chunk_size: options.chunkSizeBytes,
      channel_mode: options.channelMode,
      channel: options.channel,
      tail: options.tail,
    };
  }

  encode(input: SampleInput): Encoded {
    const chunks = audioToChunks(needAudio(input, this.name), this.opts);
    const out = new Uint8Array(chunks.length * this.chunkSize);
    chunks.forEach((c, i) => {
      out.set(c, i * this.chunkSize);
    });
    return { meta: [chunks.length], bytes: out };
  }

  check(meta: readonly number[], length: number): string | undefined {
    const want = meta[0]! * this.chunkSize;
    return want === length ? undefined : `${meta[0]} chunks of ${this.chunkSize} bytes need ${want} bytes, blob has ${length}`;
  }

  timeLength(meta: readonly number[]): number {
    return meta[0]! * this.chunkSize;
  }

  layout(): { dtype: 'uint8'; inner: number[] } {
    return { dtype: 'uint8', inner: [] };
  }

  decodeInto(out: ArrayBatch, j: number, bytes: Uint8Array): number {
    const T = out.shape[1]!;
    const n = Math.min(T, bytes.length);
    (out.data as Uint8Array).set(bytes.subarray(0, n), j * T);
    return n;
  }

  decode(bytes: Uint8Array, meta: readonly number[]): DecodedValue {
    return { kind: 'array', dtype: 'uint8', shape: [meta[0]!, this.chunkSize], data: bytes.slice() };
  }
}
