/**
 * Byte-token chunks for training, read from a dataset's `chunks` field instead of WAV folders: the
 * samples in the loader's (shuffled, rank-split, resumable) order, each sample's chunks in turn.
 */
import { ConfigError } from '../util/errors.js';
import { Loader, type LoaderOptions } from './loader.js';

export interface DatasetChunkOptions extends Pick<LoaderOptions, 'order' | 'seed' | 'epoch' | 'rank' | 'worldSize' | 'workers'> {
  /** The chunks field (default: the first field of type chunks). */
  field?: string;
}

/** Yields every chunk (chunk_size bytes, fresh memory) of every sample of one epoch. */
export async function* datasetChunks(paths: string | string[], opts: DatasetChunkOptions = {}): AsyncGenerator<Uint8Array> {
  const probe = new Loader(paths, { order: 'sequential', batchSize: 1 });
  const fields = probe.readers[0]!.fields;
  await probe.close();
  const f = opts.field ? fields.find((x) => x.name === opts.field) : fields.find((x) => x.type === 'chunks');
  if (f?.type !== 'chunks')
    throw new ConfigError(
      `${String(paths)}: ${opts.field ? `field '${opts.field}' is not a chunks field` : 'no chunks field'}; build with fields ` +
        'chunks(...)',
      { options: ['fields'] },
    );
  const size = Number(f.args.chunk_size);
  const loader = new Loader(paths, { ...opts, fields: [f.name], batchSize: 16 });
  try {
    for await (const b of loader) {
      const x = b.fields[f.name]!;
      if (x.kind !== 'array') continue;
      const T = x.shape[1]!;
      for (let j = 0; j < b.size; j++) {
        for (let at = 0; at + size <= x.lengths[j]!; at += size) yield (x.data as Uint8Array).slice(j * T + at, j * T + at + size);
      }
    }
  } finally {
    await loader.close();
  }
}
