/**
 * Reading split manifests (JSON lines, as `wavelm split` writes them): every line with a `path` (or
 * `file`) and a `split` of train / valid / test; an optional `{"root": DIR}` line sets the folder that
 * relative paths are relative to. Training, evaluation and dataset building all read them through here,
 * so a manifest means the same files everywhere.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { FormatError, NotFoundError } from '../util/errors.js';

export interface ManifestSplits {
  train: string[];
  valid: string[];
  test: string[];
}

/**
 * Where a listed path is: absolute as is; under an explicit root; else relative to the working
 * directory (what `wavelm split DIR` writes when DIR was given relative to it), else beside the manifest.
 */
function locate(file: string, root: string, explicitRoot: boolean, manifest: string): string {
  if (isAbsolute(file)) return file;
  if (explicitRoot) return resolve(root, file);
  const fromCwd = resolve(file);
  if (existsSync(fromCwd)) return fromCwd;
  const fromManifest = resolve(root, file);
  if (existsSync(fromManifest)) return fromManifest;
  throw new NotFoundError(`${manifest}: listed file ${file} exists neither under the working directory nor beside the manifest`, { subject: file });
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
    if (split !== 'train' && split !== 'valid' && split !== 'test') throw new FormatError(`${path}:${i + 1}: split must be train, valid or test, got ${JSON.stringify(split)}`, { subject: path });
    out[split].push(locate(file, root, explicitRoot, path));
  });
  return out;
}
