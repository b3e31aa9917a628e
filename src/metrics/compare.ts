/** All metrics of one degraded recording against its reference, as `wavelm metrics` reports them. */
import { MismatchError } from '../util/errors.js';
import { logSpectralDistance, segmentalSnr, siSdr, snr } from './basic.js';
import { STOI_TOO_SHORT, stoi } from './stoi.js';

export interface MetricReport {
  sampleRate: number;
  channels: number;
  /** Samples per channel compared. */
  frames: number;
  snrDb: number;
  segmentalSnrDb: number;
  siSdrDb: number;
  lsdDb: number;
  /** STOI and ESTOI on the mono mix (they are speech-intelligibility measures, defined on one channel). */
  stoi: number;
  estoi: number;
  /** What a reader of the numbers must know (STOI that could not be measured). */
  warnings: string[];
}

export interface CompareOptions {
  /** Skip STOI/ESTOI (the slowest metrics). */
  skipStoi?: boolean;
}

function mono(chs: Float32Array[]): Float64Array {
  const n = chs[0]!.length;
  const out = new Float64Array(n);
  for (const c of chs) for (let i = 0; i < n; i++) out[i]! += c[i]!;
  if (chs.length > 1) for (let i = 0; i < n; i++) out[i]! /= chs.length;
  return out;
}

function concat(chs: Float32Array[]): Float64Array {
  const n = chs[0]!.length;
  const out = new Float64Array(n * chs.length);
  chs.forEach((c, k) => {
    out.set(c, k * n);
  });
  return out;
}

/**
 * Compares planar channels of equal rate and length. SNR and LSD pool all channels; segmental SNR and
 * SI-SDR are channel means.
 */
export function compareAudio(ref: Float32Array[], deg: Float32Array[], sampleRate: number, opts: CompareOptions = {}): MetricReport {
  if (ref.length !== deg.length) throw new MismatchError(`metrics: reference has ${ref.length} channels, degraded has ${deg.length}`);
  const frames = ref[0]?.length ?? 0;
  if (deg.some((c) => c.length !== frames) || ref.some((c) => c.length !== frames)) {
    throw new MismatchError('metrics: reference and degraded channels differ in length; trim them to a common length first');
  }
  const seg = ref.map((r, k) => segmentalSnr(r, deg[k]!, sampleRate));
  const si = ref.map((r, k) => siSdr(r, deg[k]!));
  const lsd = ref.map((r, k) => logSpectralDistance(r, deg[k]!));
  const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
  const mx = opts.skipStoi ? undefined : mono(ref);
  const my = opts.skipStoi ? undefined : mono(deg);
  const intelligibility = mx && my ? stoi(mx, my, sampleRate) : NaN;
  const warnings =
    intelligibility === STOI_TOO_SHORT
      ? [
          `STOI and ESTOI need 30 non-silent frames (about 0.4 s of speech at 10 kHz once frames 40 dB below the loudest are ` +
            `dropped) and the reference has fewer: both are pystoi's placeholder ${STOI_TOO_SHORT}, not a measurement`,
        ]
      : [];
  return {
    sampleRate,
    channels: ref.length,
    frames,
    snrDb: snr(concat(ref), concat(deg)),
    segmentalSnrDb: mean(seg),
    siSdrDb: mean(si),
    lsdDb: mean(lsd),
    stoi: intelligibility,
    estoi: mx && my ? stoi(mx, my, sampleRate, { extended: true }) : NaN,
    warnings,
  };
}
