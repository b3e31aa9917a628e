/**
 * Finding audio files and splitting them into train/valid/test (docs/background.md). A file's
 * split depends only on a hash of the seed and its relative path (or group key), so assignments are
 * deterministic, file-level, and stay put when other files are added or removed.
 */
import { createHash } from 'node:crypto';
import { type Dirent, readdirSync, type Stats, statSync } from 'node:fs';
import { join, relative, resolve, sep, dirname } from 'node:path';
import { isAudioPath } from '../audio/index.js';
import { ConfigError, NotFoundError } from '../util/errors.js';

function walk(dir: string, out: string[], accept: (name: string) => boolean, passed?: string[]): void {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    throw new NotFoundError(`${dir}: cannot read directory (${(err as NodeJS.ErrnoException).code ?? String(err)})`, {
      subject: dir,
      cause: err,
    });
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
    if (isDir) walk(p, out, accept, passed);
    else if (isFile && accept(e.name)) out.push(p);
    else if (isFile) passed?.push(e.name);
  }
}

/**
 * Audio files (by extension) under a directory, recursively, in sorted path order. `onWarning` hears
 * how many other files the walk passed over, and why (see describePassedOver).
 */
export function findAudioFiles(dir: string, onWarning?: (message: string) => void): string[] {
  const passed: string[] = [];
  const out: string[] = [];
  walk(dir, out, isAudioPath, passed);
  const note = describePassedOver(dir, passed);
  if (note && onWarning) onWarning(note);
  return out.sort(comparePaths);
}

/** Audio formats wavelm does not read, by the extensions that name them. */
const UNREAD_AUDIO: Record<string, string> = {
  '.au': 'Sun/NeXT audio',
  '.snd': 'Sun/NeXT audio',
  '.aac': 'AAC',
  '.m4a': 'AAC/ALAC in MP4',
  '.m4b': 'AAC in MP4',
  '.mp4': 'MP4',
  '.3gp': '3GPP',
  '.wma': 'Windows Media Audio',
  '.wv': 'WavPack',
  '.ape': "Monkey's Audio",
  '.caf': 'Core Audio Format',
  '.amr': 'AMR',
  '.w64': 'Sony Wave64',
  '.voc': 'Creative Voice',
  '.mka': 'Matroska audio',
  '.webm': 'WebM',
  '.raw': 'headerless PCM',
  '.pcm': 'headerless PCM',
  '.mp2': 'MPEG layer II',
  '.spx': 'Speex',
  '.tta': 'True Audio',
};

/**
 * One line saying which files under `dir` a walk passed over (names given), or undefined when none:
 * audio formats wavelm does not read by format and count, everything else as a count.
 */
export function describePassedOver(dir: string, names: readonly string[]): string | undefined {
  if (names.length === 0) return undefined;
  const audio = new Map<string, number>();
  const other = new Map<string, number>();
  for (const n of names) {
    const dot = n.lastIndexOf('.');
    const ext = dot > 0 ? n.slice(dot).toLowerCase() : '(none)';
    const m = UNREAD_AUDIO[ext] !== undefined ? audio : other;
    m.set(ext, (m.get(ext) ?? 0) + 1);
  }
  const list = (m: Map<string, number>, named: boolean) =>
    [...m]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, 6)
      .map(([e, k]) => (named ? `${k} ${e} (${UNREAD_AUDIO[e]})` : `${k} ${e}`))
      .join(', ') + (m.size > 6 ? ', ...' : '');
  const parts: string[] = [];
  const nAudio = [...audio.values()].reduce((a, b) => a + b, 0);
  if (nAudio > 0)
    parts.push(
      `${nAudio} in audio formats wavelm does not read: ${list(audio, true)} (convert them to WAV or FLAC, e.g. with sox or ` +
        'ffmpeg, to include them)',
    );
  if (other.size > 0) parts.push(`${names.length - nAudio} that are not audio by their extension: ${list(other, false)}`);
  return `${dir}: skipped ${names.length} file(s): ${parts.join('; ')}`;
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
 * searched recursively for audio files in sorted path order (`onWarning` hears what each walk
 * passed over). Missing inputs are a NotFoundError.
 */
export function collectAudioFiles(inputs: readonly string[], onWarning?: (message: string) => void): string[] {
  const out: string[] = [];
  for (const input of inputs) {
    let st: Stats;
    try {
      st = statSync(input);
    } catch (err) {
      throw new NotFoundError(`${input}: no such file or directory`, { subject: input, cause: err });
    }
    if (st.isDirectory()) out.push(...findAudioFiles(input, onWarning));
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
  /** Told what the folder walk passed over. */
  onWarning?: (message: string) => void;
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
  const h = createHash('sha256')
    .update(`${String(seed)}\0${key}`)
    .digest();
  return (h.readUInt32BE(0) * 2 ** 20 + (h.readUInt32BE(4) >>> 12)) / 2 ** 52;
}

function checkFractions(valid: number, test: number): void {
  for (const [k, v] of [
    ['valid', valid],
    ['test', test],
  ] as const)
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
      throw new ConfigError(`group-by pattern '${opts.groupBy}' is not a valid regular expression: ${(err as Error).message}`, {
        subject: 'groupBy',
      });
    }
  }
  let st: Stats;
  try {
    st = statSync(dir);
  } catch (err) {
    throw new NotFoundError(`${dir}: no such directory`, { subject: dir, cause: err });
  }
  if (!st.isDirectory()) throw new ConfigError(`${dir}: not a directory (splits are made over a folder of audio files)`, { subject: dir });
  const root = resolve(dir);
  const entries = findAudioFiles(dir, opts.onWarning).map((path): SplitEntry => {
    const rel = relative(root, resolve(path)).split(sep).join('/');
    const group = groupKey(rel, opts.groupBy);
    const u = splitHash(seed, group);
    const split: SplitName = u < test ? 'test' : u < test + valid ? 'valid' : 'train';
    return { path, relative: rel, group, split };
  });
  warnEmptySplits(dir, entries, { train: 1 - valid - test, valid, test }, opts.onWarning);
  return entries;
}

/**
 * Hashing assigns each group independently, so a small folder can leave a split with a non-zero share
 * empty (35 files at 10% test: about a 2.5% chance per seed, far more for few groups): say so.
 */
function warnEmptySplits(
  dir: string,
  entries: readonly SplitEntry[],
  shares: Record<SplitName, number>,
  onWarning?: (message: string) => void,
): void {
  if (!onWarning || entries.length === 0) return;
  const groups = new Set(entries.map((e) => e.group)).size;
  for (const name of ['train', 'valid', 'test'] as const) {
    if (shares[name] > 0 && !entries.some((e) => e.split === name)) {
      onWarning(
        `${dir}: the ${name} split is empty: ${groups} group(s) of ${entries.length} file(s) at ${name} ` +
          `${+shares[name].toFixed(4)} gave it none; raise its fraction, try another seed, or add files`,
      );
    }
  }
}

export function getTrainPaths(dir: string, opts: SplitOptions = {}): string[] {
  return assignSplits(dir, opts)
    .filter((e) => e.split === 'train')
    .map((e) => e.path);
}

export function getValidPaths(dir: string, opts: SplitOptions = {}): string[] {
  return assignSplits(dir, opts)
    .filter((e) => e.split === 'valid')
    .map((e) => e.path);
}

export function getTestPaths(dir: string, opts: SplitOptions = {}): string[] {
  return assignSplits(dir, opts)
    .filter((e) => e.split === 'test')
    .map((e) => e.path);
}
