/**
 * A causal SEANet layer stack run block by block (the 24 kHz model). Each stage keeps the left context its
 * layer needs between blocks (convolution inputs not yet consumed, the transposed convolution's last input
 * frames, the LSTM's h and c) and applies encodec's end-of-signal padding only when the stream ends, so the
 * concatenated outputs equal the whole-signal pass bit for bit: every kernel computes an output column from
 * the same inputs in the same order wherever the column falls in a block.
 */
import { UnsupportedError } from '../util/errors.js';
import type { EncodecConfig } from './config.js';
import { zeroLstmState, type CodecOps, type LstmState } from './ops.js';
import { concatTime, emptyPlanar, pad1d, sliceTime, type Planar } from './planar.js';
import { convTrTrim, type ConvLayer, type Layer, type LstmLayer, type ResBlock } from './weights.js';

/** One layer (or block of layers) fed in time order: push returns every output column that no later input can change. */
export interface StreamStage {
  push(x: Planar): Planar;
  /** Ends the signal: the outputs that waited for its end (right padding, trimming). */
  end(): Planar;
}

function checkStreamable(l: ConvLayer): void {
  if (l.norm)
    throw new UnsupportedError(
      `encodec: layer ${l.name} normalises over the whole signal (time_group_norm), so it cannot run block by block`,
    );
}

/**
 * encodec's causal SConv1d: left padding k_eff - stride (reflect, replicate or zeros), and right padding
 * that completes the last stride, taken from the signal's end once it is known.
 */
class CausalConv implements StreamStage {
  private readonly keff: number;
  private readonly left: number;
  /** Input not consumed yet; once started, in padded coordinates starting at the next output's window. */
  private pending: Planar;
  /** The last `stride` input columns, for the right padding. */
  private tail: Planar;
  private started = false;
  private received = 0;

  /** With `preElu` the layer before is an ELU, applied inside the convolution (it commutes with the padding, ELU(0) being 0). */
  constructor(
    private readonly layer: ConvLayer,
    private readonly mode: EncodecConfig['padMode'],
    private readonly ops: CodecOps,
    private readonly preElu = false,
  ) {
    checkStreamable(layer);
    this.keff = (layer.k - 1) * layer.dilation + 1;
    this.left = this.keff - layer.stride;
    if (this.left < 0)
      throw new UnsupportedError(`encodec: layer ${layer.name} has a kernel shorter than its stride, which no causal stream supports`);
    this.pending = emptyPlanar(layer.cin);
    this.tail = emptyPlanar(layer.cin);
  }

  push(x: Planar): Planar {
    if (x.length === 0) return emptyPlanar(this.layer.cout);
    this.received += x.length;
    const s = this.layer.stride;
    this.tail =
      x.length >= s
        ? sliceTime(x, x.length - s, x.length)
        : sliceTime(concatTime(this.tail, x), Math.max(0, this.tail.length + x.length - s), this.tail.length + x.length);
    this.pending = concatTime(this.pending, x);
    if (!this.started) {
      // Past max(left, stride - 1) samples the signal is longer than any padding, so encodec's short-input
      // rule cannot apply and the left padding is fixed by the samples already here.
      if (this.pending.length <= Math.max(this.left, this.layer.stride - 1)) return emptyPlanar(this.layer.cout);
      const head = sliceTime(this.pending, 0, this.left + 1);
      const padded = pad1d(head.data, head.channels, head.length, this.left, 0, this.mode);
      this.pending = concatTime(sliceTime({ data: padded.data, channels: head.channels, length: padded.t }, 0, this.left), this.pending);
      this.started = true;
    }
    return this.convolveReady();
  }

  end(): Planar {
    const l = this.layer;
    if (this.received === 0) return emptyPlanar(l.cout);
    const t = this.received;
    const extra = Math.ceil(t / l.stride) * l.stride - t;
    if (!this.started) {
      // A signal shorter than the padding: encodec's whole-signal rule, on the whole (short) signal.
      const p = pad1d(this.pending.data, l.cin, t, this.left, extra, this.mode);
      return this.convolve({ data: p.data, channels: l.cin, length: p.t });
    }
    if (extra > 0) {
      const p = pad1d(this.tail.data, l.cin, this.tail.length, 0, extra, this.mode);
      const right = sliceTime({ data: p.data, channels: l.cin, length: p.t }, this.tail.length, p.t);
      this.pending = concatTime(this.pending, right);
    }
    return this.convolveReady();
  }

  private convolveReady(): Planar {
    const n = this.pending.length;
    const s = this.layer.stride;
    if (n < this.keff) return emptyPlanar(this.layer.cout);
    // The convolution of all pending columns gives exactly the outputs whose windows are complete.
    const ready = Math.floor((n - this.keff) / s) + 1;
    const y = this.convolve(this.pending);
    this.pending = sliceTime(this.pending, ready * s, n);
    return y;
  }

  private convolve(x: Planar): Planar {
    const y = this.ops.conv1d(this.layer, x.data, x.length, this.preElu);
    return { data: y, channels: this.layer.cout, length: y.length / this.layer.cout };
  }
}

/**
 * encodec's causal SConvTranspose1d: output sample i of the full transposed convolution is final once every
 * input frame that reaches it has arrived, so each block is run with the previous ceil(k / stride) - 1 input
 * frames in front and only the newly final samples are kept; the end emits the rest, trimmed as encodec trims.
 */
class CausalConvTranspose implements StreamStage {
  private readonly contextFrames: number;
  private readonly trim: { left: number; right: number };
  private context: Planar;
  private received = 0;
  /** Samples of the full (untrimmed) output emitted or trimmed so far. */
  private done = 0;

  constructor(
    private readonly layer: ConvLayer,
    config: EncodecConfig,
    private readonly ops: CodecOps,
    private readonly preElu = false,
  ) {
    checkStreamable(layer);
    this.contextFrames = Math.ceil(layer.k / layer.stride) - 1;
    this.trim = convTrTrim(layer, true, config.trimRightRatio);
    this.context = emptyPlanar(layer.cin);
  }

  push(x: Planar): Planar {
    if (x.length === 0) return emptyPlanar(this.layer.cout);
    const input = concatTime(this.context, x);
    const first = this.received - this.context.length; // input frame of the block's column 0
    this.received += x.length;
    this.context = sliceTime(input, Math.max(0, input.length - this.contextFrames), input.length);
    return this.keep(this.full(input), first * this.layer.stride, this.received * this.layer.stride);
  }

  end(): Planar {
    const l = this.layer;
    if (this.context.length === 0) return emptyPlanar(l.cout);
    const first = this.received - this.context.length;
    const total = (this.received - 1) * l.stride + l.k;
    return this.keep(this.full(this.context), first * l.stride, total - this.trim.right);
  }

  private full(x: Planar): Planar {
    const y = this.ops.convTranspose1d(this.layer, x.data, x.length, this.preElu);
    return { data: y, channels: this.layer.cout, length: y.length / this.layer.cout };
  }

  /** Full-output samples [max(done, trim.left), upTo) from y, whose column 0 is full-output sample `origin`. */
  private keep(y: Planar, origin: number, upTo: number): Planar {
    const from = Math.max(this.done, this.trim.left);
    this.done = Math.max(this.done, upTo);
    return from >= upTo ? emptyPlanar(this.layer.cout) : sliceTime(y, from - origin, upTo - origin);
  }
}

class Elu implements StreamStage {
  constructor(private readonly ops: CodecOps) {}
  push(x: Planar): Planar {
    return x.length === 0 ? x : { ...x, data: this.ops.elu(x.data) };
  }
  end(): Planar {
    return emptyPlanar(0);
  }
}

class Lstm implements StreamStage {
  private readonly state: LstmState;
  constructor(
    private readonly layer: LstmLayer,
    private readonly ops: CodecOps,
  ) {
    this.state = zeroLstmState(layer);
  }
  push(x: Planar): Planar {
    return x.length === 0 ? x : { ...x, data: this.ops.lstm(this.layer, x.data, x.length, this.state) };
  }
  end(): Planar {
    return emptyPlanar(this.layer.dim);
  }
}

/** Stages one after another; at the end each stage's remaining output flows through the stages after it. */
class Chain implements StreamStage {
  constructor(private readonly stages: StreamStage[]) {}
  push(x: Planar): Planar {
    let cur = x;
    for (const s of this.stages) cur = s.push(cur);
    return cur;
  }
  end(): Planar {
    let carry: Planar | undefined;
    for (const s of this.stages) {
      const pushed = carry ? s.push(carry) : undefined;
      const rest = s.end();
      carry = pushed ? concatTime(pushed, rest) : rest;
    }
    return carry ?? emptyPlanar(0);
  }
}

/** A SEANet residual block: the branch may hold columns back longer than the shortcut, so both are queued and added as they line up. */
class Residual implements StreamStage {
  private readonly branch: Chain;
  private readonly shortcut: CausalConv | undefined;
  private branchOut: Planar;
  private shortcutOut: Planar;

  constructor(l: ResBlock, config: EncodecConfig, ops: CodecOps) {
    this.branch = new Chain(l.convs.map((cv) => new CausalConv(cv, config.padMode, ops, true)));
    this.shortcut = l.shortcut ? new CausalConv(l.shortcut, config.padMode, ops) : undefined;
    const channels = l.convs[l.convs.length - 1]!.cout;
    this.branchOut = emptyPlanar(channels);
    this.shortcutOut = emptyPlanar(channels);
  }

  push(x: Planar): Planar {
    this.queue(this.branch.push(x), this.shortcut ? this.shortcut.push(x) : x);
    return this.addAligned();
  }

  end(): Planar {
    this.queue(this.branch.end(), this.shortcut ? this.shortcut.end() : emptyPlanar(0));
    return this.addAligned();
  }

  private queue(branch: Planar, shortcut: Planar): void {
    this.branchOut = concatTime(this.branchOut, branch);
    this.shortcutOut = concatTime(this.shortcutOut, shortcut);
  }

  private addAligned(): Planar {
    const n = Math.min(this.branchOut.length, this.shortcutOut.length);
    const b = sliceTime(this.branchOut, 0, n);
    const s = sliceTime(this.shortcutOut, 0, n);
    // The branch's columns are this block's own (convolution outputs or copies), so the sum goes in place.
    const out = b.data;
    for (let i = 0; i < out.length; i++) out[i] = s.data[i]! + out[i]!;
    this.branchOut = sliceTime(this.branchOut, n, this.branchOut.length);
    this.shortcutOut = sliceTime(this.shortcutOut, n, this.shortcutOut.length);
    return b;
  }
}

/** The stream stage of a causal model's encoder or decoder layer list. */
export function causalStack(layers: Layer[], config: EncodecConfig, ops: CodecOps): StreamStage {
  if (!config.useCausalConv)
    throw new UnsupportedError('encodec: only causal models (use_causal_conv) run block by block; segmented models stream by segment');
  // An ELU right before a convolution is applied inside it (one pass over the block fewer).
  const fused = (i: number): boolean => layers[i]?.kind === 'elu' && (layers[i + 1]?.kind === 'conv' || layers[i + 1]?.kind === 'convtr');
  return new Chain(
    layers.flatMap((l, i): StreamStage[] => {
      if (fused(i)) return [];
      switch (l.kind) {
        case 'elu':
          return [new Elu(ops)];
        case 'conv':
          return [new CausalConv(l, config.padMode, ops, fused(i - 1))];
        case 'convtr':
          return [new CausalConvTranspose(l, config, ops, fused(i - 1))];
        case 'lstm':
          return [new Lstm(l, ops)];
        case 'res':
          return [new Residual(l, config, ops)];
        default:
          throw new UnsupportedError(`encodec: no streaming stage for layer kind '${(l as { kind: string }).kind}'`);
      }
    }),
  );
}
