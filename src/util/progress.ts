/**
 * Progress bars on stderr with rate and ETA (cli-progress). Silent when stderr is not a TTY or when
 * quiet is set, so piped output and CI logs stay clean. Library code takes an optional
 * ProgressSink; the CLI supplies a bar.
 */
import { createRequire } from 'node:module';
import type CliProgress from 'cli-progress';

export interface ProgressSink {
  /** Sets the total amount of work (same unit as `tick`). */
  start(total: number, label?: string): void;
  /** Reports `amount` more units done, with optional extra fields shown on the bar (loss, bpb...). */
  tick(amount: number, fields?: Record<string, string | number>): void;
  stop(): void;
}

export const silentProgress: ProgressSink = { start() {}, tick() {}, stop() {} };

export interface BarOptions {
  quiet?: boolean;
  unit?: string;
  /** Extra field names shown after the bar, e.g. ['loss', 'bpb']. */
  fields?: string[];
}

/** A progress bar on stderr, or a silent sink when stderr is not a TTY or `quiet` is set. */
export function progressBar(opts: BarOptions = {}): ProgressSink {
  if (opts.quiet || !process.stderr.isTTY) return silentProgress;
  const unit = opts.unit ?? 'items';
  const extra = (opts.fields ?? []).map((f) => ` ${f} {${f}}`).join('');
  // Loaded on the first bar, not at import: every command imports this module, few draw a bar (see bench/startup.ts).
  const cliProgress = createRequire(import.meta.url)('cli-progress') as typeof CliProgress;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `{label} [{bar}] {percentage}% {value}/{total} ${unit} | {rate} ${unit}/s | ETA {eta_formatted}${extra}`,
      hideCursor: true,
      etaBuffer: 50,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let startTime = 0;
  let done = 0;
  let fieldsNow: Record<string, string | number> = {};
  return {
    start(total, label = '') {
      startTime = performance.now();
      done = 0;
      bar.start(total, 0, { label, rate: '0', ...Object.fromEntries((opts.fields ?? []).map((f) => [f, '-'])) });
    },
    tick(amount, fields) {
      done += amount;
      if (fields) fieldsNow = { ...fieldsNow, ...fields };
      const secs = (performance.now() - startTime) / 1000;
      const rate = secs > 0 ? done / secs : 0;
      bar.update(done, { rate: rate >= 100 ? rate.toFixed(0) : rate.toFixed(1), ...fieldsNow });
    },
    stop() {
      bar.stop();
    },
  };
}
