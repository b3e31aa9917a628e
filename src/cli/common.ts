/** What every command shares: global flags, output in text or JSON, and error-to-exit-code mapping. */
import type { Command } from 'commander';
import { exitCodeFor, WavelmError } from '../util/errors.js';
import { progressBar, type BarOptions, type ProgressSink } from '../util/progress.js';

export interface GlobalOptions {
  json?: boolean;
  quiet?: boolean;
}

/** The global options (--json, --quiet) as seen from a subcommand. */
export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

/** A progress bar that honours --quiet and --json (JSON consumers want clean stderr too). */
export function barFor(cmd: Command, opts: Omit<BarOptions, 'quiet'> = {}): ProgressSink {
  const g = globals(cmd);
  return progressBar({ ...opts, quiet: g.quiet === true || g.json === true });
}

/** Prints a result: JSON on stdout with --json, otherwise the text rendering. */
export function emit(cmd: Command, result: unknown, text: () => string): void {
  if (globals(cmd).json) process.stdout.write(JSON.stringify(result) + '\n');
  else {
    const s = text();
    if (s.length > 0) process.stdout.write(s.endsWith('\n') ? s : s + '\n');
  }
}

/** Warnings go to stderr (unless --quiet); they are also part of JSON results where commands collect them. */
export function warn(cmd: Command, message: string): void {
  if (!globals(cmd).quiet) process.stderr.write(`warning: ${message}\n`);
}

/** Wraps a command action: typed errors become one line on stderr and an exit code. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      reportError(err);
      process.exitCode = exitCodeFor(err);
    }
  };
}

export function reportError(err: unknown): void {
  if (err instanceof WavelmError) process.stderr.write(`wavelm: ${err.message}\n`);
  else if (err instanceof Error) process.stderr.write(`wavelm: internal error: ${err.stack ?? err.message}\n`);
  else process.stderr.write(`wavelm: ${String(err)}\n`);
}

/** Parses a positive integer option, with an error that names the option. */
export function intOption(name: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n)) throw new Error(`${name} must be an integer, got '${v}'`);
    return n;
  };
}

export function floatOption(name: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got '${v}'`);
    return n;
  };
}
