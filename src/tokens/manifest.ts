/**
 * Reading split manifests (JSON lines, as `wavelm split` writes them): every line with a `path` (or
 * `file`) and a `split` of train / valid / test; an optional `{"root": DIR}` line sets the folder that
 * relative paths are relative to. Training and evaluation read them through here, and dataset build
 * (src/dataset/build.ts) finds its listed paths with the same locateListedPath, so a manifest means the
 * same files everywhere.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { FormatError, NotFoundError } from '../util/errors.js';

export interface ManifestSplits {
  train: string[];
  valid: string[];
  test: string[];
}

/**
 * Where a path listed in a manifest is: the one rule for every manifest wavelm reads (split manifests for
 * train and eval, dataset build's `.jsonl` and path lists, and the paths inside their values, such as stems
 * and .npy token arrays), documented in docs/foundation.md ("Manifests"):
 *
 * 1. an absolute path is taken as it is;
 * 2. with an explicit base (a split manifest's `{"root": DIR}` line) a relative path is under that base, and
 *    nowhere else;
 * 3. otherwise a relative path is looked up under the working directory first, because `wavelm split DIR`
 *    writes paths as it found them, relative to where it ran when DIR was relative; then beside the manifest
 *    (`base`, its folder), for manifests written by hand next to their audio.
 *
 * Returns undefined when the file is in neither place; each caller decides what a missing file means.
 * Found paths are `resolve(file)` (working directory) or `join(base, file)`.
 */
export function locateListedPath(file: string, base: string, explicitBase = false): string | undefined {
  if (isAbsolute(file)) return file;
  if (explicitBase) return join(base, file);
  const fromCwd = resolve(file);
  if (existsSync(fromCwd)) return fromCwd;
  const beside = join(base, file);
  if (existsSync(beside)) return beside;
  return undefined;
}

function locate(file: string, root: string, explicitRoot: boolean, manifest: string): string {
  const found = locateListedPath(file, root, explicitRoot);
  if (found !== undefined) return found;
  throw new NotFoundError(`${manifest}: listed file ${file} exists neither under the working directory nor beside the manifest`, {
    subject: file,
  });
}

/** Reads a split manifest into its three lists of absolute paths, in manifest order. */
export function readSplitManifest(path: string): ManifestSplits {
  if (!existsSync(path)) throw new NotFoundError(`${path}: manifest not found`, { subject: path });
  const lines = readFileSync(path, 'utf8').split('\n');
  const out = { train: [] as string[], valid: [] as string[], test: [] as string[] };
  let root = dirname(resolve(path));
  let explicitRoot = false;
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line) as Record<string, unknown>;
    } catch (e) {
      throw new FormatError(`${path}:${i + 1}: not valid JSON`, { subject: path, cause: e });
    }
    const file = typeof rec.path === 'string' ? rec.path : typeof rec.file === 'string' ? rec.file : undefined;
    if (file === undefined) {
      if (typeof rec.root === 'string') {
        root = resolve(dirname(resolve(path)), rec.root);
        explicitRoot = true;
      }
      return;
    }
    const split = rec.split;
    if (split !== 'train' && split !== 'valid' && split !== 'test')
      throw new FormatError(`${path}:${i + 1}: split must be train, valid or test, got ${JSON.stringify(split)}`, { subject: path });
    out[split].push(locate(file, root, explicitRoot, path));
  });
  return out;
}
