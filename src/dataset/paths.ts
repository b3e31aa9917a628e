/** Dataset paths: files, folders of shards, and the shard names the builder writes. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ConfigError, NotFoundError } from '../util/errors.js';

export const DATASET_EXT = '.wlds';

/** Name of shard `index` of `count` for output `out` (`data/train.wlds` -> `data/train-00002-of-00008.wlds`). */
export function shardPath(out: string, index: number, count: number): string {
  if (count === 1) return out;
  const stem = out.endsWith(DATASET_EXT) ? out.slice(0, -DATASET_EXT.length) : out;
  return `${stem}-${String(index).padStart(5, '0')}-of-${String(count).padStart(5, '0')}${DATASET_EXT}`;
}

/**
 * Expands inputs to dataset files: a file stays itself; a folder gives its *.wlds files in name order;
 * a path `x.wlds` that does not exist but has shards `x-NNNNN-of-MMMMM.wlds` gives all of them (and
 * insists that all M are present).
 */
export function resolveDatasetPaths(inputs: string[]): string[] {
  if (inputs.length === 0) throw new ConfigError('no dataset files given');
  const out: string[] = [];
  for (const p of inputs) {
    if (existsSync(p) && statSync(p).isDirectory()) {
      const files = readdirSync(p)
        .filter((f) => f.endsWith(DATASET_EXT))
        .sort();
      if (files.length === 0) throw new NotFoundError(`${p}: folder holds no ${DATASET_EXT} files`, { subject: p });
      out.push(...files.map((f) => join(p, f)));
      continue;
    }
    if (existsSync(p)) {
      out.push(p);
      continue;
    }
    const stem = basename(p.endsWith(DATASET_EXT) ? p.slice(0, -DATASET_EXT.length) : p);
    const dir = dirname(p);
    const re = new RegExp(`^${stem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d{5})-of-(\\d{5})\\${DATASET_EXT}$`);
    const shards = existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => re.test(f))
          .sort()
      : [];
    if (shards.length === 0) throw new NotFoundError(`${p}: no such dataset file or shards`, { subject: p });
    const count = Number(re.exec(shards[0]!)![2]);
    if (shards.length !== count)
      throw new NotFoundError(`${p}: ${shards.length} of ${count} shards are present; build the missing ones (shardIndex) first`, {
        subject: p,
        options: ['shardIndex'],
      });
    out.push(...shards.map((f) => join(dir, f)));
  }
  return out;
}
