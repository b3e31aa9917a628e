/**
 * The loader's blob checks against the CRC-32C the file stores for each blob: on every read, or on a
 * blob's first read only (the reader remembers which it has checked). Partial reads (crops) are skipped.
 */
import type { BatchBlobs } from './memory.js';
import type { VerifyMode } from './options.js';
import type { BatchSamples } from './samples.js';
import type { FieldSelection } from './selection.js';
import type { ShardSet } from './shards.js';

export class BlobChecker {
  constructor(
    private readonly mode: VerifyMode,
    private readonly shards: ShardSet,
    private readonly selection: FieldSelection,
  ) {}

  /** Throws a ChecksumError naming file, sample and field for the first damaged blob of the field at `fieldIndex` in the batch. */
  checkField(fieldIndex: number, samples: BatchSamples, blobs: BatchBlobs): void {
    if (!this.mode) return;
    const schemaIndex = this.selection.schemaIndex[fieldIndex]!;
    for (let j = 0; j < samples.locations.length; j++) {
      const read = blobs.at(j, fieldIndex);
      if (read.partial) continue;
      const { shard, index } = samples.locations[j]!;
      const reader = this.shards.reader(shard);
      if (this.mode === 'once') reader.checkBlobOnce(index, schemaIndex, read.bytes!);
      else reader.checkBlob(index, schemaIndex, read.bytes!);
    }
  }
}
