/**
 * The predictive front end for one channel: an OLS stage over the channel's own past and its partner
 * channel's (the current sample too when the partner is coded first), then a cascade of NLMS stages, each
 * predicting what the stages before it missed. The prediction is the sum of the first k stages, for the
 * k whose sums have erred least lately: a stage that has not caught up (after a transient, or on a
 * signal it cannot model) is left out until it helps, and encoder and decoder choose alike from the past.
 */
import { OlsPredictor } from './ols.js';
import { NlmsStage } from './nlms.js';
import type { LevelSettings } from './levels.js';

/** A channel's recent samples, newest first at values[pos], stored twice over so every window is contiguous. */
export class History {
  readonly values: Float64Array;
  pos = 0;
  constructor(readonly length: number) {
    this.values = new Float64Array(length * 2);
  }
  push(v: number): void {
    const p = this.pos === 0 ? this.length - 1 : this.pos - 1;
    this.values[p] = v;
    this.values[p + this.length] = v;
    this.pos = p;
  }
}

/** Weight of the newest error in each partial sum's running mean (about 64 samples). */
const SUM_ERROR_RATE = 1 / 64;

export class ChannelPredictor {
  private readonly ols: OlsPredictor;
  private readonly stages: NlmsStage[];
  readonly inputs: Float64Array;
  private readonly own: number;
  private readonly cross: number;
  private readonly stagePredictions: Float64Array;
  /** Recent mean absolute error of each partial sum (OLS alone, OLS + stage 1, ...). */
  private readonly sumErrors: Float64Array;
  private readonly sums: Float64Array;
  private olsPrediction = 0;

  constructor(level: LevelSettings, lambda: number, hasPartner: boolean) {
    this.own = level.olsOwn;
    this.cross = hasPartner ? level.olsCross : 0;
    this.inputs = new Float64Array(this.own + this.cross);
    this.ols = new OlsPredictor(this.own + this.cross, lambda, level.olsRidge, level.olsInterval);
    this.stages = level.nlms.map(([order, mu]) => new NlmsStage(order, mu));
    this.stagePredictions = new Float64Array(this.stages.length);
    this.sumErrors = new Float64Array(this.stages.length + 1);
    this.sums = new Float64Array(this.stages.length + 1);
  }

  /** Sets the OLS inputs from the channel's own past and its partner's most recent known samples. */
  setInputs(own: History, partner: History | undefined): void {
    const x = this.inputs;
    const h = own.values;
    let o = own.pos;
    for (let k = 0; k < this.own; k++) x[k] = h[o + k]!;
    if (partner) {
      const hp = partner.values;
      o = partner.pos;
      for (let k = 0; k < this.cross; k++) x[this.own + k] = hp[o + k]!;
    }
  }

  predict(): number {
    let p = this.ols.predict(this.inputs);
    this.olsPrediction = p;
    this.sums[0] = p;
    let best = 0;
    for (let s = 0; s < this.stages.length; s++) {
      const ps = this.stages[s]!.predict();
      this.stagePredictions[s] = ps;
      p += ps;
      this.sums[s + 1] = p;
      if (this.sumErrors[s + 1]! < this.sumErrors[best]!) best = s + 1;
    }
    return this.sums[best]!;
  }

  update(value: number): void {
    for (let k = 0; k < this.sums.length; k++) {
      const err = value - this.sums[k]!;
      this.sumErrors[k] = this.sumErrors[k]! + ((err < 0 ? -err : err) - this.sumErrors[k]!) * SUM_ERROR_RATE;
    }
    this.ols.update(this.inputs, value);
    let e = value - this.olsPrediction;
    for (let s = 0; s < this.stages.length; s++) {
      this.stages[s]!.update(e);
      e -= this.stagePredictions[s]!;
    }
  }
}
