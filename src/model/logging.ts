/**
 * A training run's local logs, all in its run directory:
 * - `config.json`: the resolved options, model config, pipeline settings and dataset facts;
 * - `metrics.jsonl`: one JSON object per logged point, `{"step", "wall_time", "<tag>": value...}`
 *   (tags such as `train/loss`, `train/bits_per_byte`, `valid/loss`);
 * - `events.out.tfevents.*`: the same scalars for TensorBoard (and `wandb sync`), see tensorboard.ts;
 * - `loss.html`: the loss curve, redrawn at evaluations and checkpoints, see plot.ts.
 * An optional MetricsSink (W&B, or a recording fake in tests) receives every point too.
 *
 * On resume the metrics file is cut back to the checkpoint's step, so the steps the interrupted run
 * logged after its last checkpoint are not duplicated when the resumed run logs them again.
 */
import { existsSync, readFileSync, renameSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventFileWriter } from './tensorboard.js';
import { writeLossCurve, type Series } from './plot.js';

export type MetricValue = number | boolean | string;

/** Where metrics go besides the local files: W&B, or a fake in tests. Implementations must never throw or block. */
export interface MetricsSink {
  /** Run-level facts (W&B: the run config). */
  config(values: Record<string, MetricValue>): void;
  /** One point of the run's history at a step. */
  log(values: Record<string, number>, step: number): void;
  /** Final values (W&B: the run summary). */
  summary(values: Record<string, number>): void;
  /** Flushes and closes; resolves within a bounded time even when the service is unreachable. */
  finish(): Promise<void>;
}

export interface MetricPoint {
  step: number;
  wall_time: number;
  [tag: string]: number;
}

export interface RunLogOptions {
  /** Resume at this step: metrics after it are dropped and TensorBoard is told to discard them. */
  resumeStep?: number;
  /**
   * Which points logged at exactly resumeStep to keep (default all). The end of a run logs off-cadence
   * points (the last partial interval, a final evaluation) that an uninterrupted longer run would not have.
   */
  keepAtResume?: (p: MetricPoint) => boolean;
  title?: string;
  sink?: MetricsSink;
  /** Which tags the plot draws (default: train and valid bits per byte). */
  plotTags?: { tag: string; name: string; color: string }[];
  /** Y-axis label of the plot. */
  plotLabel?: string;
}

export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, path);
}

/** Reads metrics.jsonl (skipping a torn last line left by a crash). */
export function readMetrics(path: string): MetricPoint[] {
  if (!existsSync(path)) return [];
  const out: MetricPoint[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as MetricPoint);
    } catch {
      // A line cut short by a kill is the only way this happens; the rest is still good.
    }
  }
  return out;
}

export class RunLog {
  readonly dir: string;
  readonly metricsPath: string;
  readonly plotPath: string;
  readonly events: EventFileWriter;
  readonly history: MetricPoint[];
  private readonly sink?: MetricsSink;
  private readonly title: string;
  private readonly plotTags: { tag: string; name: string; color: string }[];
  private readonly plotLabel: string;
  facts: Record<string, string | number> = {};

  constructor(dir: string, opts: RunLogOptions = {}) {
    this.dir = dir;
    this.metricsPath = join(dir, 'metrics.jsonl');
    this.plotPath = join(dir, 'loss.html');
    this.sink = opts.sink;
    this.title = opts.title ?? 'wavelm training';
    this.plotLabel = opts.plotLabel ?? 'bits per byte';
    this.plotTags = opts.plotTags ?? [
      { tag: 'train/bits_per_byte', name: 'train', color: '#1f77b4' },
      { tag: 'valid/bits_per_byte', name: 'valid', color: '#d62728' },
    ];
    if (opts.resumeStep !== undefined) {
      const keepAt = opts.keepAtResume ?? (() => true);
      const kept = readMetrics(this.metricsPath).filter((p) => p.step < opts.resumeStep! || (p.step === opts.resumeStep && keepAt(p)));
      const tmp = `${this.metricsPath}.tmp`;
      writeFileSync(tmp, kept.map((p) => `${JSON.stringify(p)}\n`).join(''));
      renameSync(tmp, this.metricsPath);
      this.history = kept;
    } else {
      writeFileSync(this.metricsPath, '');
      this.history = [];
    }
    // A resumed run gets its own event file (a distinct suffix keeps two starts in one second apart).
    this.events = new EventFileWriter(dir, { suffix: opts.resumeStep !== undefined ? `.resume-${opts.resumeStep}` : '' });
    if (opts.resumeStep !== undefined) this.events.sessionStart(opts.resumeStep + 1);
  }

  writeConfig(config: unknown): void {
    writeJsonAtomic(join(this.dir, 'config.json'), config);
  }

  config(values: Record<string, MetricValue>): void {
    this.sink?.config(values);
  }

  log(step: number, values: Record<string, number>): void {
    const wall = Date.now() / 1000;
    const point: MetricPoint = { step, wall_time: wall, ...values };
    this.history.push(point);
    appendFileSync(this.metricsPath, `${JSON.stringify(point)}\n`);
    this.events.scalars(step, values, wall);
    this.sink?.log(values, step);
  }

  summary(values: Record<string, number>): void {
    this.sink?.summary(values);
  }

  refreshPlot(): void {
    const series: Series[] = this.plotTags.map(({ tag, name, color }) => ({
      name,
      color,
      points: this.history.filter((p) => typeof p[tag] === 'number').map((p) => ({ step: p.step, value: p[tag]! })),
    }));
    writeLossCurve(this.plotPath, this.title, series, this.facts, this.plotLabel);
  }

  async close(): Promise<void> {
    this.refreshPlot();
    await this.sink?.finish();
  }
}
