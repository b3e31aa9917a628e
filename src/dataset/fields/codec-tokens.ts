/**
 * `codec_tokens`: uint16 codes [n_codebooks, frames] of a neural codec (EnCodec and the like), with the
 * codec's name, vocabulary size and frame rate in the schema (and, when a build encoded them, the
 * bandwidth and the encoder's identity). Filled from arrays given per sample (`values[name]`: loaded from
 * .npy, or made by a CodecTokenEncoder during the build, src/dataset/token-encoder.ts).
 */
import { ConfigError } from '../../util/errors.js';
import type { MetaColumn } from '../format.js';
import {
  argNumber,
  argString,
  copyPlanar,
  viewAs,
  type ArrayBatch,
  type DecodedValue,
  type Encoded,
  type Field,
  type SampleInput,
  type Window,
} from './field.js';

export interface TokenArray {
  shape: number[];
  data: ArrayLike<number>;
}

export class CodecTokensField implements Field {
  readonly type = 'codec_tokens';
  readonly kind = 'array';
  readonly heavy = false;
  readonly croppable = true;
  readonly meta: MetaColumn[] = [{ name: 'frames', type: 'u32' }];
  readonly args: Record<string, unknown>;
  readonly nCodebooks: number;
  readonly vocabSize: number;
  readonly frameRate: number;

  constructor(
    readonly name: string,
    args: Record<string, unknown>,
  ) {
    const codec = argString(args, 'codec', 'encodec_24khz', undefined, name);
    this.nCodebooks = argNumber(args, 'n_codebooks', 8, name)!;
    this.vocabSize = argNumber(args, 'vocab_size', 1024, name)!;
    this.frameRate = argNumber(args, 'frame_rate', 75, name)!;
    if (!Number.isInteger(this.nCodebooks) || this.nCodebooks < 1)
      throw new ConfigError(`field '${name}': n_codebooks must be a positive integer`);
    if (!Number.isInteger(this.vocabSize) || this.vocabSize < 1 || this.vocabSize > 65536)
      throw new ConfigError(`field '${name}': vocab_size must be in 1..65536 to fit uint16`);
    if (!(this.frameRate > 0)) throw new ConfigError(`field '${name}': frame_rate must be positive`);
    this.args = { codec, n_codebooks: this.nCodebooks, vocab_size: this.vocabSize, frame_rate: this.frameRate };
    const bandwidth = argNumber(args, 'bandwidth', undefined, name);
    if (bandwidth !== undefined) this.args.bandwidth = bandwidth;
    if (args.encoder !== undefined) this.args.encoder = argString(args, 'encoder', '', undefined, name);
  }

  encode(input: SampleInput): Encoded {
    const v = input.values[this.name] as TokenArray | undefined;
    if (!v || !Array.isArray(v.shape) || v.data === undefined)
      throw new ConfigError(`field '${this.name}': sample ${input.key} has no token array ({shape: [n_codebooks, frames], data})`, {
        subject: input.key,
      });
    if (v.shape.length !== 2 || v.shape[0] !== this.nCodebooks)
      throw new ConfigError(
        `field '${this.name}': sample ${input.key} has tokens of shape [${v.shape.join(', ')}], expected [${this.nCodebooks}, frames]`,
        { subject: input.key },
      );
    const frames = v.shape[1]!;
    if (v.data.length !== this.nCodebooks * frames)
      throw new ConfigError(`field '${this.name}': sample ${input.key}: ${v.data.length} tokens for shape [${v.shape.join(', ')}]`, {
        subject: input.key,
      });
    const out = new Uint16Array(v.data.length);
    for (let i = 0; i < out.length; i++) {
      const t = v.data[i]!;
      if (!Number.isInteger(t) || t < 0 || t >= this.vocabSize)
        throw new ConfigError(`field '${this.name}': sample ${input.key} has token ${t} outside 0..${this.vocabSize - 1}`, {
          subject: input.key,
        });
      out[i] = t;
    }
    return { meta: [frames], bytes: new Uint8Array(out.buffer) };
  }

  check(meta: readonly number[], length: number): string | undefined {
    const want = meta[0]! * this.nCodebooks * 2;
    return want === length ? undefined : `${meta[0]} frames x ${this.nCodebooks} codebooks need ${want} bytes, blob has ${length}`;
  }

  timeLength(meta: readonly number[]): number {
    return meta[0]!;
  }

  duration(meta: readonly number[]): number {
    return meta[0]! / this.frameRate;
  }

  layout(): { dtype: 'uint16'; inner: number[] } {
    return { dtype: 'uint16', inner: [this.nCodebooks] };
  }

  decodeInto(out: ArrayBatch, j: number, bytes: Uint8Array, meta: readonly number[], w?: Window): number {
    const frames = meta[0]!;
    const start = w ? Math.min(w.start, frames) : 0;
    const T = out.shape[out.shape.length - 1]!;
    const n = Math.min(T, frames - start, w ? w.length : Infinity);
    copyPlanar(out, j, viewAs('uint16', bytes), [this.nCodebooks], n, frames, start);
    return n;
  }

  decode(bytes: Uint8Array, meta: readonly number[]): DecodedValue {
    const data = viewAs('uint16', bytes).slice() as Uint16Array;
    return { kind: 'array', dtype: 'uint16', shape: [this.nCodebooks, meta[0]!], data };
  }
}
