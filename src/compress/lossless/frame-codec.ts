/**
 * Codes interleaved integer PCM frames losslessly: per sample, the channel's predictor guesses the value,
 * the residual model codes the difference, and both learn from the true value. Channels of a frame are
 * coded in order, so each channel after the first predicts from its partner's current sample too.
 * One function serves encoder and decoder through BitCoder, so the two cannot drift apart.
 */
import { BitDecoder, BitEncoder, type BitCoder } from './binary-coder.js';
import { ChannelPredictor, History } from './channel-predictor.js';
import type { LevelSettings } from './levels.js';
import { ResidualModel, type ResidualPrior } from './residual-model.js';

export interface PcmBlock {
  /** Interleaved samples, frames * channels. */
  samples: Int32Array;
  channels: number;
  bitsPerSample: number;
}

/** A channel's code meaning "every sample equals the previous channel's" (dual mono stored as stereo). */
export const COPY_OF_PREVIOUS = 255;

/**
 * How each channel is coded: COPY_OF_PREVIOUS when it repeats the channel before it sample for sample,
 * else its trailing zero bits common to every sample ("wasted bits", as FLAC calls them), so 8-bit audio
 * stored in 16-bit words, or 16-bit audio in 24-bit words, is coded at its real width.
 */
export function channelCodes(samples: Int32Array, channels: number): number[] {
  const or = new Array<number>(channels).fill(0);
  const differs = new Array<boolean>(channels).fill(false);
  for (let i = 0; i < samples.length; i++) {
    const c = i % channels;
    or[c] = or[c]! | samples[i]!;
    if (c > 0 && samples[i] !== samples[i - 1]) differs[c] = true;
  }
  return or.map((v, c) => (c > 0 && !differs[c] ? COPY_OF_PREVIOUS : v === 0 ? 0 : 31 - Math.clz32(v & -v)));
}

/** How a run gets its residual models: one per channel from a prior, or one shared model (training a prior). */
export type ModelSource = ResidualPrior | undefined | ((channel: number) => ResidualModel);

/** Codes samples >> codes[c] of each channel c, or nothing for a copy (the caller stores the codes, see channelCodes). */
export function run(
  io: BitCoder,
  block: PcmBlock,
  codes: readonly number[],
  level: LevelSettings,
  lambda: number,
  decoding: boolean,
  source?: ModelSource,
): void {
  const { samples, channels, bitsPerSample } = block;
  const frames = samples.length / channels;
  const histLen = Math.max(level.olsOwn, level.olsCross);
  const histories = Array.from({ length: channels }, () => new History(histLen));
  const partnerOf = (c: number): number | undefined => (channels === 1 ? undefined : c === 0 ? 1 : c - 1);
  const predictors = Array.from({ length: channels }, (_, c) => new ChannelPredictor(level, lambda, partnerOf(c) !== undefined));
  const models = Array.from({ length: channels }, (_, c) => (typeof source === 'function' ? source(c) : new ResidualModel(source)));
  for (let t = 0; t < frames; t++) {
    for (let c = 0; c < channels; c++) {
      const i = t * channels + c;
      if (codes[c] === COPY_OF_PREVIOUS) {
        if (decoding) samples[i] = samples[i - 1]!;
        histories[c]!.push(histories[c - 1]!.values[histories[c - 1]!.pos]!);
        continue;
      }
      const shift = codes[c]!;
      const lo = -(2 ** (bitsPerSample - 1 - shift));
      const hi = 2 ** (bitsPerSample - 1 - shift) - 1;
      const pred = predictors[c]!;
      const partner = partnerOf(c);
      pred.setInputs(histories[c]!, partner === undefined ? undefined : histories[partner]);
      let guess = Math.round(pred.predict());
      if (guess < lo) guess = lo;
      else if (guess > hi) guess = hi;
      const r = models[c]!.code(io, decoding ? 0 : wrap((samples[i]! >> shift) - guess, lo, hi));
      const value = wrap(guess + r, lo, hi);
      if (decoding) samples[i] = value * 2 ** shift;
      pred.update(value);
      histories[c]!.push(value);
    }
  }
}

/**
 * Wraps a difference into the sample width's range, so a residual never needs more bits than a sample
 * (32-bit audio's differences would otherwise need 33); the decoder's wrap of guess + r undoes it.
 */
function wrap(v: number, lo: number, hi: number): number {
  const span = hi - lo + 1;
  return v > hi ? v - span : v < lo ? v + span : v;
}

export function encodePcm(
  block: PcmBlock,
  codes: readonly number[],
  level: LevelSettings,
  lambda: number,
  prior?: ResidualPrior,
): Uint8Array {
  const enc = new BitEncoder(Math.max(4096, block.samples.length));
  run(enc, block, codes, level, lambda, false, prior);
  return enc.finish();
}

/** Decodes `frames` frames into a new block; `name` is for messages. */
export function decodePcm(
  payload: Uint8Array,
  frames: number,
  channels: number,
  bitsPerSample: number,
  codes: readonly number[],
  level: LevelSettings,
  lambda: number,
  name = 'archive',
  prior?: ResidualPrior,
): Int32Array {
  const samples = new Int32Array(frames * channels);
  run(new BitDecoder(payload, 0, payload.length, name), { samples, channels, bitsPerSample }, codes, level, lambda, true, prior);
  return samples;
}
