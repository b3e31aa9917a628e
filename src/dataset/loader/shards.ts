/**
 * The dataset files one loader reads, as one index space: the files' samples numbered on from one
 * file to the next, in the order the paths resolve to.
 */
import { MismatchError } from '../../util/errors.js';
import { resolveDatasetPaths } from '../paths.js';
import { DatasetReader } from '../reader.js';

/** Where a sample lives: which shard, and its index within that shard. */
export interface SampleLocation {
  shard: number;
  index: number;
}

export class ShardSet {
  readonly numSamples: number;
  /** Global index of each shard's first sample. */
  private readonly bases: number[];

  private constructor(readonly readers: DatasetReader[]) {
    this.bases = [];
    let base = 0;
    for (const reader of readers) {
      this.bases.push(base);
      base += reader.numSamples;
    }
    this.numSamples = base;
  }

  /** Opens every file `paths` names (files, folders of shards, sharded names); their schemas must agree. */
  static open(paths: string | string[]): ShardSet {
    const files = resolveDatasetPaths(Array.isArray(paths) ? paths : [paths]);
    const readers = files.map((p) => DatasetReader.open(p));
    checkSameSchema(readers);
    return new ShardSet(readers);
  }

  reader(shard: number): DatasetReader {
    return this.readers[shard]!;
  }

  /** The shard holding global sample `globalIndex`: the last one whose base is not past it. */
  locate(globalIndex: number): SampleLocation {
    let lo = 0;
    let hi = this.bases.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.bases[mid]! <= globalIndex) lo = mid;
      else hi = mid - 1;
    }
    return { shard: lo, index: globalIndex - this.bases[lo]! };
  }

  async close(): Promise<void> {
    await Promise.all(this.readers.map((r) => r.close()));
  }
}

/** Shards read together must agree field by field. */
function checkSameSchema(readers: DatasetReader[]): void {
  const key = (r: DatasetReader) => JSON.stringify(r.schema.fields.map((f) => [f.name, f.type, f.args]));
  const first = key(readers[0]!);
  for (const r of readers.slice(1)) {
    if (key(r) !== first)
      throw new MismatchError(`${r.path}: its fields differ from ${readers[0]!.path}'s; shards read together must share a schema`, {
        subject: r.path,
      });
  }
}
