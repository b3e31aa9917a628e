/**
 * Finding audio files and splitting them into train/valid/test (the seed's data_paths). A file's
 * split depends only on a hash of the seed and its relative path (or group key), so assignments are
 * deterministic, file-level, and stay put when other files are added or removed.
 */
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep, dirname } from 'node:path';
import { isAudioPath } from '../audio/index.js';
import { ConfigError, NotFoundError } from '../util/errors.js';

function walk(dir: string, out: string[], accept: (name: string) => boolean): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    throw new NotFoundError(`${dir}: cannot read directory (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { subject: dir, cause: err });
  }
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    // Directory entries carry their type, so only symbolic links need a stat (one per link, not per file).
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      try {
        const st = statSync(p);
        isDir = st.isDirectory();
        isFile = st.isFile();
      } catch {
        continue; // a dangling link is not an audio file
      }
    }
    if (isDir) walk(p, out, accept);
    else if (isFile && accept(e.name)) out.push(p);
  }
}

/** Audio files (by extension) under a directory, recursively, in sorted path order. */
export function findAudioFiles(dir: string): string[] {
  return findFiles(dir, isAudioPath);
}

/**
 * Files under a directory whose names `accept` takes, recursively (hidden entries skipped, symbolic
 * links followed), in sorted path order.
 */
export function findFiles(dir: string, accept: (name: string) => boolean): string[] {
  const out: string[] = [];
  walk(dir, out, accept);
  return out.sort(comparePaths);
}

function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Expands inputs: files are kept as given (their content decides the format), directories are
 * searched recursively for audio files in sorted path order. Missing inputs are a NotFoundError.
 */
export function collectAudioFiles(inputs: readonly string[]): string[] {
  const out: string[] = [];
  for (const input of inputs) {
    let st;
    try {
      st = statSync(input);
    } catch (err) {
      throw new NotFoundError(`${input}: no such file or directory`, { subject: input, cause: err });
    }
    if (st.isDirectory()) out.push(...findAudioFiles(input));
    else out.push(input);
  }
  return out;
}

export type SplitName = 'train' | 'valid' | 'test';

export interface SplitOptions {
  /** Any integer or string; the same seed gives the same assignment. Default 0. */
  seed?: number | string;
  /** Fraction of files (or groups) for validation. Default 0.1. */
  valid?: number;
  /** Fraction for test. Default 0.1. */
  test?: number;
  /**
   * Keep groups inside one split: 'parent' (the file's folder), 'none' (default: each file on its own),
   * or a RegExp (or its source string) matched against the relative path; its first capture group (or whole
   * match) is the group key, e.g. /^(\d+)\// for LibriSpeech speaker folders. Paths it does not match are their own group.
   */
  groupBy?: 'none' | 'parent' | RegExp | string;
}

export interface SplitEntry {
  path: string;
  /** Path relative to the scanned folder, with '/' separators (what the hash sees). */
  relative: string;
  group: string;
  split: SplitName;
}

function groupKey(rel: string, groupBy: SplitOptions['groupBy']): string {
  if (groupBy === undefined || groupBy === 'none') return rel;
  if (groupBy === 'parent') {
    const d = dirname(rel);
    return d === '.' ? '' : d;
  }
  const re = typeof groupBy === 'string' ? new RegExp(groupBy) : groupBy;
  const m = re.exec(rel);
  if (!m) return rel;
  return m[1] ?? m[0];
}

/** Uniform number in [0, 1) from sha256(seed, key): 52 bits, exact in a double. */
export function splitHash(seed: number | string, key: string): number {
  const h = createHash('sha256').update(`${String(seed)}\0${key}`).digest();
  return (h.readUInt32BE(0) * 2 ** 20 + (h.readUInt32BE(4) >>> 12)) / 2 ** 52;
}

function checkFractions(valid: number, test: number): void {
  for (const [k, v] of [['valid', valid], ['test', test]] as const)
    if (!Number.isFinite(v) || v < 0 || v > 1) throw new ConfigError(`${k} fraction must be between 0 and 1, got ${v}`, { subject: k });
  if (valid + test > 1) throw new ConfigError(`valid + test fractions must not exceed 1, got ${valid} + ${test}`, { subject: 'valid' });
}

/** Every audio file under `dir` with its split. */
export function assignSplits(dir: string, opts: SplitOptions = {}): SplitEntry[] {
  const valid = opts.valid ?? 0.1;
  const test = opts.test ?? 0.1;
  checkFractions(valid, test);
  const seed = opts.seed ?? 0;
  if (typeof opts.groupBy === 'string' && opts.groupBy !== 'none' && opts.groupBy !== 'parent') {
    try {
      new RegExp(opts.groupBy);
    } catch (err) {
      throw new ConfigError(`group-by pattern '${opts.groupBy}' is not a valid regular expression: ${(err as Error).message}`, { subject: 'groupBy' });
    }
  }
  let st;
  try {
    st = statSync(dir);
  } catch (err) {
    throw new NotFoundError(`${dir}: no such directory`, { subject: dir, cause: err });
  }
  if (!st.isDirectory()) throw new ConfigError(`${dir}: not a directory (splits are made over a folder of audio files)`, { subject: dir });
  const root = resolve(dir);
  return findAudioFiles(dir).map((path) => {
    const rel = relative(root, resolve(path)).split(sep).join('/');
    const group = groupKey(rel, opts.groupBy);
    const u = splitHash(seed, group);
    const split: SplitName = u < test ? 'test' : u < test + valid ? 'valid' : 'train';
    return { path, relative: rel, group, split };
  });
}

export function getTrainPaths(dir: string, opts: SplitOptions = {}): string[] {
  return assignSplits(dir, opts).filter((e) => e.split === 'train').map((e) => e.path);
}

export function getValidPaths(dir: string, opts: SplitOptions = {}): string[] {
  return assignSplits(dir, opts).filter((e) => e.split === 'valid').map((e) => e.path);
}

export function getTestPaths(dir: string, opts: SplitOptions = {}): string[] {
  return assignSplits(dir, opts).filter((e) => e.split === 'test').map((e) => e.path);
}
