/**
 * Normalised least-mean-squares prediction of a signal from its own past (the cascade stages of Monkey's
 * Audio and Sac): predict with w . h, then move w along h by mu * error / (h . h). The history is a ring
 * buffer stored twice over so every window is contiguous.
 */
export class NlmsStage {
  private readonly w: Float64Array;
  private readonly hist: Float64Array;
  private pos = 0;
  private power = 0;
  private prediction = 0;

  constructor(readonly order: number, private readonly mu: number) {
    this.w = new Float64Array(order);
    this.hist = new Float64Array(order * 2);
  }

  predict(): number {
    const h = this.hist;
    const w = this.w;
    const o = this.pos;
    let s = 0;
    let power = 0;
    for (let i = 0; i < this.order; i++) {
      const x = h[o + i]!;
      s += w[i]! * x;
      power += x * x;
    }
    this.power = power;
    this.prediction = s;
    return s;
  }

  /** Learns from the true value of the predicted sample, then pushes it into the history. */
  update(value: number): void {
    const n = this.order;
    const h = this.hist;
    const w = this.w;
    const o = this.pos;
    const g = (this.mu * (value - this.prediction)) / (this.power + 1e-3 * n + 1);
    for (let i = 0; i < n; i++) w[i] = w[i]! + g * h[o + i]!;
    const p = o === 0 ? n - 1 : o - 1;
    h[p] = value;
    h[p + n] = value;
    this.pos = p;
  }
}

/** Sign-sign LMS on a short history: a cheap last stage that tracks fast changes (Monkey's Audio's). */
export class SignLmsStage {
  private readonly w: Float64Array;
  private readonly hist: Float64Array;
  private pos = 0;
  private prediction = 0;
  constructor(readonly order: number, private readonly mu: number) {
    this.w = new Float64Array(order);
    this.hist = new Float64Array(order * 2);
  }
  predict(): number {
    let s = 0;
    for (let i = 0; i < this.order; i++) s += this.w[i]! * this.hist[this.pos + i]!;
    this.prediction = s;
    return s;
  }
  update(value: number): void {
    const n = this.order;
    const e = value - this.prediction;
    const step = e > 0 ? this.mu : e < 0 ? -this.mu : 0;
    for (let i = 0; i < n; i++) {
      const x = this.hist[this.pos + i]!;
      this.w[i] = this.w[i]! + (x > 0 ? step : x < 0 ? -step : 0);
    }
    const p = this.pos === 0 ? n - 1 : this.pos - 1;
    this.hist[p] = value;
    this.hist[p + n] = value;
    this.pos = p;
  }
}
