/** What every command shares: global flags, output in text or JSON, and error-to-exit-code mapping. */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Command } from './commander.js';
import { exitCodeFor, NotFoundError, renameOptions, WavelmError } from '../util/errors.js';
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

/** Prints a result: JSON on stdout with --json (its `warnings`, if any, as `warn` prints them), otherwise the text rendering. */
export function emit(cmd: Command, result: unknown, text: () => string): void {
  if (globals(cmd).json) process.stdout.write(`${JSON.stringify(withWarningFlags(cmd, result))}\n`);
  else {
    const s = text();
    if (s.length > 0) process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
  }
}

/**
 * Warnings go to stderr (unless --quiet); they are also part of JSON results where commands collect them.
 * A warning is plain text, so it carries no option names as errors do (WavelmError.options): the library
 * options in it that are camelCase (`allowTruncated`, never an ordinary word) are shown as flags.
 */
export function warn(cmd: Command, message: string): void {
  if (!globals(cmd).quiet) process.stderr.write(`warning: ${warningText(cmd, message)}\n`);
}

function warningText(cmd: Command, message: string): string {
  const flags = optionFlags(cmd);
  return renameOptions(message, flags.camelCase, (name) => flags.byName.get(name));
}

/** `result` with a `warnings` list of strings in the words `warn` uses; anything else as it is. */
function withWarningFlags(cmd: Command, result: unknown): unknown {
  if (typeof result !== 'object' || result === null || !('warnings' in result)) return result;
  const { warnings } = result;
  if (!Array.isArray(warnings) || !warnings.every((w) => typeof w === 'string')) return result;
  return { ...result, warnings: warnings.map((w: string) => warningText(cmd, w)) };
}

/** Wraps a command action: typed errors become one line on stderr, with the command's flags for the options they name, and an exit code. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      const typed = typedSystemError(err);
      const cmd = args[args.length - 1]; // commander passes the command last
      reportError(typed, cmd instanceof Command ? cmd : undefined);
      process.exitCode = exitCodeFor(typed);
    }
  };
}

/** Library option names that a command's flags set under another name, by command (see `setsOptions`). */
const OTHER_NAMES = new WeakMap<Command, ReadonlyMap<string, string>>();

/**
 * Declares the library options that `cmd`'s flags set where the option's name is not the flag's
 * attribute name (`{ '--sample': 'sampleSize' }`), so that messages naming them show the flag.
 */
export function setsOptions<C extends Command>(cmd: C, names: Record<string, string>): C {
  OTHER_NAMES.set(cmd, new Map(Object.entries(names).map(([flag, name]) => [name, flag])));
  return cmd;
}

interface OptionFlags {
  /** Library option name -> flag. */
  byName: ReadonlyMap<string, string>;
  /** The names above with a capital letter, which no ordinary word has. */
  camelCase: readonly string[];
}

const FLAGS = new WeakMap<Command, OptionFlags>();

/**
 * How `cmd` spells each library option: the flag whose attribute name (`--num-shards`: numShards) or
 * declared name (`setsOptions`) it is, on the command, then its parents (--json), then any command of
 * the program, for a hint that points at another one (a missing shard: `dataset build --shard-index`).
 */
function optionFlags(cmd: Command): OptionFlags {
  const known = FLAGS.get(cmd);
  if (known) return known;
  const byName = new Map<string, string>();
  const add = (c: Command): void => {
    for (const [name, flag] of OTHER_NAMES.get(c) ?? []) if (!byName.has(name)) byName.set(name, flag);
    for (const o of c.options)
      if (o.long !== undefined && !o.negate && !byName.has(o.attributeName())) byName.set(o.attributeName(), o.long);
  };
  let root = cmd;
  for (let c: Command | null = cmd; c; c = c.parent) {
    add(c);
    root = c;
  }
  const all = (c: Command): void => {
    add(c);
    for (const sub of c.commands) all(sub);
  };
  all(root);
  const flags = { byName, camelCase: [...byName.keys()].filter((n) => /[A-Z]/.test(n)) };
  FLAGS.set(cmd, flags);
  return flags;
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

/** An error as one line on stderr; a typed error's options are named by `cmd`'s flags where it has them. */
export function reportError(err: unknown, cmd?: Command): void {
  if (err instanceof WavelmError) {
    const flags = cmd && optionFlags(cmd);
    process.stderr.write(`wavelm: ${flags ? err.messageWith((name) => flags.byName.get(name)) : err.message}\n`);
  } else if (err instanceof Error) process.stderr.write(`wavelm: internal error: ${err.stack ?? err.message}\n`);
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
