/** `verify`: opens every file (which checks header, footer, schema, table and offsets) and checks every blob's CRC-32C. */
import { WavelmError } from '../util/errors.js';
import { silentProgress, type ProgressSink } from '../util/progress.js';
import { resolveDatasetPaths } from './paths.js';
import { DatasetReader } from './reader.js';

export interface FileReport {
  path: string;
  ok: boolean;
  samples?: number;
  /** Set when the file cannot be opened at all (truncated, unfinished, damaged structure). */
  error?: string;
  /** Damaged samples by index, with the field and what is wrong. */
  damaged: { sample: number; field: string; error: string }[];
}

export interface VerifyOptions {
  /** Also decode every blob (codecs must accept the bytes), not only check checksums. */
  decode?: boolean;
  progress?: ProgressSink;
}

export async function verifyDataset(paths: string[], opts: VerifyOptions = {}): Promise<FileReport[]> {
  const out: FileReport[] = [];
  const progress = opts.progress ?? silentProgress;
  for (const p of resolveDatasetPaths(paths)) {
    let r: DatasetReader;
    try {
      r = DatasetReader.open(p);
    } catch (e) {
      if (!(e instanceof WavelmError)) throw e;
      out.push({ path: p, ok: false, error: e.message, damaged: [] });
      continue;
    }
    try {
      progress.start(r.numSamples, 'verify');
      const damaged = r.verify((n) => progress.tick(n === 0 ? 0 : 1));
      if (opts.decode) {
        const bad = new Set(damaged.map((d) => `${d.sample}/${d.field}`));
        for (const d of await r.verifyDecode()) if (!bad.has(`${d.sample}/${d.field}`)) damaged.push(d);
      }
      damaged.sort((a, b) => a.sample - b.sample);
      out.push({ path: p, ok: damaged.length === 0, samples: r.numSamples, damaged });
    } finally {
      progress.stop();
      await r.close();
    }
  }
  return out;
}
