/**
 * Compressing or restoring many files with one set of workers. The workers start once, and up to
 * `concurrency` files are in flight at a time, so files of one or two chunks (most recordings in
 * spoken-word datasets: FSDD's average 1.3 chunks) still keep every worker busy. A file that fails is
 * reported and the others go on; nothing is written for it.
 */
import { statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { collectAudioFiles, findFiles } from '../tokens/files.js';
import { ConfigError, NotFoundError } from '../util/errors.js';
import { silentProgress, type ProgressSink } from '../util/progress.js';

export interface FilePlan {
  input: string;
  output: string;
}

export interface FileOutcome<T> extends FilePlan {
  result?: T;
  error?: Error;
}

/**
 * Runs `fn` on every plan, at most `concurrency` at once, and returns the outcomes in plan order. A
 * rejection becomes that file's `error`; `onDone` is called as each file finishes.
 */
export async function forEachFile<T>(
  plans: readonly FilePlan[],
  concurrency: number,
  fn: (plan: FilePlan) => Promise<T>,
  onDone?: (outcome: FileOutcome<T>) => void,
): Promise<FileOutcome<T>[]> {
  const out: FileOutcome<T>[] = new Array<FileOutcome<T>>(plans.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < plans.length) {
      const i = next++;
      const plan = plans[i]!;
      let outcome: FileOutcome<T>;
      try {
        outcome = { ...plan, result: await fn(plan) };
      } catch (e) {
        outcome = { ...plan, error: e instanceof Error ? e : new Error(String(e)) };
      }
      out[i] = outcome;
      onDone?.(outcome);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, plans.length)) }, lane));
  return out;
}

/** What codeFiles needs of a runner: how many files to keep in flight, and how to release it. */
export interface FileRunner {
  readonly workers: number;
  close(): Promise<void>;
}

/**
 * forEachFile on a runner opened for the run (a ChunkRunner's predictors built once, or a lossless
 * SegmentRunner's threads), closed at the end, with `workers` files in flight; `progress` counts files.
 * Returns the outcomes and the seconds taken.
 */
export async function codeFiles<R extends FileRunner, T>(
  opening: Promise<R>,
  plans: readonly FilePlan[],
  fn: (plan: FilePlan, runner: R) => Promise<T>,
  progress: ProgressSink = silentProgress,
  label = '',
): Promise<{ outcomes: FileOutcome<T>[]; seconds: number }> {
  const runner = await opening;
  const t0 = performance.now();
  try {
    progress.start(plans.length, label);
    const outcomes = await forEachFile(
      plans,
      runner.workers,
      (plan) => fn(plan, runner),
      () => progress.tick(1),
    );
    return { outcomes, seconds: (performance.now() - t0) / 1000 };
  } finally {
    progress.stop();
    await runner.close();
  }
}

export interface PlanOptions {
  /** What a directory input contributes: its audio files ('audio') or its files ending in this suffix (e.g. '.wlm'). */
  find: 'audio' | string;
  /** Output name for an input's path or, under --out-dir, its inner path (e.g. add '.wlm', or strip it); `input` is the file itself. */
  outputFor: (name: string, input: string) => string;
  /** Write every output under this directory instead: directory inputs keep their inner paths, files their names. */
  outDir?: string;
}

/**
 * Expands inputs (files as given, directories searched recursively) into input/output pairs. Two inputs
 * that would write the same output, or an output that is an input, are a ConfigError before anything runs.
 */
export function planFiles(inputs: readonly string[], opts: PlanOptions): FilePlan[] {
  const plans: FilePlan[] = [];
  for (const input of inputs) {
    let dir: boolean;
    try {
      dir = statSync(input).isDirectory();
    } catch (err) {
      throw new NotFoundError(`${input}: no such file or directory`, { subject: input, cause: err });
    }
    const files = dir
      ? opts.find === 'audio'
        ? collectAudioFiles([input])
        : findFiles(input, (name) => name.endsWith(opts.find))
      : [input];
    for (const f of files) {
      const name = opts.outputFor(dir ? relative(input, f) : basename(f), f);
      plans.push({ input: f, output: opts.outDir ? join(opts.outDir, name) : opts.outputFor(f, f) });
    }
  }
  const seen = new Map<string, string>();
  const ins = new Set(plans.map((p) => p.input));
  for (const p of plans) {
    const other = seen.get(p.output);
    if (other !== undefined)
      throw new ConfigError(`${other} and ${p.input} would both be written to ${p.output}: give them different names or separate runs`, {
        subject: p.output,
      });
    if (ins.has(p.output))
      throw new ConfigError(`${p.output} is both an input and an output: choose another outDir`, {
        subject: p.output,
        options: ['outDir'],
      });
    seen.set(p.output, p.input);
  }
  return plans;
}
