/**
 * Merging the `--json` output of `wavelm eval` shards (`--num-shards N --shard-index I`) into the figures
 * one run over all files gives, from the byte counts alone: no chunk is compressed again.
 * Chunked rates add up: compress.py counts a classical compressor's header once over all chunks, so the
 * merged compressed size is the shards' sum less the header for every non-empty shard after the first.
 * Unchunked rates (all chunks compressed as one stream) do not add up and are left out; so are the
 * figures a compressor reports besides its sizes (`extra`: an LM's ideal rate, its speed).
 */
import { ConfigError, FormatError, MismatchError } from '../util/errors.js';
import type { Shard } from '../util/shards.js';
import type { EvalResult } from './evaluate.js';
import type { LosslessResult } from './lossless.js';

/** What `wavelm --json eval --num-shards N --shard-index I` prints. */
export interface EvalShardRun {
  shard: Shard;
  files: number;
  chunks: number;
  sampleRate: number;
  channels: number;
  pipeline: Record<string, unknown>;
  results: EvalResult[];
}

/** What `wavelm --json eval --lossless --num-shards N --shard-index I` prints. */
export interface LosslessShardRun {
  shard: Shard;
  files: number;
  lossless: true;
  results: LosslessResult[];
}

export type ShardRun = EvalShardRun | LosslessShardRun;

/** One shard's JSON, checked for the fields the merge reads. `name` is its file, for messages. */
export function parseShardRun(text: string, name: string): ShardRun {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new FormatError(
      `${name}: not JSON (${(e as Error).message}); give the output of wavelm --json eval --num-shards N --shard-index I`,
      { subject: name },
    );
  }
  const o = v as Partial<EvalShardRun & LosslessShardRun> | null;
  const shard = o?.shard;
  if (
    !o ||
    typeof o !== 'object' ||
    !shard ||
    !Number.isInteger(shard.count) ||
    !Number.isInteger(shard.index) ||
    !Array.isArray(o.results) ||
    !Number.isInteger(o.files)
  ) {
    throw new FormatError(
      `${name}: not the JSON of one eval shard (no shard, files or results); run wavelm --json eval with --num-shards N --shard-index I`,
      { subject: name },
    );
  }
  return o as ShardRun;
}

/** Checks that `runs` are the shards 0..N-1 of one N, each once, and returns them in shard order. */
function inShardOrder<T extends ShardRun>(runs: readonly T[], names: readonly string[]): T[] {
  if (runs.length === 0) throw new ConfigError('no shard results to merge: give the JSON output of each shard');
  const count = runs[0]!.shard.count;
  const byIndex = new Map<number, number>();
  runs.forEach((r, i) => {
    if (r.shard.count !== count)
      throw new MismatchError(`${names[i]} is a shard of ${r.shard.count}, ${names[0]} one of ${count}: merge the shards of one run`, {
        subject: names[i],
      });
    const seen = byIndex.get(r.shard.index);
    if (seen !== undefined)
      throw new ConfigError(`${names[seen]} and ${names[i]} are both shard ${r.shard.index}: give each shard once`, { subject: names[i] });
    byIndex.set(r.shard.index, i);
  });
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length > 0) throw new ConfigError(`shard(s) ${missing.join(', ')} of ${count} missing: give the JSON of every shard`);
  return Array.from({ length: count }, (_, i) => runs[byIndex.get(i)!]!);
}

function sameOrThrow(what: string, a: unknown, b: unknown, nameA: string, nameB: string): void {
  if (JSON.stringify(a) !== JSON.stringify(b))
    throw new MismatchError(
      `${nameB}'s ${what} (${JSON.stringify(b)}) differs from ${nameA}'s (${JSON.stringify(a)}): merge the shards of one run`,
      { subject: nameB },
    );
}

/** The merged chunked-eval figures: what one run gives, less unchunked rates and `extra`. */
export function mergeEvalRuns(runs: readonly EvalShardRun[], names: readonly string[]): Omit<EvalShardRun, 'shard'> & { shards: number } {
  const ordered = inShardOrder(runs, names);
  const nameOf = (r: EvalShardRun): string => names[runs.indexOf(r)]!;
  const first = ordered[0]!;
  for (const r of ordered.slice(1)) {
    sameOrThrow('pipeline', first.pipeline, r.pipeline, nameOf(first), nameOf(r));
    sameOrThrow('sample rate and channels', [first.sampleRate, first.channels], [r.sampleRate, r.channels], nameOf(first), nameOf(r));
    sameOrThrow(
      'compressors',
      first.results.map((x) => [x.compressor, x.kind]),
      r.results.map((x) => [x.compressor, x.kind]),
      nameOf(first),
      nameOf(r),
    );
  }
  const results = first.results.map((head, k): EvalResult => {
    const parts = ordered.map((r) => r.results[k]!);
    const rawBytes = parts.reduce((a, p) => a + p.rawBytes, 0);
    // An empty shard measures no header (evaluate.ts), so the header comes from the shards with chunks.
    const nonEmpty = ordered.filter((r) => r.results[k]!.chunks > 0);
    for (const r of nonEmpty.slice(1))
      sameOrThrow(
        `${head.compressor} header bytes`,
        nonEmpty[0]!.results[k]!.headerBytes,
        r.results[k]!.headerBytes,
        nameOf(nonEmpty[0]!),
        nameOf(r),
      );
    const headerBytes = nonEmpty[0]?.results[k]?.headerBytes ?? 0;
    const header = head.kind === 'classical' ? headerBytes * Math.max(0, nonEmpty.length - 1) : 0;
    const compressed = parts.reduce((a, p) => a + p.chunked.compressedBytes, 0) - header;
    return {
      compressor: head.compressor,
      kind: head.kind,
      chunks: parts.reduce((a, p) => a + p.chunks, 0),
      rawBytes,
      headerBytes,
      chunked: {
        rate: rawBytes > 0 ? compressed / rawBytes : 0,
        compressedBytes: compressed,
        seconds: parts.reduce((a, p) => a + p.chunked.seconds, 0),
      },
    };
  });
  return {
    shards: ordered.length,
    files: ordered.reduce((a, r) => a + r.files, 0),
    chunks: ordered.reduce((a, r) => a + r.chunks, 0),
    sampleRate: first.sampleRate,
    channels: first.channels,
    pipeline: first.pipeline,
    results,
  };
}

/** The merged whole-file (--lossless) figures: totals add up, failures are listed together. */
export function mergeLosslessRuns(
  runs: readonly LosslessShardRun[],
  names: readonly string[],
): Omit<LosslessShardRun, 'shard'> & { shards: number } {
  const ordered = inShardOrder(runs, names);
  const nameOf = (r: LosslessShardRun): string => names[runs.indexOf(r)]!;
  const first = ordered[0]!;
  for (const r of ordered.slice(1))
    sameOrThrow(
      'compressors',
      first.results.map((x) => x.compressor),
      r.results.map((x) => x.compressor),
      nameOf(first),
      nameOf(r),
    );
  const results = first.results.map((head, k): LosslessResult => {
    const parts = ordered.map((r) => r.results[k]!);
    const originalBytes = parts.reduce((a, p) => a + p.originalBytes, 0);
    const compressedBytes = parts.reduce((a, p) => a + p.compressedBytes, 0);
    return {
      compressor: head.compressor,
      files: parts.reduce((a, p) => a + p.files, 0),
      failed: parts.flatMap((p) => p.failed),
      originalBytes,
      compressedBytes,
      rate: originalBytes > 0 ? compressedBytes / originalBytes : 0,
      seconds: parts.reduce((a, p) => a + p.seconds, 0),
    };
  });
  return { shards: ordered.length, files: ordered.reduce((a, r) => a + r.files, 0), lossless: true, results };
}
