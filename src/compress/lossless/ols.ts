/**
 * Ordinary least squares prediction with exponential forgetting (the first stage of Sac and OptimFROG):
 * the weighted covariance of the inputs and their cross-correlation with the target are updated every
 * sample, and every `interval` samples the ridge-regularised normal equations are solved by an LDL^T
 * factorisation (no square roots, only IEEE +, -, *, /, so every machine gets the same weights).
 */
export class OlsPredictor {
  private readonly cov: Float64Array;
  private readonly xcor: Float64Array;
  private readonly w: Float64Array;
  private readonly factor: Float64Array;
  private readonly diag: Float64Array;
  private readonly tmp: Float64Array;
  private count = 0;

  constructor(
    readonly order: number,
    private readonly lambda: number,
    private readonly ridge: number,
    private readonly interval: number,
  ) {
    this.cov = new Float64Array(order * order);
    this.xcor = new Float64Array(order);
    this.w = new Float64Array(order);
    this.factor = new Float64Array(order * order);
    this.diag = new Float64Array(order);
    this.tmp = new Float64Array(order);
  }

  predict(x: Float64Array): number {
    let s = 0;
    const w = this.w;
    for (let i = 0; i < this.order; i++) s += w[i]! * x[i]!;
    return s;
  }

  update(x: Float64Array, target: number): void {
    const n = this.order;
    const lambda = this.lambda;
    const cov = this.cov;
    for (let i = 0; i < n; i++) {
      const xi = x[i]!;
      const row = i * n;
      for (let j = i; j < n; j++) cov[row + j] = lambda * cov[row + j]! + xi * x[j]!;
      this.xcor[i] = lambda * this.xcor[i]! + xi * target;
    }
    if (++this.count >= this.interval) {
      this.count = 0;
      this.solve();
    }
  }

  /**
   * Solves (cov + ridge / (1 - lambda) * I) w = xcor, keeping the old weights if the system is singular.
   * The ridge is white noise of `ridge` squared sample steps added to the inputs: a shrinkage measured in
   * the signal's quantisation step, so 24-bit audio is not biased more than 16-bit audio of the same SNR.
   */
  private solve(): void {
    const n = this.order;
    const cov = this.cov;
    const L = this.factor;
    const d = this.diag;
    const reg = this.ridge / (1 - this.lambda);
    for (let j = 0; j < n; j++) {
      let dj = cov[j * n + j]! + reg;
      for (let k = 0; k < j; k++) dj -= L[j * n + k]! * L[j * n + k]! * d[k]!;
      if (!(dj > 1e-9)) return;
      d[j] = dj;
      for (let i = j + 1; i < n; i++) {
        let s = cov[j * n + i]!;
        for (let k = 0; k < j; k++) s -= L[i * n + k]! * L[j * n + k]! * d[k]!;
        L[i * n + j] = s / dj;
      }
    }
    const y = this.tmp;
    for (let i = 0; i < n; i++) {
      let s = this.xcor[i]!;
      for (let k = 0; k < i; k++) s -= L[i * n + k]! * y[k]!;
      y[i] = s;
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = y[i]! / d[i]!;
      for (let k = i + 1; k < n; k++) s -= L[k * n + i]! * this.w[k]!;
      this.w[i] = s;
    }
  }
}
