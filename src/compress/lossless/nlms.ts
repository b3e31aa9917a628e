/**
 * Normalised least-mean-squares prediction of a signal from its own past (the cascade stages of Monkey's
 * Audio and Sac): predict with w . h, then move w along h by mu * error / (h . h). The history is a ring
 * buffer stored twice over so every window is contiguous. Learning from one sample and predicting the
 * next share one pass over the weights.
 */
export class NlmsStage {
  private readonly w: Float64Array;
  private readonly hist: Float64Array;
  private pos = 0;
  /** h . h of the current window. */
  private power = 0;
  private prediction = 0;

  constructor(
    readonly order: number,
    private readonly mu: number,
  ) {
    this.w = new Float64Array(order);
    this.hist = new Float64Array(order * 2);
  }

  /** The prediction of the next value (computed when the last one was learned). */
  predict(): number {
    return this.prediction;
  }

  /** Learns from the true value of the predicted sample, pushes it into the history and predicts the next. */
  update(value: number): void {
    const n = this.order;
    const h = this.hist;
    const w = this.w;
    const o = this.pos;
    const g = (this.mu * (value - this.prediction)) / (this.power + 1e-3 * n + 1);
    // The new window is [value, h[o], ..., h[o + n - 2]]: weight i learns from h[o + i] and predicts with the window's i-th value.
    const w0 = w[0]! + g * h[o]!;
    w[0] = w0;
    let s = w0 * value;
    let power = value * value;
    for (let i = 1; i < n; i++) {
      const wi = w[i]! + g * h[o + i]!;
      w[i] = wi;
      const x = h[o + i - 1]!;
      s += wi * x;
      power += x * x;
    }
    const p = o === 0 ? n - 1 : o - 1;
    h[p] = value;
    h[p + n] = value;
    this.pos = p;
    this.power = power;
    this.prediction = s;
  }
}
