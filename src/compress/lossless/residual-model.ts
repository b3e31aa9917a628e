/**
 * The probability model of prediction residuals: each residual is coded as a few binary decisions
 * (its bit length in unary, the top bits of its magnitude, its sign), and each decision's probability is
 * a logistic mix of adaptive counters under different contexts (recent residual magnitudes at fast and
 * slow rates, the last residuals themselves), refined by an adaptive probability map. The mixer's weights
 * and the counters learn online, identically in encoder and decoder: the small network of context-mixing
 * compressors (lpaq, cmix, NNCP), here on the residual of a predictive front end.
 *
 * A model can start from a prior (ResidualPrior): the counters' and mixers' state after coding a corpus,
 * with the counters' confidence capped so that they keep adapting. That is what a trained codec model
 * holds (src/compress/lossless/prior.ts); it matters most for short recordings.
 */
import type { BitCoder } from './binary-coder.js';
import { MismatchError } from '../../util/errors.js';
import { squash, STRETCH } from './logistic.js';

/** Longest residual magnitude in bits: residuals are wrapped into the sample width, so |r| <= 2^31. */
const MAX_BITS = 32;
/** Contexts of the scale: 2 steps per octave of a 1/16-unit average, 0 ... 2 * (MAX_BITS + 4). */
const SCALES = 2 * (MAX_BITS + 5);
const INPUTS = 5;

/** Quantised log2 of a non-negative integer at half-octave steps (saturating at 2^31). */
function halfOctave(value: number): number {
  if (value <= 0) return 0;
  const a = value > 0x7fffffff ? 0x7fffffff : value;
  const n = 32 - Math.clz32(a);
  const next = n >= 2 ? (a >>> (n - 2)) & 1 : 0;
  return 2 * n - 1 + next;
}

/** The learned tables a prior carries, by name (`<table>.p`, `<table>.n`, `<mixer>.w`). */
export type ResidualPrior = Record<string, Uint16Array | Uint8Array | Float64Array>;

/** How confident a prior's counters may be: their rate starts at 1 / (PRIOR_COUNT + 1.5). */
const PRIOR_COUNT = 6;

/** An adaptive probability with a count-based rate: fast to learn at first, then steadier. */
class Counters {
  readonly p: Uint16Array;
  readonly n: Uint8Array;
  constructor(
    size: number,
    private readonly limit: number,
  ) {
    this.p = new Uint16Array(size).fill(32768);
    this.n = new Uint8Array(size);
  }
  load(prior: ResidualPrior, name: string): void {
    copyChecked(this.p, prior[`${name}.p`], name);
    copyChecked(this.n, prior[`${name}.n`], name);
    for (let i = 0; i < this.n.length; i++) if (this.n[i]! > PRIOR_COUNT) this.n[i] = PRIOR_COUNT;
  }
  save(into: ResidualPrior, name: string): void {
    into[`${name}.p`] = this.p.slice();
    into[`${name}.n`] = this.n.slice();
  }
  p12(i: number): number {
    return this.p[i]! >>> 4;
  }
  update(i: number, bit: number): void {
    const n = this.n[i]!;
    const p = this.p[i]!;
    const target = bit ? 65535 : 0;
    this.p[i] = p + Math.trunc((target - p) / (n + 1.5));
    if (n < this.limit) this.n[i] = n + 1;
  }
}

/** Logistic mixing of INPUTS stretched probabilities with a weight set per selector. */
class Mixer {
  private readonly w: Float64Array;
  private readonly x = new Int32Array(INPUTS);
  private sel = 0;
  private pr = 2048;
  constructor(
    sets: number,
    private readonly rate: number,
  ) {
    this.w = new Float64Array(sets * INPUTS).fill(0.3);
  }
  load(prior: ResidualPrior, name: string): void {
    copyChecked(this.w, prior[`${name}.w`], name);
  }
  save(into: ResidualPrior, name: string): void {
    into[`${name}.w`] = this.w.slice();
  }
  mix(inputs: Int32Array, sel: number): number {
    let dot = 0;
    const o = sel * INPUTS;
    for (let i = 0; i < INPUTS; i++) {
      this.x[i] = inputs[i]!;
      dot += this.w[o + i]! * inputs[i]!;
    }
    this.sel = o;
    this.pr = squash(Math.round(dot));
    return this.pr;
  }
  update(bit: number): void {
    const err = ((bit << 12) - this.pr) * this.rate;
    const o = this.sel;
    for (let i = 0; i < INPUTS; i++) this.w[o + i] = this.w[o + i]! + err * this.x[i]!;
  }
}

/** Adaptive probability map (SSE): refines a probability given a small context, by interpolation over 33 knots. */
class Apm {
  private readonly t: Uint16Array;
  private idx = 0;
  constructor(
    contexts: number,
    private readonly rate: number,
  ) {
    this.t = new Uint16Array(contexts * 33);
    for (let c = 0; c < contexts; c++) for (let j = 0; j < 33; j++) this.t[c * 33 + j] = squash((j - 16) * 128) * 16;
  }
  refine(pr: number, cx: number): number {
    const s = STRETCH[pr]! + 2048;
    const lo = s >> 7;
    const w = s & 127;
    this.idx = cx * 33 + lo + (w >> 6);
    return (this.t[cx * 33 + lo]! * (128 - w) + this.t[cx * 33 + lo + 1]! * w) >> 11;
  }
  update(bit: number): void {
    const g = (bit << 16) + (bit << this.rate) - bit - bit;
    const v = this.t[this.idx]!;
    this.t[this.idx] = v + ((g - v) >> this.rate);
  }
}

function copyChecked<T extends Uint16Array | Uint8Array | Float64Array>(
  target: T,
  source: ResidualPrior[string] | undefined,
  name: string,
): void {
  if (!source || source.length !== target.length || source.constructor !== target.constructor)
    throw new MismatchError(`codec prior: table ${name} is missing or has the wrong size or type; the prior was made by another wavelm`);
  target.set(source as T);
}

/** The mixers' learning rate: small, as inputs are logits in 1/256 units and errors in 1/4096. */
const MIXER_RATE = 6e-9;

export class ResidualModel {
  private avgFast = 0;
  private avgSlow = 0;
  private last1 = 0;
  private last2 = 0;
  private lastSign = 0;
  private readonly lenFast = new Counters(SCALES * MAX_BITS, 60);
  private readonly lenSlow = new Counters(SCALES * MAX_BITS, 60);
  private readonly lenLast = new Counters(SCALES * MAX_BITS, 60);
  private readonly lenBoth = new Counters(SCALES * SCALES * MAX_BITS, 30);
  private readonly lenMixer = new Mixer(MAX_BITS * 4, MIXER_RATE);
  private readonly lenApm = new Apm(SCALES * MAX_BITS, 7);
  private readonly man1 = new Counters(SCALES * MAX_BITS * 2, 60);
  private readonly man2 = new Counters(MAX_BITS * 4 * MAX_BITS, 60);
  private readonly manMixer = new Mixer(MAX_BITS * 2, MIXER_RATE);
  private readonly signs = new Counters(3 * 4, 60);
  private readonly inputs = new Int32Array(INPUTS);

  constructor(prior?: ResidualPrior) {
    if (!prior) return;
    for (const [name, table] of this.learned()) table.load(prior, name);
  }

  /** The tables a prior carries (the two-scale counters and the SSE stage adapt fast enough from scratch). */
  private learned(): Array<[string, Counters | Mixer]> {
    return [
      ['lenFast', this.lenFast],
      ['lenSlow', this.lenSlow],
      ['lenLast', this.lenLast],
      ['lenMixer', this.lenMixer],
      ['man1', this.man1],
      ['man2', this.man2],
      ['manMixer', this.manMixer],
      ['signs', this.signs],
    ];
  }

  /** The learned state, as a prior for new models. */
  exportPrior(): ResidualPrior {
    const out: ResidualPrior = {};
    for (const [name, table] of this.learned()) table.save(out, name);
    return out;
  }

  /** Codes residual r (encoder) or decodes one (decoder: r is ignored); returns the residual. */
  code(io: BitCoder, r: number): number {
    const u = r < 0 ? -r : r;
    const kf = halfOctave(this.avgFast);
    const ks = halfOctave(this.avgSlow);
    const len = this.codeLength(io, u === 0 ? 0 : 32 - Math.clz32(u), kf, ks);
    const mag = len === 0 ? 0 : this.codeMantissa(io, u, len, kf, ks);
    const value = mag === 0 ? 0 : this.codeSign(io, r < 0, len) ? -mag : mag;
    if (mag === 0) this.lastSign = 0;
    this.avgFast += Math.trunc((mag * 16 - this.avgFast) / 4);
    this.avgSlow += Math.trunc((mag * 16 - this.avgSlow) / 32);
    this.last2 = this.last1;
    this.last1 = mag;
    return value;
  }

  /** The magnitude's bit length, in unary: "longer than len?" for len = 0, 1, ... */
  private codeLength(io: BitCoder, bits: number, kf: number, ks: number): number {
    const kl = halfOctave((this.last1 + this.last2) * 8);
    const coarse = kf >> 3;
    const inp = this.inputs;
    let len = 0;
    while (len < MAX_BITS) {
      const i1 = kf * MAX_BITS + len;
      const i2 = ks * MAX_BITS + len;
      const i3 = kl * MAX_BITS + len;
      const i4 = (kf * SCALES + ks) * MAX_BITS + len;
      inp[0] = STRETCH[this.lenFast.p12(i1)]!;
      inp[1] = STRETCH[this.lenSlow.p12(i2)]!;
      inp[2] = STRETCH[this.lenLast.p12(i3)]!;
      inp[3] = STRETCH[this.lenBoth.p12(i4)]!;
      inp[4] = 256;
      const pm = this.lenMixer.mix(inp, len * 4 + (coarse > 3 ? 3 : coarse));
      const pa = this.lenApm.refine(pm, i1);
      const more = io.code(clampP((pm + 3 * pa) >> 2), bits > len ? 1 : 0);
      this.lenFast.update(i1, more);
      this.lenSlow.update(i2, more);
      this.lenLast.update(i3, more);
      this.lenBoth.update(i4, more);
      this.lenMixer.update(more);
      this.lenApm.update(more);
      if (!more) break;
      len++;
    }
    return len;
  }

  /** The bits below the leading one: the top two modelled, the rest at even odds (they are close to uniform). */
  private codeMantissa(io: BitCoder, u: number, len: number, kf: number, ks: number): number {
    const inp = this.inputs;
    let mag = 1;
    for (let pos = len - 2; pos >= 0; pos--) {
      const top = len - 2 - pos;
      let bit: number;
      if (top < 2) {
        const i1 = ((kf * MAX_BITS + len) << 1) + (top === 0 ? 0 : mag & 1);
        const i2 = (len * 4 + (top === 0 ? 0 : 2 + (mag & 1))) * MAX_BITS + (ks < MAX_BITS ? ks : MAX_BITS - 1);
        inp[0] = STRETCH[this.man1.p12(i1)]!;
        inp[1] = STRETCH[this.man2.p12(i2)]!;
        inp[2] = 0;
        inp[3] = 0;
        inp[4] = 256;
        bit = io.code(clampP(this.manMixer.mix(inp, len * 2 + top)), Math.floor(u / 2 ** pos) & 1);
        this.man1.update(i1, bit);
        this.man2.update(i2, bit);
        this.manMixer.update(bit);
      } else {
        bit = io.code(2048, Math.floor(u / 2 ** pos) & 1);
      }
      mag = mag * 2 + bit;
    }
    return mag;
  }

  /** The sign of a non-zero residual, in the context of the last sign and the length; true for negative. */
  private codeSign(io: BitCoder, negative: boolean, len: number): boolean {
    const si = this.lastSign * 4 + (len > 3 ? 3 : len);
    const neg = io.code(clampP(this.signs.p12(si)), negative ? 1 : 0);
    this.signs.update(si, neg);
    this.lastSign = neg ? 2 : 1;
    return neg === 1;
  }
}

function clampP(p: number): number {
  return p < 1 ? 1 : p > 4095 ? 4095 : p;
}
