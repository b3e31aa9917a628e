/**
 * EnCodec inference (facebookresearch/encodec semantics): SEANet encoder -> residual vector quantiser ->
 * codes, and codes -> quantiser sums -> SEANet decoder. Padding follows encodec's SConv1d /
 * SConvTranspose1d exactly (causal or centred, reflect with its short-input rule, extra right padding
 * so the last window is complete, transposed-conv trimming), because codes must match the reference
 * bit for bit. Models with a segment length (48 kHz) encode 1 s segments with 1% overlap, each
 * divided by its RMS, and decode by linear overlap-add.
 */
import { ConfigError, MismatchError } from '../util/errors.js';
import { codebooksForBandwidth, frameRate, hopLength, segmentation, type EncodecConfig } from './config.js';
import type { CodecOps } from './ops.js';
import { pad1d, type Planar } from './planar.js';
import { convPadding, convTrTrim, type ConvLayer, type EncodecWeights, type Layer } from './weights.js';

export type { Planar } from './planar.js';

/** One encoded segment: codes [codebooks, frames] row-major, and the RMS scale when the model normalises. */
export interface EncodedChunk {
  codes: Int32Array;
  codebooks: number;
  frames: number;
  scale: number | null;
}

export interface EncodedAudio {
  chunks: EncodedChunk[];
  /** Samples per channel of the (model-rate) input. */
  length: number;
  bandwidth: number;
}

export class EncodecModel {
  readonly config: EncodecConfig;
  readonly frameRate: number;
  readonly hopLength: number;
  constructor(
    readonly weights: EncodecWeights,
    readonly ops: CodecOps,
  ) {
    this.config = weights.config;
    this.frameRate = frameRate(this.config);
    this.hopLength = hopLength(this.config);
  }

  get sampleRate(): number {
    return this.config.samplingRate;
  }
  get channels(): number {
    return this.config.audioChannels;
  }

  private sconv(l: ConvLayer, x: Float32Array, t: number): { data: Float32Array; t: number } {
    const c = this.config;
    const { left, right } = convPadding(l, t, c.useCausalConv);
    const p = pad1d(x, l.cin, t, left, right, c.padMode);
    const y = this.ops.conv1d(l, p.data, p.t);
    const tout = y.length / l.cout;
    if (l.norm) this.ops.groupNorm(y, l.cout, tout, l.norm.weight, l.norm.bias);
    return { data: y, t: tout };
  }

  private sconvTr(l: ConvLayer, x: Float32Array, t: number): { data: Float32Array; t: number } {
    const y = this.ops.convTranspose1d(l, x, t);
    const full = (t - 1) * l.stride + l.k;
    // encodec applies the norm before trimming (NormConvTranspose1d, then unpad1d).
    if (l.norm) this.ops.groupNorm(y, l.cout, full, l.norm.weight, l.norm.bias);
    const { left, right } = convTrTrim(l, this.config.useCausalConv, this.config.trimRightRatio);
    const nt = full - left - right;
    const out = new Float32Array(l.cout * nt);
    for (let co = 0; co < l.cout; co++) out.set(y.subarray(co * full + left, co * full + left + nt), co * nt);
    return { data: out, t: nt };
  }

  private run(layers: Layer[], x: Float32Array, t: number): { data: Float32Array; t: number } {
    const first = layers[0];
    const cin = first && (first.kind === 'conv' || first.kind === 'convtr') ? first.cin : 0;
    if (this.ops.runLayers && cin > 0) return this.ops.runLayers(layers, x, cin, t, this.config);
    let cur = { data: x, t };
    for (const l of layers) {
      switch (l.kind) {
        case 'elu':
          cur = { data: this.ops.elu(cur.data), t: cur.t };
          break;
        case 'conv':
          cur = this.sconv(l, cur.data, cur.t);
          break;
        case 'convtr':
          cur = this.sconvTr(l, cur.data, cur.t);
          break;
        case 'lstm':
          cur = { data: this.ops.lstm(l, cur.data, cur.t), t: cur.t };
          break;
        case 'res': {
          let h = cur;
          for (const cv of l.convs) h = this.sconv(cv, this.ops.elu(h.data), h.t);
          const sc = l.shortcut ? this.sconv(l.shortcut, cur.data, cur.t).data : cur.data;
          const out = new Float32Array(h.data.length);
          for (let i = 0; i < out.length; i++) out[i] = sc[i]! + h.data[i]!;
          cur = { data: out, t: cur.t };
          break;
        }
      }
    }
    return cur;
  }

  /** The encoder's embeddings [hiddenSize, frames] for one segment (no normalisation applied here). */
  embed(x: Planar): Planar {
    if (x.channels !== this.channels) throw new MismatchError(`encodec: the model takes ${this.channels} channel(s), got ${x.channels}`);
    if (x.length < 1) throw new ConfigError('encodec: cannot encode an empty signal');
    const r = this.run(this.weights.encoder, x.data, x.length);
    return { data: r.data, channels: this.config.hiddenSize, length: r.t };
  }

  /** Quantiser codes [nq, frames] of embeddings. */
  quantize(emb: Planar, codebooks: number): Int32Array {
    const c = this.config;
    return this.ops.rvqEncode(this.weights.codebooks.slice(0, codebooks), c.codebookSize, c.codebookDim, emb.data.slice(), emb.length);
  }

  /** Sum of the codebook entries of codes [nq, frames] (the decoder input) as [dim, frames]. */
  dequantize(codes: Int32Array, codebooks: number, frames: number): Planar {
    const { codebookDim: dim, codebookSize: bins } = this.config;
    if (codebooks > this.weights.codebooks.length)
      throw new MismatchError(`encodec: codes use ${codebooks} codebooks, the model has ${this.weights.codebooks.length}`);
    const out = new Float32Array(dim * frames);
    for (let q = 0; q < codebooks; q++) {
      const cb = this.weights.codebooks[q]!;
      for (let s = 0; s < frames; s++) {
        const code = codes[q * frames + s]!;
        if (!(code >= 0 && code < bins))
          throw new MismatchError(`encodec: code ${code} at codebook ${q}, frame ${s} is outside 0..${bins - 1}`);
        for (let d = 0; d < dim; d++) out[d * frames + s] = out[d * frames + s]! + cb[code * dim + d]!;
      }
    }
    return { data: out, channels: dim, length: frames };
  }

  /** Decoder output [channels, frames * hop] for decoder input [dim, frames]. */
  synthesize(emb: Planar): Planar {
    const r = this.run(this.weights.decoder, emb.data, emb.length);
    return { data: r.data, channels: this.channels, length: r.t };
  }

  /**
   * Encodes one segment (already cut to at most the segment length) with `codebooks` codebooks, normalising it
   * first when the model does.
   */
  encodeSegment(x: Planar, codebooks: number): EncodedChunk {
    let input = x;
    let scale: number | null = null;
    if (this.config.normalize) {
      let ss = 0;
      for (let i = 0; i < x.length; i++) {
        let m = 0;
        for (let ch = 0; ch < x.channels; ch++) m += x.data[ch * x.length + i]!;
        m = Math.fround(m / x.channels);
        ss += m * m;
      }
      scale = Math.fround(1e-8 + Math.fround(Math.sqrt(ss / x.length)));
      const d = new Float32Array(x.data.length);
      for (let i = 0; i < d.length; i++) d[i] = x.data[i]! / scale;
      input = { ...x, data: d };
    }
    const emb = this.embed(input);
    return { codes: this.quantize(emb, codebooks), codebooks, frames: emb.length, scale };
  }

  /** Segment offsets and lengths for an input of `length` samples (one segment when the model has none). */
  segments(length: number): { offset: number; length: number }[] {
    const seg = segmentation(this.config);
    if (!seg) return [{ offset: 0, length }];
    const out = [];
    for (let off = 0; off < length; off += seg.stride) out.push({ offset: off, length: Math.min(seg.length, length - off) });
    return out;
  }

  /** Encodes model-rate audio with the model's channel count at `bandwidth` kbps. */
  encode(x: Planar, bandwidth: number): EncodedAudio {
    const nq = codebooksForBandwidth(this.config, bandwidth);
    if (x.channels !== this.channels) throw new MismatchError(`encodec: the model takes ${this.channels} channel(s), got ${x.channels}`);
    if (x.length < 1) throw new ConfigError('encodec: cannot encode an empty signal');
    const chunks = this.segments(x.length).map(({ offset, length }) => {
      const d = new Float32Array(x.channels * length);
      for (let ch = 0; ch < x.channels; ch++) d.set(x.data.subarray(ch * x.length + offset, ch * x.length + offset + length), ch * length);
      return this.encodeSegment({ data: d, channels: x.channels, length }, nq);
    });
    return { chunks, length: x.length, bandwidth };
  }

  /** Decodes one chunk to [channels, frames * hop], scaled back when it carries a scale. */
  decodeChunk(chunk: EncodedChunk): Planar {
    const y = this.synthesize(this.dequantize(chunk.codes, chunk.codebooks, chunk.frames));
    if (chunk.scale !== null) {
      const s = chunk.scale;
      for (let i = 0; i < y.data.length; i++) y.data[i] = y.data[i]! * s;
    }
    return y;
  }

  /** Decodes to [channels, length]: segments are overlap-added with encodec's triangular weights, then trimmed to `length` when given. */
  decode(enc: { chunks: EncodedChunk[]; length?: number }): Planar {
    if (enc.chunks.length === 0) throw new ConfigError('encodec: nothing to decode (no chunks)');
    const frames = enc.chunks.map((c) => this.decodeChunk(c));
    const seg = segmentation(this.config);
    let out: Planar;
    if (!seg) {
      if (frames.length !== 1) throw new MismatchError(`encodec: this model decodes one chunk, got ${frames.length}`);
      out = frames[0]!;
    } else out = linearOverlapAdd(frames, seg.stride);
    if (enc.length !== undefined && enc.length < out.length) {
      const d = new Float32Array(out.channels * enc.length);
      for (let ch = 0; ch < out.channels; ch++) d.set(out.data.subarray(ch * out.length, ch * out.length + enc.length), ch * enc.length);
      out = { data: d, channels: out.channels, length: enc.length };
    }
    return out;
  }
}

/** encodec's _linear_overlap_add: triangular weights from the first frame's length, normalised by their sum. */
export function linearOverlapAdd(frames: Planar[], stride: number): Planar {
  const C = frames[0]!.channels;
  const total = stride * (frames.length - 1) + frames[frames.length - 1]!.length;
  const weight = overlapWeights(frames[0]!.length);
  const out = new Float32Array(C * total);
  const sum = new Float32Array(total);
  let offset = 0;
  for (const f of frames) {
    for (let ch = 0; ch < C; ch++) {
      for (let i = 0; i < f.length; i++)
        out[ch * total + offset + i] = out[ch * total + offset + i]! + weight[i]! * f.data[ch * f.length + i]!;
    }
    for (let i = 0; i < f.length; i++) sum[offset + i] = sum[offset + i]! + weight[i]!;
    offset += stride;
  }
  for (let ch = 0; ch < C; ch++) for (let i = 0; i < total; i++) out[ch * total + i] = out[ch * total + i]! / sum[i]!;
  return { data: out, channels: C, length: total };
}

/**
 * encodec's triangular overlap-add weights for frames of `flen` samples: torch.linspace(0, 1, flen + 2)[1:-1]
 * in float32, then 0.5 - |t - 0.5|.
 */
export function overlapWeights(flen: number): Float32Array {
  const weight = new Float32Array(flen);
  const steps = flen + 2;
  const step = 1 / (steps - 1);
  for (let i = 1; i <= flen; i++) {
    const t = Math.fround(i < steps / 2 ? i * step : 1 - (steps - 1 - i) * step);
    weight[i - 1] = Math.fround(0.5 - Math.abs(Math.fround(t - 0.5)));
  }
  return weight;
}
