/**
 * Building datasets from audio files: inputs (files, folders, manifests) become a deterministic plan
 * of samples (optionally long recordings cut into fixed-length segments with their (file, offset)),
 * the plan is cut into shards, and each shard is encoded (in worker threads when asked) and written
 * in plan order, so the bytes are the same whatever the number of workers. `shardIndex` builds one
 * shard of the plan, so independent jobs (Slurm array tasks, Kubernetes indexed jobs) can build a
 * corpus together.
 */
import { readFileSync, type Stats, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { type AudioInfo, isAudioPath, loadAudio, readAudioInfo } from '../audio/index.js';
import type { WorkerPool } from '../engine/pool.js';
import { collectAudioFiles, locateListedPath } from '../tokens/index.js';
import { ConfigError, NotFoundError, WavelmError, type ErrorCode } from '../util/errors.js';
import { packageVersion } from '../util/paths.js';
import { parseNpy } from '../util/npy.js';
import { shardRange } from '../util/shards.js';
import { silentProgress, type ProgressSink } from '../util/progress.js';
import type { Encoded, Field, SampleInput } from './fields/field.js';
import { createField, type FieldSpec } from './fields/index.js';
import { shardPath } from './paths.js';
import { TokenCache } from './token-cache.js';
import {
  closeEncoders,
  joinOutcomes,
  resolveTokenEncoders,
  TokenStep,
  type CodecTokenEncoder,
  type CodecTokenEncoderFactory,
} from './token-encoder.js';
import { DatasetWriter } from './writer.js';

/** One sample of the plan. */
export interface PlanItem {
  /** Source file. */
  path: string;
  /** Frame range [start, end) for segments of a long recording; whole file when absent. */
  start?: number;
  end?: number;
  key: string;
  /** Values of non-audio fields, resolved on the main thread so workers only encode. */
  values: Record<string, unknown>;
  /** Folder for relative stem and .npy paths among the values (the manifest's). */
  base?: string;
}

export interface BuildOptions {
  /** Output file; with several shards, `OUT-00000-of-0000K.wlds` beside it. */
  out: string;
  fields: FieldSpec[];
  /** Samples per shard (default: all in one). Ignored when numShards is given. */
  shardSize?: number;
  numShards?: number;
  /** Build only this shard of the plan. */
  shardIndex?: number;
  /** Encoding worker threads (0: this thread). */
  workers?: number;
  /** Keep only manifest entries whose "split" is this (the manifests of `wavelm split`). */
  split?: string;
  /** Cut recordings into segments of this many seconds (the last may be shorter). */
  segmentSeconds?: number;
  /** Root for relative source names in keys (default: the common folder of the inputs). */
  root?: string;
  /** Keep the readable frames of truncated WAV/AIFF and damaged FLAC files (with a warning). */
  allowTruncated?: boolean;
  /** Leave out files that cannot be read, with a warning each (default: the first one stops the build). */
  skipUnreadable?: boolean;
  /** Warnings: what folder walks passed over, what allowTruncated kept, which files were left out. */
  onWarning?: (message: string) => void;
  progress?: ProgressSink;
  metadata?: Record<string, unknown>;
  /** Makes the encoder of each `codec_tokens(model=...)` field (src/dataset/token-encoder.ts; the CLI passes EnCodec's). */
  codecTokenEncoder?: CodecTokenEncoderFactory;
  /** Folder of the content-hash cache of encoded codec tokens (src/dataset/token-cache.ts); no cache when absent. */
  cacheDir?: string;
}

/** What every encoding worker is given once. */
export interface EncodeWorkerInit {
  specs: FieldSpec[];
  read: ReadPolicy;
  /** Fields the build's own thread encodes (codec tokens made by an encoder), left out of the workers' outcomes. */
  tokenFields: number[];
}

/** How a build reads its sources (sent to every encoding worker). */
export interface ReadPolicy {
  allowTruncated?: boolean;
}

/** One item's encoded fields, or the error that stopped it (a WavelmError, sent as data across threads), and its warnings. */
export interface ItemOutcome {
  encoded?: Encoded[];
  error?: { code: ErrorCode; message: string; subject?: string; options?: readonly string[] };
  warnings: string[];
}

export interface BuildResult {
  plan: { samples: number; shards: number };
  shards: { index: number; path: string; samples: number; bytes: number }[];
  /** Plan items left out under skipUnreadable, with the reason. */
  skipped: { key: string; reason: string }[];
  /** Token fields of samples encoded by a codec_tokens(model=...) encoder, and those taken from the cache. */
  codecTokens?: { encoded: number; cached: number };
  warnings: string[];
  seconds: number;
}

interface ManifestEntry {
  path: string;
  values: Record<string, unknown>;
  /** Folder that relative paths in the values (stems, .npy token arrays) are relative to: the manifest's. */
  base?: string;
}

/**
 * Reads a manifest: `.jsonl` (objects with `path` and other values) or a list of paths (one a line).
 * Paths are found by the rule of every manifest (locateListedPath: working directory, then beside the
 * manifest); one in neither place keeps its beside-the-manifest form, so reading it reports it (or
 * skipUnreadable leaves it out).
 */
function readManifest(p: string): ManifestEntry[] {
  const dir = dirname(p);
  const text = readFileSync(p, 'utf8');
  const abs = (q: string) => listedPath(q, dir);
  if (p.endsWith('.jsonl') || p.endsWith('.ndjson')) {
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((line, n) => {
        let o: unknown;
        try {
          o = JSON.parse(line);
        } catch (e) {
          throw new ConfigError(`${p}:${n + 1}: not valid JSON`, { subject: p, cause: e });
        }
        const rec = o as Record<string, unknown>;
        if (typeof rec !== 'object' || rec === null || typeof rec.path !== 'string')
          throw new ConfigError(`${p}:${n + 1}: each line needs a "path" string`, { subject: p });
        const { path, ...values } = rec;
        return { path: abs(path as string), values, base: dir };
      });
  }
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => ({ path: abs(l), values: {}, base: dir }));
}

/** A path a manifest in `dir` lists, by locateListedPath's rule; beside the manifest when it is nowhere. */
function listedPath(q: string, dir: string): string {
  return locateListedPath(q, dir) ?? (isAbsolute(q) ? q : join(dir, q));
}

function isManifest(p: string): boolean {
  const e = extname(p).toLowerCase();
  return ['.jsonl', '.ndjson', '.txt', '.lst', '.list'].includes(e);
}

/** Expands inputs into source entries, in a deterministic order (folders sorted; manifests as listed). */
export function collectSources(inputs: string[], onWarning?: (message: string) => void): ManifestEntry[] {
  const out: ManifestEntry[] = [];
  for (const inp of inputs) {
    let st: Stats;
    try {
      st = statSync(inp);
    } catch (e) {
      throw new NotFoundError(`${inp}: no such file, folder or manifest`, { subject: inp, cause: e });
    }
    if (st.isFile() && isManifest(inp) && !isAudioPath(inp)) out.push(...readManifest(inp));
    else out.push(...collectAudioFiles([inp], onWarning).map((path) => ({ path, values: {} })));
  }
  if (out.length === 0) throw new ConfigError(`no audio files found in ${inputs.join(', ')}`);
  return out;
}

function commonRoot(paths: string[]): string {
  if (paths.length === 0) return '.';
  let root = dirname(resolve(paths[0]!));
  for (const p of paths) {
    const r = resolve(p);
    while (!`${r}/`.startsWith(root.endsWith('/') ? root : `${root}/`)) {
      const up = dirname(root);
      if (up === root) break;
      root = up;
    }
  }
  return root;
}

/** Value of a scalar field for an item, from the field's `from` argument. */
function valueFrom(
  from: string,
  entry: ManifestEntry,
  rel: string,
  seg: { start: number; end: number } | undefined,
  field: string,
  hasDefault: boolean,
): unknown {
  const stem = basename(rel).replace(/\.[^.]+$/, '');
  if (from === 'path') return rel;
  if (from === 'name') return basename(rel);
  if (from === 'stem') return stem;
  if (from === 'dir') return basename(dirname(rel));
  if (from === 'offset') return seg?.start ?? 0;
  if (from === 'frames') return seg ? seg.end - seg.start : undefined;
  if (from.startsWith('key:')) return entry.values[from.slice(4)];
  if (from.startsWith('regex:')) {
    let re: RegExp;
    try {
      re = new RegExp(from.slice(6));
    } catch (e) {
      throw new ConfigError(`field '${field}': from=${from} is not a valid regular expression`, { cause: e });
    }
    const m = re.exec(rel);
    if (!m) {
      if (hasDefault) return undefined;
      throw new ConfigError(`field '${field}': ${rel} does not match ${from.slice(6)} (give default=... for such files)`, { subject: rel });
    }
    return m[1] ?? m[0];
  }
  throw new ConfigError(`field '${field}': from=${from} is not one of path, name, stem, dir, offset, frames, key:NAME, regex:PATTERN`);
}

/** The whole plan: every sample of every shard, in order. Needs only file headers (for segmenting). */
export async function makePlan(
  inputs: string[],
  opts: Pick<BuildOptions, 'fields' | 'segmentSeconds' | 'root' | 'split' | 'onWarning' | 'skipUnreadable'>,
): Promise<PlanItem[]> {
  let sources = collectSources(inputs, opts.onWarning);
  if (opts.split !== undefined) {
    sources = sources.filter((s) => s.values.split === opts.split);
    if (sources.length === 0)
      throw new ConfigError(`no manifest entry has split "${opts.split}" (make one with 'wavelm split DIR -o manifest.jsonl')`);
  }
  const root = opts.root ?? commonRoot(sources.map((s) => s.path));
  const fromArgs = opts.fields
    .filter((f) => f.args.from !== undefined)
    .map((f) => [f.name, String(f.args.from), f.args.default !== undefined] as const);
  const items: PlanItem[] = [];
  for (const s of sources) {
    const rel = relative(root, resolve(s.path)).split('\\').join('/');
    let segs: { start: number; end: number }[] | undefined;
    if (opts.segmentSeconds !== undefined) {
      if (!(opts.segmentSeconds > 0)) throw new ConfigError(`segment length must be positive seconds, got ${opts.segmentSeconds}`);
      let info: AudioInfo;
      try {
        info = await readAudioInfo(s.path);
      } catch (e) {
        if (!opts.skipUnreadable || !(e instanceof WavelmError)) throw e;
        opts.onWarning?.(`skipped ${e.message}`);
        continue;
      }
      const L = Math.max(1, Math.round(opts.segmentSeconds * info.sampleRate));
      segs = [];
      for (let a = 0; a < info.frames; a += L) segs.push({ start: a, end: Math.min(info.frames, a + L) });
    }
    for (const seg of segs ?? [undefined]) {
      const values: Record<string, unknown> = { ...s.values };
      for (const [name, from, hasDefault] of fromArgs) {
        const v = valueFrom(from, s, rel, seg, name, hasDefault);
        if (v !== undefined) values[name] = v;
      }
      items.push({
        path: s.path,
        start: seg?.start,
        end: seg?.end,
        key: seg ? `${rel}@${seg.start}` : rel,
        values,
        ...(s.base !== undefined ? { base: s.base } : {}),
      });
    }
  }
  return items;
}

/** Shard s of K over n items: a contiguous, balanced range (or blocks of shardSize). */
export function shardRanges(n: number, opts: { shardSize?: number; numShards?: number }): [number, number][] {
  if (opts.numShards !== undefined) {
    const K = opts.numShards;
    if (!Number.isInteger(K) || K < 1) throw new ConfigError(`numShards must be a positive integer, got ${K}`, { options: ['numShards'] });
    return Array.from({ length: K }, (_, s) => shardRange(n, K, s));
  }
  const size = opts.shardSize ?? Math.max(1, n);
  if (!Number.isInteger(size) || size < 1)
    throw new ConfigError(`shardSize must be a positive integer, got ${size}`, { options: ['shardSize'] });
  const out: [number, number][] = [];
  for (let a = 0; a < n; a += size) out.push([a, Math.min(n, a + size)]);
  return out.length > 0 ? out : [[0, 0]];
}

/**
 * Class fields without given `classes` get the sorted distinct values of the whole plan (not of one
 * shard), so every shard job maps a name to the same integer.
 */
export function withClassNames(specs: FieldSpec[], plan: readonly PlanItem[]): FieldSpec[] {
  return specs.map((s) => {
    if (s.type !== 'class' || s.args.classes !== undefined) return s;
    const names = new Set<string>();
    for (const it of plan) if (it.values[s.name] !== undefined) names.add(String(it.values[s.name]));
    if (s.args.default !== undefined) names.add(String(s.args.default));
    if (names.size === 0)
      throw new ConfigError(
        `field '${s.name}': no sample has a value for this class field (give from=dir, from=stem, from=regex:... or from=key:NAME)`,
      );
    return { ...s, args: { ...s.args, classes: [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) } };
  });
}

/** Whether any field wants the source file's bytes (FLAC and MP3 sources are stored as they are). */
function wantsFileBytes(specs: FieldSpec[]): boolean {
  return specs.some(
    (f) =>
      f.type === 'flac' ||
      f.type === 'mp3' ||
      (f.type === 'compressed' && (f.args.codec === undefined || f.args.codec === 'flac' || f.args.codec === 'mp3')),
  );
}

/** How loadAudio reads an item's source under a read policy: its frame range, damage allowed or not. */
function itemRange(item: PlanItem, read: ReadPolicy, onWarning?: (message: string) => void): Parameters<typeof loadAudio>[1] {
  return {
    ...(item.start !== undefined ? { startFrame: item.start, endFrame: item.end } : {}),
    allowTruncated: read.allowTruncated,
    onWarning,
  };
}

/**
 * Loads one item's audio and encodes every field but those in `except` (which the caller encodes): the work
 * a build worker does. The encodings come in field order.
 */
export async function encodeItem(
  fields: Field[],
  specs: FieldSpec[],
  item: PlanItem,
  read: ReadPolicy = {},
  onWarning?: (message: string) => void,
  except: readonly number[] = [],
): Promise<Encoded[]> {
  const range = itemRange(item, read, onWarning);
  // Audio fields with from=key:NAME read another file of the sample (multi-track stems: one field per stem).
  const stemOf = (i: number): string | undefined => {
    const from = specs[i]?.args.from;
    return typeof from === 'string' && from.startsWith('key:') && fields[i]!.kind === 'array' && fields[i]!.type !== 'codec_tokens'
      ? from.slice(4)
      : undefined;
  };
  const needsAudio = fields.some((f, i) => f.kind === 'array' && f.type !== 'codec_tokens' && stemOf(i) === undefined);
  const audio = needsAudio ? await loadAudio(item.path, range) : undefined;
  const fileBytes = item.start === undefined && wantsFileBytes(specs) ? new Uint8Array(readFileSync(item.path)) : undefined;
  const values = { ...item.values };
  // Token arrays may be given as .npy paths in the manifest.
  const at = (p: string) => (item.base === undefined ? p : listedPath(p, item.base));
  for (const [i, f] of fields.entries())
    if (f.type === 'codec_tokens' && !except.includes(i) && typeof values[f.name] === 'string')
      values[f.name] = parseNpy(new Uint8Array(readFileSync(at(values[f.name] as string))), values[f.name] as string);
  const input = { key: item.key, audio, fileBytes, values, onWarning };
  const out: Encoded[] = [];
  for (let i = 0; i < fields.length; i++) {
    if (except.includes(i)) continue;
    const key = stemOf(i);
    if (key === undefined) {
      out.push(await encodeField(fields[i]!, input));
      continue;
    }
    const v = item.values[key];
    if (typeof v !== 'string')
      throw new ConfigError(`field '${fields[i]!.name}': sample ${item.key} has no audio path under '${key}'`, { subject: item.key });
    const p = at(v);
    const stem = await loadAudio(p, range);
    out.push(
      await encodeField(fields[i]!, {
        key: item.key,
        audio: stem,
        fileBytes: item.start === undefined ? new Uint8Array(readFileSync(p)) : undefined,
        values,
        onWarning,
      }),
    );
  }
  return out;
}

/** One field's encoding of a sample; an error that does not say which sample and field is told both. */
async function encodeField(field: Field, input: SampleInput): Promise<Encoded> {
  try {
    return await field.encode(input);
  } catch (e) {
    // The message is amended in place, so the error keeps its class, code and options.
    if (e instanceof WavelmError && !e.message.includes(input.key)) e.message = `${input.key}: field '${field.name}': ${e.message}`;
    throw e;
  }
}

/** encodeItem with its warnings collected and a WavelmError returned as data (workers send both back). */
export async function encodeItemOutcome(
  fields: Field[],
  specs: FieldSpec[],
  item: PlanItem,
  read: ReadPolicy,
  except: readonly number[] = [],
): Promise<ItemOutcome> {
  const warnings: string[] = [];
  try {
    return { encoded: await encodeItem(fields, specs, item, read, (m) => warnings.push(m), except), warnings };
  } catch (e) {
    if (!(e instanceof WavelmError)) throw e;
    return { error: { code: e.code, message: e.message, subject: e.subject, options: e.options }, warnings };
  }
}

export async function buildDataset(inputs: string[], opts: BuildOptions): Promise<BuildResult> {
  const t0 = performance.now();
  if (opts.fields.length === 0)
    throw new ConfigError('fields is empty: give at least one (e.g. fields waveform,label=int(from=regex:^(\\d+)_))', {
      options: ['fields'],
    });
  const warnings: string[] = [];
  const warn = (m: string): void => {
    warnings.push(m);
    opts.onWarning?.(m);
  };
  const plan = await makePlan(inputs, { ...opts, onWarning: warn });
  const ranges = shardRanges(plan.length, opts);
  const K = ranges.length;
  if (opts.shardIndex !== undefined && (!Number.isInteger(opts.shardIndex) || opts.shardIndex < 0 || opts.shardIndex >= K)) {
    throw new ConfigError(`shardIndex ${opts.shardIndex} is outside the plan's ${K} shards (0..${K - 1})`, { options: ['shardIndex'] });
  }
  const todo = opts.shardIndex !== undefined ? [opts.shardIndex] : ranges.map((_, i) => i);
  // Models are loaded (or downloaded) only once the options have been checked.
  const { specs, encoders } = await resolveTokenEncoders(withClassNames(opts.fields, plan), opts.codecTokenEncoder, opts.workers ?? 0);
  try {
    const result = await buildShards({ plan, ranges, todo, specs, encoders, warn }, opts);
    return { ...result, warnings, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await closeEncoders(encoders);
  }
}

/** What buildShards works from: the plan cut into shards, those to build, the fields' specs and encoders. */
interface ShardWork {
  plan: PlanItem[];
  ranges: [number, number][];
  todo: number[];
  specs: FieldSpec[];
  encoders: Map<number, CodecTokenEncoder>;
  warn: (message: string) => void;
}

/** buildDataset's work once the plan and the fields' encoders are known: encodes and writes the shards in `todo`. */
async function buildShards(
  { plan, ranges, todo, specs, encoders, warn }: ShardWork,
  opts: BuildOptions,
): Promise<Omit<BuildResult, 'warnings' | 'seconds'>> {
  const fields = specs.map((s) => createField(s.name, s.type, s.args));
  const read: ReadPolicy = { allowTruncated: opts.allowTruncated };
  const tokenFields = [...encoders.keys()];
  const tokenStep =
    encoders.size === 0
      ? undefined
      : new TokenStep(fields, encoders, opts.cacheDir === undefined ? undefined : new TokenCache(opts.cacheDir), (item, onWarning) =>
          loadAudio(item.path, itemRange(item, read, onWarning)),
        );
  const K = ranges.length;
  const progress = opts.progress ?? silentProgress;
  progress.start(
    todo.reduce((a, s) => a + ranges[s]![1] - ranges[s]![0], 0),
    'build',
  );
  const workers = opts.workers ?? 0;
  let pool: WorkerPool<PlanItem, ItemOutcome, EncodeWorkerInit> | undefined;
  // Scalars cost nothing to encode: a build whose audio fields are all encoder-made starts no field workers.
  if (workers > 0 && fields.some((f, i) => f.kind === 'array' && !tokenFields.includes(i))) {
    const { WorkerPool } = await import('../engine/pool.js');
    pool = await WorkerPool.create<PlanItem, ItemOutcome, EncodeWorkerInit>(new URL('./encode-worker.js', import.meta.url), {
      size: workers,
      init: { specs, read, tokenFields },
    });
  }
  const shards: BuildResult['shards'] = [];
  const skipped: BuildResult['skipped'] = [];
  try {
    for (const s of todo) {
      const [a, b] = ranges[s]!;
      const path = shardPath(opts.out, s, K);
      // The writer reads its metadata at close(), after the shard's left-out items are known.
      const shard: Record<string, unknown> = { index: s, count: K, first: a, samples: b - a, plan: plan.length };
      const w = new DatasetWriter(path, fields, { metadata: { ...opts.metadata, tool: `wavelm ${packageVersion()}`, shard } });
      const left: BuildResult['skipped'] = [];
      try {
        // Encode a window of items at a time (bounded memory), write them in plan order.
        const WINDOW = Math.max(16, workers * 8);
        for (let i = a; i < b; i += WINDOW) {
          const batch = plan.slice(i, Math.min(b, i + WINDOW));
          const [outcomes, tokens] = await Promise.all([
            pool ? pool.map(batch) : serial(batch, (it) => encodeItemOutcome(fields, specs, it, read, tokenFields)),
            tokenStep ? Promise.all(batch.map((it) => tokenStep.run(it))) : undefined,
          ]);
          for (const [j, rest] of outcomes.entries()) {
            const o = tokens ? joinOutcomes(rest, tokens[j]!, tokenFields) : rest;
            for (const m of o.warnings) warn(m);
            if (o.encoded) {
              w.add(o.encoded);
              continue;
            }
            const err = o.error!;
            if (!opts.skipUnreadable)
              throw new WavelmError(err.code, `${err.message}; or skipUnreadable leaves unreadable files out of the build`, {
                subject: err.subject,
                options: [...(err.options ?? []), 'skipUnreadable'],
              });
            left.push({ key: batch[j]!.key, reason: err.message });
            warn(`skipped ${err.message}`);
          }
          progress.tick(batch.length);
        }
        shard.samples = b - a - left.length;
        if (left.length > 0) shard.skipped = left;
        skipped.push(...left);
        const r = w.close();
        shards.push({ index: s, path, samples: r.numSamples, bytes: r.bytes });
      } catch (e) {
        w.abort();
        throw e;
      }
    }
  } finally {
    progress.stop();
    await pool?.close();
  }
  return { plan: { samples: plan.length, shards: K }, shards, skipped, ...(tokenStep ? { codecTokens: { ...tokenStep.counts } } : {}) };
}

async function serial<T, R>(xs: T[], fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (const x of xs) out.push(await fn(x));
  return out;
}
