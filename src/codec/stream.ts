/**
 * EnCodec on a signal that arrives in blocks, in memory bounded by the block rather than the signal: the
 * causal 24 kHz model runs its encoder and decoder stacks block by block (src/codec/causal-stream.ts); the
 * segmented 48 kHz model encodes each 1 s segment once its samples are in and overlap-adds decoded
 * segments as they come. Codes and audio equal EncodecModel.encode / decode of the whole signal bit for bit.
 */
import { ConfigError, MismatchError, UnsupportedError } from '../util/errors.js';
import { causalStack, type StreamStage } from './causal-stream.js';
import { codebooksForBandwidth, segmentation, type EncodecConfig } from './config.js';
import { overlapWeights, type EncodecModel, type EncodedAudio, type EncodedChunk } from './model.js';
import { concatTime, emptyPlanar, sliceTime, type Planar } from './planar.js';

/** Codes of consecutive frames; `continues` when they extend the previous piece's chunk (a causal model has one chunk). */
export interface CodePiece extends EncodedChunk {
  continues: boolean;
}

export interface StreamingEncoder {
  /** Adds model-rate audio [model channels, t]; returns the codes it completes. */
  push(x: Planar): CodePiece[];
  /** Ends the signal; returns the remaining codes. */
  end(): CodePiece[];
  /** Samples per channel pushed so far. */
  readonly length: number;
}

export interface StreamingDecoder {
  /** Adds codes; returns the audio [model channels, t] they complete. */
  push(piece: CodePiece): Planar;
  /** Ends the codes; returns the remaining audio. */
  end(): Planar;
}

function streamKind(model: EncodecModel): 'segments' | 'causal' {
  const c = model.config;
  if (segmentation(c)) return 'segments';
  if (c.useCausalConv && !c.normalize) return 'causal';
  throw new UnsupportedError(
    'encodec: this model normalises or pads the whole signal at once (no segments, not causal), so it cannot be streamed; encode it whole',
  );
}

/** An encoder for a signal pushed in blocks of any size, at `bandwidth` kbps. */
export function streamingEncoder(model: EncodecModel, bandwidth: number): StreamingEncoder {
  const codebooks = codebooksForBandwidth(model.config, bandwidth);
  return streamKind(model) === 'causal' ? new CausalEncode(model, codebooks) : new SegmentEncode(model, codebooks);
}

/** A decoder for code pieces in order, trimming the audio to `length` samples when given. */
export function streamingDecoder(model: EncodecModel, length?: number): StreamingDecoder {
  return streamKind(model) === 'causal' ? new CausalDecode(model, length) : new SegmentDecode(model, length);
}

function checkChannels(model: EncodecModel, x: Planar): void {
  if (x.channels !== model.channels) throw new MismatchError(`encodec: the model takes ${model.channels} channel(s), got ${x.channels}`);
}

class CausalEncode implements StreamingEncoder {
  private readonly encoder: StreamStage;
  private pieces = 0;
  length = 0;
  constructor(
    private readonly model: EncodecModel,
    private readonly codebooks: number,
  ) {
    this.encoder = causalStack(model.weights.encoder, model.config, model.ops);
  }
  push(x: Planar): CodePiece[] {
    checkChannels(this.model, x);
    this.length += x.length;
    return this.quantize(this.encoder.push(x));
  }
  end(): CodePiece[] {
    if (this.length === 0) throw new ConfigError('encodec: cannot encode an empty signal');
    return this.quantize(this.encoder.end());
  }
  private quantize(emb: Planar): CodePiece[] {
    if (emb.length === 0) return [];
    const codes = this.model.quantize(emb, this.codebooks);
    return [{ codes, codebooks: this.codebooks, frames: emb.length, scale: null, continues: this.pieces++ > 0 }];
  }
}

/**
 * Cuts a signal pushed in blocks into the model's segments (`length` samples every `stride`), each once all its
 * samples are in (the last ones at the end).
 */
export class SegmentCutter {
  private pending: Planar;
  private readonly seg: { length: number; stride: number };
  length = 0;
  constructor(config: EncodecConfig) {
    const seg = segmentation(config);
    if (!seg) throw new UnsupportedError('encodec: this model has no segments to cut');
    this.seg = seg;
    this.pending = emptyPlanar(config.audioChannels);
  }
  push(x: Planar): Planar[] {
    this.length += x.length;
    this.pending = concatTime(this.pending, x);
    const out: Planar[] = [];
    while (this.pending.length >= this.seg.length) out.push(this.next());
    return out;
  }
  end(): Planar[] {
    const out: Planar[] = [];
    while (this.pending.length > 0) out.push(this.next());
    return out;
  }
  private next(): Planar {
    const x = sliceTime(this.pending, 0, Math.min(this.seg.length, this.pending.length));
    this.pending = sliceTime(this.pending, Math.min(this.seg.stride, this.pending.length), this.pending.length);
    return x;
  }
}

class SegmentEncode implements StreamingEncoder {
  private readonly cutter: SegmentCutter;
  constructor(
    private readonly model: EncodecModel,
    private readonly codebooks: number,
  ) {
    this.cutter = new SegmentCutter(model.config);
  }
  get length(): number {
    return this.cutter.length;
  }
  push(x: Planar): CodePiece[] {
    checkChannels(this.model, x);
    return this.encode(this.cutter.push(x));
  }
  end(): CodePiece[] {
    if (this.length === 0) throw new ConfigError('encodec: cannot encode an empty signal');
    return this.encode(this.cutter.end());
  }
  private encode(segments: Planar[]): CodePiece[] {
    return segments.map((x) => ({ ...this.model.encodeSegment(x, this.codebooks), continues: false }));
  }
}

/** Emits at most `limit` samples in all (the encoded length), dropping the decoder's padding past it. */
class Trimmer {
  private emitted = 0;
  constructor(private readonly limit: number) {}
  take(y: Planar): Planar {
    const n = Math.max(0, Math.min(y.length, this.limit - this.emitted));
    this.emitted += n;
    return n === y.length ? y : sliceTime(y, 0, n);
  }
}

class CausalDecode implements StreamingDecoder {
  private readonly decoder: StreamStage;
  private readonly trim: Trimmer;
  private pieces = 0;
  constructor(
    private readonly model: EncodecModel,
    length = Infinity,
  ) {
    this.decoder = causalStack(model.weights.decoder, model.config, model.ops);
    this.trim = new Trimmer(length);
  }
  push(piece: CodePiece): Planar {
    if (piece.continues !== this.pieces++ > 0)
      throw new MismatchError('encodec: a causal model decodes one chunk; these codes hold several (were they made by a segmented model?)');
    return this.trim.take(this.decoder.push(this.model.dequantize(piece.codes, piece.codebooks, piece.frames)));
  }
  end(): Planar {
    if (this.pieces === 0) throw new ConfigError('encodec: nothing to decode (no chunks)');
    return this.trim.take(this.decoder.end());
  }
}

/**
 * encodec's linear overlap-add, one segment at a time: samples before the next segment's offset are final.
 * Sums are accumulated in the same order as model.decode's, so the division gives the same float32 values.
 */
class SegmentDecode implements StreamingDecoder {
  private readonly stride: number;
  private readonly trim: Trimmer;
  private weight: Float32Array | undefined;
  /** Weighted sums and weight sums of samples [base, base + span). */
  private acc: Planar;
  private sum = new Float32Array(0);
  private base = 0;
  private nextOffset = 0;
  constructor(
    private readonly model: EncodecModel,
    length = Infinity,
  ) {
    this.stride = segmentation(model.config)!.stride;
    this.trim = new Trimmer(length);
    this.acc = emptyPlanar(model.channels);
  }

  push(piece: CodePiece): Planar {
    if (piece.continues) throw new MismatchError('encodec: a segmented model decodes whole segments; got a piece that continues one');
    const f = this.model.decodeChunk(piece);
    this.weight ??= overlapWeights(f.length);
    if (f.length > this.weight.length)
      throw new MismatchError(`encodec: segment of ${f.length} samples is longer than the first (${this.weight.length})`);
    this.grow(this.nextOffset + f.length);
    const w = this.weight;
    const { acc, sum } = this;
    const at = this.nextOffset - this.base;
    const span = acc.length;
    for (let ch = 0; ch < f.channels; ch++) {
      for (let i = 0; i < f.length; i++) acc.data[ch * span + at + i] = acc.data[ch * span + at + i]! + w[i]! * f.data[ch * f.length + i]!;
    }
    for (let i = 0; i < f.length; i++) sum[at + i] = sum[at + i]! + w[i]!;
    this.nextOffset += this.stride;
    return this.trim.take(this.emit(Math.min(this.nextOffset, this.base + span)));
  }

  end(): Planar {
    if (!this.weight) throw new ConfigError('encodec: nothing to decode (no chunks)');
    return this.trim.take(this.emit(this.base + this.acc.length));
  }

  private grow(end: number): void {
    const span = end - this.base;
    if (span <= this.acc.length) return;
    const old = this.acc;
    this.acc = concatTime(old, {
      data: new Float32Array(old.channels * (span - old.length)),
      channels: old.channels,
      length: span - old.length,
    });
    const sum = new Float32Array(span);
    sum.set(this.sum);
    this.sum = sum;
  }

  /** Samples [base, upTo) divided by their weight sums, dropped from the accumulators. */
  private emit(upTo: number): Planar {
    const n = upTo - this.base;
    if (n <= 0) return emptyPlanar(this.acc.channels);
    const out = sliceTime(this.acc, 0, n);
    const data = out === this.acc ? out.data.slice() : out.data;
    for (let ch = 0; ch < out.channels; ch++) for (let i = 0; i < n; i++) data[ch * n + i] = data[ch * n + i]! / this.sum[i]!;
    this.acc = sliceTime(this.acc, n, this.acc.length);
    this.sum = this.sum.slice(n);
    this.base = upTo;
    return { data, channels: out.channels, length: n };
  }
}

/** Gathers code pieces into the chunks of an EncodedAudio (what EncodecModel.encode returns for the same signal). */
export class CodesCollector {
  private readonly chunks: { pieces: Int32Array[]; frames: number; scale: number | null }[] = [];
  private codebooks = 0;

  add(pieces: CodePiece[]): void {
    for (const p of pieces) {
      this.codebooks = p.codebooks;
      const last = this.chunks[this.chunks.length - 1];
      if (p.continues && last) {
        last.pieces.push(p.codes);
        last.frames += p.frames;
      } else this.chunks.push({ pieces: [p.codes], frames: p.frames, scale: p.scale });
    }
  }

  /** The chunks, each as codes [codebooks, frames] row-major. */
  result(length: number, bandwidth: number): EncodedAudio {
    const nq = this.codebooks;
    const chunks = this.chunks.map(({ pieces, frames, scale }): EncodedChunk => {
      const codes = new Int32Array(nq * frames);
      let at = 0;
      for (const p of pieces) {
        const n = p.length / nq;
        for (let q = 0; q < nq; q++) codes.set(p.subarray(q * n, (q + 1) * n), q * frames + at);
        at += n;
      }
      return { codes, codebooks: nq, frames, scale };
    });
    return { chunks, length, bandwidth };
  }
}

/**
 * The pieces that feed `model`'s decode stream: a causal model's chunk cut into at most `framesPerPiece` frames,
 * a segmented model's chunks whole.
 */
export function* codePieces(model: EncodecModel, chunks: Iterable<EncodedChunk>, framesPerPiece: number): Generator<CodePiece> {
  const step = streamKind(model) === 'causal' ? Math.max(1, Math.floor(framesPerPiece)) : Infinity;
  for (const ch of chunks) {
    for (let s = 0; s < ch.frames || s === 0; s += step) {
      const n = Math.min(step, ch.frames - s);
      const codes = new Int32Array(ch.codebooks * n);
      for (let q = 0; q < ch.codebooks; q++) codes.set(ch.codes.subarray(q * ch.frames + s, q * ch.frames + s + n), q * n);
      yield { codes, codebooks: ch.codebooks, frames: n, scale: ch.scale, continues: s > 0 };
    }
  }
}
