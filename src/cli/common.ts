/** What every command shares: global flags, output in text or JSON, and error-to-exit-code mapping. */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { exitCodeFor, NotFoundError, WavelmError } from '../util/errors.js';
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
  if (globals(cmd).json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    const s = text();
    if (s.length > 0) process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
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
      const typed = typedSystemError(err);
      reportError(typed);
      process.exitCode = exitCodeFor(typed);
    }
  };
}

/**
 * Checks, before any work, that `path` can be created: its folder exists, is a folder and is writable.
 * `flag` names the option in the message (e.g. `--csv`), so that a long run never ends on a missing folder.
 */
export function checkWritable(path: string, flag: string): void {
  const folder = dirname(resolve(path));
  let isFolder: boolean;
  try {
    isFolder = statSync(folder).isDirectory();
  } catch {
    throw new NotFoundError(`${flag} ${path}: the folder ${dirname(path)} does not exist; create it first`, { subject: path });
  }
  if (!isFolder) throw new NotFoundError(`${flag} ${path}: ${dirname(path)} is not a folder`, { subject: path });
  try {
    accessSync(folder, constants.W_OK);
  } catch (err) {
    throw new NotFoundError(`${flag} ${path}: cannot write in ${dirname(path)} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, {
      subject: path,
      cause: err,
    });
  }
}

const FILE_SYSTEM_CODES = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'EPERM', 'EROFS']);

/**
 * A file-system error Node raised where no check caught it first (a folder removed mid-run, a path that
 * is a folder) as a NotFoundError naming the path: one line and exit code 3 instead of a stack trace.
 */
export function typedSystemError(err: unknown): unknown {
  const e = err as NodeJS.ErrnoException;
  if (!(err instanceof Error) || typeof e.syscall !== 'string' || !FILE_SYSTEM_CODES.has(e.code ?? '')) return err;
  return new NotFoundError(`${e.path ?? 'a file'}: cannot ${e.syscall} (${e.code})`, { subject: e.path, cause: err });
}

export function reportError(err: unknown): void {
  if (err instanceof WavelmError) process.stderr.write(`wavelm: ${err.message}\n`);
  else if (err instanceof Error) process.stderr.write(`wavelm: internal error: ${err.stack ?? err.message}\n`);
  else process.stderr.write(`wavelm: ${String(err)}\n`);
}

/** The command's name as typed, e.g. `wavelm dataset build`. */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Commander's error message as one line: `error: unknown command 'x'\n(Did you mean y?)` -> `unknown command 'x'; did you mean y?`. */
function usageLine(message: string): string {
  return message
    .trim()
    .replace(/^error: /, '')
    .replace(/\s*\(Did you mean (.+)\?\)$/, '; did you mean $1?')
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\.$/, '');
}

/**
 * Commander's errors (unknown option or command, missing or invalid argument) on every command of the tree:
 * one line naming where the options are listed, and a thrown CommanderError instead of process.exit, which
 * main maps to exit code 2. Help and --version throw one with exit code 0.
 */
export function reportUsageErrors(cmd: Command): void {
  const path = commandPath(cmd);
  cmd.exitOverride().configureOutput({ outputError: (message, write) => write(`wavelm: ${usageLine(message)} (see '${path} --help')\n`) });
  for (const sub of cmd.commands) reportUsageErrors(sub);
}
