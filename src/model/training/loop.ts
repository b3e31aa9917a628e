/**
 * The training loop (docs/training.md): each step draws a seeded batch and takes one Adam update at the
 * schedule's rate; every logEvery steps the interval's means are logged, every evalEvery steps the fixed
 * validation batches are evaluated, every checkpointEvery steps a checkpoint is written, and an aborted
 * signal stops it after the current step. The state it keeps (step, sampler RNG, the open logging interval,
 * the last losses) is what a checkpoint records, so a resumed loop continues exactly where this one stopped.
 */
import type { OptimizerConfig, StepResult, Trainer } from '../api.js';
import { BatchSampler } from '../batches.js';
import { restoreTrainer, writeCheckpoint, type LogAccumulator } from '../checkpoint.js';
import type { RunLog } from '../logging.js';
import { learningRateAt } from '../schedule.js';
import type { ProgressSink } from '../../util/progress.js';
import type { OptionLabel } from './options.js';
import { bitsPerByte, type TrainingPlan } from './plan.js';
import { TrainingRng } from './rng.js';

export interface EvalPoint {
  step: number;
  loss: number;
  bitsPerByte: number;
}

export interface LoopEnv {
  trainer: Trainer;
  progress: ProgressSink;
  signal?: AbortSignal;
  notice: (message: string) => void;
  label: OptionLabel;
}

/** How the loop ended. */
export interface LoopOutcome {
  step: number;
  startStep: number;
  interrupted: boolean;
  lastLoss: number | null;
  lastValidLoss: number | null;
  evals: EvalPoint[];
  /** Seconds spent in training steps, summed over the run's resumes. */
  trainSeconds: number;
  /** Training tokens per second since this process started training. */
  tokensPerSecond: number;
  checkpoint: string | null;
}

const emptyInterval = (): LogAccumulator => ({ loss: 0, gradNorm: 0, count: 0 });

/** A macrotask turn: a single-threaded trainer resolves at once, and without it Ctrl-C and timers would never run. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Where a loop starts: step 0 with the seed's RNG, or everything a resumed run's checkpoint recorded. */
export interface LoopStart {
  step: number;
  rng: TrainingRng;
  interval: LogAccumulator;
  trainSeconds: number;
  lastLoss: number | null;
  lastValidLoss: number | null;
  checkpoint: string | null;
}

/** The loop's starting state; a resumed run's trainer gets the checkpoint's parameters and Adam state. */
export function loopStart(plan: TrainingPlan, trainer: Trainer, notice: (message: string) => void): LoopStart {
  if (!plan.resumed) {
    return {
      step: 0,
      rng: new TrainingRng(plan.training.seed),
      interval: emptyInterval(),
      trainSeconds: 0,
      lastLoss: null,
      lastValidLoss: null,
      checkpoint: null,
    };
  }
  const { checkpoint, state } = plan.resumed;
  restoreTrainer(trainer, checkpoint);
  notice(`resuming ${plan.outDir} at step ${state.step} from ${checkpoint.dir}`);
  return {
    step: state.step,
    rng: TrainingRng.fromState(state.data.rng),
    interval: { ...state.log },
    trainSeconds: state.trainSeconds,
    lastLoss: state.lastLoss,
    lastValidLoss: state.lastValidLoss,
    checkpoint: checkpoint.dir,
  };
}

export class TrainingLoop {
  private step: number;
  private readonly rng: TrainingRng;
  private interval: LogAccumulator;
  private trainSeconds: number;
  private lastLoss: number | null;
  private lastValidLoss: number | null;
  private lastCheckpoint: string | null;
  private checkpointStep: number;
  private readonly evals: EvalPoint[];
  private evalStep: number;
  private readonly startStep: number;
  private readonly startSeconds: number;
  private readonly sampler: BatchSampler;
  private readonly optimizer: OptimizerConfig;
  private readonly tokensPerStep: number;
  /** The current logging interval's wall-clock start (evaluation and checkpoint time left out) and tokens. */
  private intervalStart = performance.now();
  private intervalTokens = 0;
  private tokensPerSecond = 0;

  constructor(
    private readonly plan: TrainingPlan,
    private readonly env: LoopEnv,
    private readonly log: RunLog,
    start: LoopStart,
  ) {
    this.step = start.step;
    this.rng = start.rng;
    this.interval = start.interval;
    this.trainSeconds = start.trainSeconds;
    this.lastLoss = start.lastLoss;
    this.lastValidLoss = start.lastValidLoss;
    this.lastCheckpoint = start.checkpoint;
    this.checkpointStep = plan.resumed ? start.step : -1;
    this.startStep = start.step;
    this.startSeconds = start.trainSeconds;
    // A resumed run's log holds the evaluations up to its checkpoint.
    this.evals = log.history
      .filter((p) => typeof p['valid/loss'] === 'number')
      .map((p) => ({ step: p.step, loss: p['valid/loss']!, bitsPerByte: p['valid/bits_per_byte']! }));
    this.evalStep = this.evals.length > 0 ? this.evals[this.evals.length - 1]!.step : -1;
    const { training } = plan;
    this.sampler = new BatchSampler(plan.data.train, training.batchSize, training.seqLen, this.rng);
    const { learningRate, clipNorm, normalizeByLength } = training;
    this.optimizer = {
      learningRate,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      clipNorm: clipNorm > 0 ? clipNorm : undefined,
      normalizeByLength,
    };
    this.tokensPerStep = training.batchSize * training.seqLen;
  }

  /** Trains to the run's steps or until the signal; then the final evaluation and checkpoint. */
  async run(): Promise<LoopOutcome> {
    const { steps } = this.plan.settings.options;
    const { progress, notice, label } = this.env;
    progress.start(steps, 'train');
    if (this.step > 0) progress.tick(Math.min(this.step, steps));
    if (this.step >= steps)
      notice(
        `the checkpoint is at step ${this.step}, ${label('steps')} is ${steps}: nothing to train (raise ${label('steps')} to continue)`,
      );
    let interrupted = false;
    while (this.step < steps) {
      await nextTurn();
      if (this.aborted()) {
        interrupted = true;
        break;
      }
      await this.trainStep();
      await this.evaluateAndCheckpointOnCadence();
      if (this.aborted()) {
        interrupted = true;
        break;
      }
    }
    progress.stop();
    return this.finish(interrupted);
  }

  private aborted(): boolean {
    return this.env.signal?.aborted === true;
  }

  private async trainStep(): Promise<void> {
    const batch = this.sampler.next();
    const t0 = performance.now();
    this.optimizer.learningRate = learningRateAt(this.step + 1, this.plan.settings.schedule);
    const r = await this.env.trainer.step(batch, this.optimizer);
    const seconds = (performance.now() - t0) / 1000;
    this.trainSeconds += seconds;
    this.step++;
    this.intervalTokens += this.tokensPerStep;
    this.lastLoss = r.loss;
    this.interval.loss += r.loss;
    this.interval.gradNorm += r.gradNorm;
    this.interval.count++;
    if (!Number.isFinite(r.loss))
      this.env.notice(
        `step ${this.step}: the loss is ${r.loss}; lower ${this.env.label('learningRate')} or set ${this.env.label('clipNorm')}`,
      );
    const { logEvery, steps } = this.plan.settings.options;
    if (this.step % logEvery === 0 || this.step === steps) this.logInterval();
    this.tickProgress(r, seconds);
  }

  /** Logs the interval's means; a final partial interval stays open, so a resumed run averages it like an uninterrupted one. */
  private logInterval(): void {
    const loss = this.interval.loss / this.interval.count;
    const gradNorm = this.interval.gradNorm / this.interval.count;
    const secs = (performance.now() - this.intervalStart) / 1000;
    this.tokensPerSecond = secs > 0 ? this.intervalTokens / secs : 0;
    const bpb = bitsPerByte(this.plan, loss);
    const point: Record<string, number> = {
      'train/loss': loss,
      'train/bits_per_byte': bpb,
      'train/grad_norm': gradNorm,
      'train/tokens_per_s': this.tokensPerSecond,
      'train/learning_rate': this.optimizer.learningRate,
    };
    if (this.plan.settings.pipeline.bitDepth === 16) point['train/bits_per_sample'] = bpb * 2;
    this.log.log(this.step, point);
    if (this.step % this.plan.settings.options.logEvery === 0) this.interval = emptyInterval();
    this.intervalStart = performance.now();
    this.intervalTokens = 0;
  }

  private tickProgress(r: StepResult, stepSeconds: number): void {
    const tokensPerSecond = this.tokensPerSecond || this.tokensPerStep / Math.max(1e-9, stepSeconds);
    this.env.progress.tick(1, {
      loss: r.loss.toFixed(2),
      bpb: bitsPerByte(this.plan, r.loss).toFixed(3),
      tok_s: Math.round(tokensPerSecond),
    });
  }

  /** Evaluation and checkpoint time is left out of the logging interval: tokens/s measures training only. */
  private async evaluateAndCheckpointOnCadence(): Promise<void> {
    const pauseStart = performance.now();
    const { evalEvery, checkpointEvery } = this.plan.settings.options;
    if (evalEvery > 0 && this.step % evalEvery === 0) {
      await this.evaluate();
      this.evalStep = this.step;
      this.log.refreshPlot();
    }
    if (checkpointEvery > 0 && this.step % checkpointEvery === 0) {
      this.checkpoint();
      this.log.refreshPlot();
    }
    this.intervalStart += performance.now() - pauseStart;
  }

  /** The mean loss over the fixed validation batches, logged at the current step. */
  private async evaluate(): Promise<void> {
    const { evalSet } = this.plan;
    if (evalSet.length === 0) return;
    let sum = 0;
    let rows = 0;
    for (const b of evalSet) {
      sum += (await this.env.trainer.evaluate(b)) * b.batchSize;
      rows += b.batchSize;
    }
    const loss = sum / rows;
    this.lastValidLoss = loss;
    const bpb = bitsPerByte(this.plan, loss);
    const point: Record<string, number> = { 'valid/loss': loss, 'valid/bits_per_byte': bpb };
    if (this.plan.settings.pipeline.bitDepth === 16) point['valid/bits_per_sample'] = bpb * 2;
    this.log.log(this.step, point);
    this.evals.push({ step: this.step, loss, bitsPerByte: bpb });
  }

  private checkpoint(): void {
    const { outDir, settings, training, data } = this.plan;
    const { trainer } = this.env;
    this.lastCheckpoint = writeCheckpoint(
      outDir,
      trainer,
      {
        format: 'wavelm-checkpoint',
        version: 1,
        step: this.step,
        model: settings.model,
        numParams: trainer.numParams,
        pipeline: settings.pipeline,
        training,
        data: {
          fingerprint: data.fingerprint,
          trainChunks: data.train.numChunks,
          validChunks: data.valid.numChunks,
          rng: this.rng.getState(),
        },
        log: { ...this.interval },
        lastLoss: this.lastLoss,
        lastValidLoss: this.lastValidLoss,
        trainSeconds: this.trainSeconds,
        createdAt: new Date().toISOString(),
      },
      settings.options.keepCheckpoints,
    );
    this.checkpointStep = this.step;
  }

  /** The last evaluation (unless interrupted) and checkpoint, the summary, and the logs closed. */
  private async finish(interrupted: boolean): Promise<LoopOutcome> {
    const { log } = this;
    const { notice, label } = this.env;
    if (!interrupted && this.evalStep !== this.step && this.step > this.startStep) await this.evaluate();
    if (this.checkpointStep !== this.step) this.checkpoint();
    if (!interrupted) log.summary({ 'train/final_loss': this.lastLoss ?? NaN, 'train/total_steps': this.step });
    await log.close();
    if (interrupted)
      notice(`interrupted at step ${this.step}; checkpoint written to ${this.lastCheckpoint}; continue with ${label('resume')}`);
    const seconds = this.trainSeconds - this.startSeconds;
    return {
      step: this.step,
      startStep: this.startStep,
      interrupted,
      lastLoss: this.lastLoss,
      lastValidLoss: this.lastValidLoss,
      evals: this.evals,
      trainSeconds: this.trainSeconds,
      tokensPerSecond: this.trainSeconds > 0 ? ((this.step - this.startStep) * this.tokensPerStep) / Math.max(1e-9, seconds) : 0,
      checkpoint: this.lastCheckpoint,
    };
  }
}
