/**
 * Choosing an audio storage strategy before building a dataset (`wavelm dataset plan`): on a sample of the inputs,
 * every candidate field (raw waveform int16/float32, FLAC, Opus, mel float16/float32, codec tokens) is encoded and
 * written with the real writer, its bytes per second of audio are fitted, the decode cost of a batch is timed with
 * the real loader, and the sizes are extrapolated to the whole input from every file's header. A decision rule then
 * picks a layout from the model family and the disk budget.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAudioInfo } from '../audio/index.js';
import { ConfigError } from '../util/errors.js';
import { silentProgress, type ProgressSink } from '../util/progress.js';
import { encodeItem, makePlan, type PlanItem } from './build.js';
import { FOOTER_BYTES, HEADER_BYTES, rowSizeOf } from './format.js';
import { CodecTokensField } from './fields/codec-tokens.js';
import { createField, parseFieldSpecs, type FieldSpec } from './fields/index.js';
import type { Field } from './fields/field.js';
import { closeEncoders, encodesTokens, resolveTokenEncoders, type CodecTokenEncoderFactory } from './token-encoder.js';
import { Loader } from './loader.js';
import { DatasetReader } from './reader.js';
import { DatasetWriter } from './writer.js';

export type ModelFamily = 'waveform' | 'spectrogram' | 'token-lm';
export type Priority = 'speed' | 'space';

/** The candidates measured when none are given: one field of each storage kind. */
export const DEFAULT_CANDIDATES =
  'waveform_int16=waveform(dtype=int16),waveform_float32=waveform(dtype=float32),flac,opus,' +
  'mel_float16=mel(dtype=float16),mel_float32=mel(dtype=float32),codec_tokens=codec_tokens(n_codebooks=8,frame_rate=75)';

/** The decision rule, as the CLI's help and docs/dataset.md state it. */
export const DECISION_RULE =
  'token LMs: codec tokens; spectrogram models: mel float16; waveform models: raw int16 waveform when it fits the disk budget ' +
  '(fastest to decode), FLAC when it does not or when space is the priority (--prefer space), Opus (lossy) only when even FLAC ' +
  'does not fit';

export interface StoragePlanOptions {
  /** Candidate fields, as `dataset build --fields` takes them (default DEFAULT_CANDIDATES). */
  candidates?: FieldSpec[];
  /** Samples of the input measured (default 64), spread evenly over the plan. */
  sampleSize?: number;
  /** Batch size the decode cost is given for (default 32). */
  batchSize?: number;
  model?: ModelFamily;
  /** Bytes the dataset may take; none: unlimited. */
  diskBudget?: number;
  prefer?: Priority;
  /** As in dataset build: cut recordings into segments, keep one split of a manifest. */
  segmentSeconds?: number;
  split?: string;
  progress?: ProgressSink;
  /**
   * Resolves `codec_tokens(model=...)` candidates (as in dataset build): their codebooks and frame rate come from
   * the model and bandwidth. The plan encodes nothing with it; token sizes follow from those two.
   */
  codecTokenEncoder?: CodecTokenEncoderFactory;
}

export interface CandidateReport {
  name: string;
  type: string;
  args: Record<string, unknown>;
  lossy: boolean;
  /** Stored bytes per second of audio, on the sample. */
  bytesPerSecond: number;
  /** Predicted size of a dataset of this field alone over the whole input (blobs, table, schema, header, footer). */
  predictedBytes: number;
  /** Decode time of one batch of `batchSize` average samples, from the sample's timing. */
  decodeMsPerBatch: number;
  /** Seconds of audio decoded per second of wall time. */
  decodeRealtime: number;
  fitsBudget: boolean;
}

export interface StoragePlan {
  input: { samples: number; seconds: number };
  sample: { samples: number; seconds: number };
  batchSize: number;
  model: ModelFamily;
  prefer: Priority;
  diskBudget: number | null;
  rule: string;
  candidates: CandidateReport[];
  recommendation: { name: string; spec: string; reason: string } | null;
}

function isLossy(f: Field): boolean {
  return (f.type === 'compressed' && (f.args.codec === 'opus' || f.args.codec === 'mp3')) || f.type === 'mel' || f.type === 'codec_tokens';
}

/** Evenly spread indices of `k` out of `n` (deterministic, covering the whole plan, which is in folder order). */
export function spreadSample(n: number, k: number): number[] {
  if (k >= n) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: k }, (_, i) => Math.floor(((i + 0.5) * n) / k));
}

/** bytes ~ a * seconds + b over the sample (least squares), or a plain ratio when durations hardly vary. */
function fitBytes(seconds: number[], bytes: number[]): { a: number; b: number } {
  const n = seconds.length;
  const ms = seconds.reduce((x, y) => x + y, 0) / n;
  const mb = bytes.reduce((x, y) => x + y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (seconds[i]! - ms) ** 2;
    sxy += (seconds[i]! - ms) * (bytes[i]! - mb);
  }
  if (n >= 3 && sxx / n > (0.05 * ms) ** 2) {
    const a = sxy / sxx;
    const b = mb - a * ms;
    if (a > 0 && b >= 0) return { a, b };
  }
  return { a: ms > 0 ? mb / ms : 0, b: 0 };
}

/** Seconds of each plan item, from file headers only. */
async function durations(items: PlanItem[]): Promise<number[]> {
  const rates = new Map<string, { rate: number; frames: number }>();
  const out: number[] = [];
  for (const it of items) {
    let info = rates.get(it.path);
    if (!info) {
      const h = await readAudioInfo(it.path);
      info = { rate: h.sampleRate, frames: h.frames };
      rates.set(it.path, info);
    }
    const frames = it.start !== undefined ? it.end! - it.start : info.frames;
    out.push(frames / info.rate);
  }
  return out;
}

/** Candidates with model= get the codebooks and frame rate of their model and bandwidth; the encoders are closed unused. */
async function tokenShapesResolved(specs: FieldSpec[], factory: CodecTokenEncoderFactory | undefined): Promise<FieldSpec[]> {
  if (!specs.some(encodesTokens)) return specs;
  const resolved = await resolveTokenEncoders(specs, factory, 0);
  await closeEncoders(resolved.encoders);
  return resolved.specs;
}

/** The plan runs no codec: a codec-token sample gets zero codes of the length the field's frame rate gives (the size is what matters). */
function withSyntheticTokens(fields: Field[], item: PlanItem, seconds: number): PlanItem {
  const values = { ...item.values };
  for (const f of fields) {
    if (f instanceof CodecTokensField && values[f.name] === undefined) {
      const frames = Math.max(1, Math.ceil(seconds * f.frameRate));
      values[f.name] = { shape: [f.nCodebooks, frames], data: new Uint16Array(f.nCodebooks * frames) };
    }
  }
  return { ...item, values };
}

/** Times decoding one field of a dataset file through the loader: seconds per pass over all its samples. */
async function timeDecode(path: string, field: string, batchSize: number): Promise<number> {
  let passes = 0;
  const t0 = performance.now();
  // At least three passes and a quarter of a second, so one slow first read does not decide the figure.
  while (passes < 3 || performance.now() - t0 < 250) {
    const loader = new Loader(path, { batchSize, fields: [field], order: 'sequential', verify: false });
    try {
      for await (const _ of loader) {
        /* decoding is the work measured */
      }
    } finally {
      await loader.close();
    }
    passes++;
    if (passes >= 50) break;
  }
  return (performance.now() - t0) / 1000 / passes;
}

/** 1.23 GB, 45.6 MB, 789 kB (powers of 1000, as disk sizes are sold). */
export function humanBytes(b: number): string {
  if (b >= 1e12) return `${(b / 1e12).toFixed(2)} TB`;
  if (b >= 1e9) return `${(b / 1e9).toFixed(2)} GB`;
  if (b >= 1e6) return `${(b / 1e6).toFixed(1)} MB`;
  return `${(b / 1e3).toFixed(0)} kB`;
}

/** The decision rule over the measured candidates. */
export function recommend(
  cands: CandidateReport[],
  specs: Map<string, string>,
  model: ModelFamily,
  prefer: Priority,
): StoragePlan['recommendation'] {
  const fits = cands.filter((c) => c.fitsBudget);
  const pick = (c: CandidateReport, reason: string) => ({ name: c.name, spec: specs.get(c.name)!, reason });
  const smallest = (cs: CandidateReport[]) => cs.reduce((a, b) => (b.predictedBytes < a.predictedBytes ? b : a));
  const size = (c: CandidateReport) => humanBytes(c.predictedBytes);
  if (model === 'token-lm' || model === 'spectrogram') {
    const want = model === 'token-lm' ? cands.filter((c) => c.type === 'codec_tokens') : cands.filter((c) => c.type === 'mel');
    if (want.length === 0) return null;
    const preferred = model === 'spectrogram' ? want.filter((c) => c.args.dtype === 'float16') : want;
    const pool = (preferred.length ? preferred : want).filter((c) => c.fitsBudget);
    const c = pool.length ? smallest(pool) : smallest(want);
    const what =
      model === 'token-lm'
        ? "token LMs train on codec tokens (sizes from the field's frame rate; add model=DIR|ID,bandwidth=KBPS to the spec to encode " +
          'them with EnCodec during the build)'
        : 'spectrogram models train on mel frames, and float16 halves float32 at no loss a model notices';
    return pick(c, `${what}: ${size(c)}${c.fitsBudget ? '' : ', over the disk budget (nothing of this kind fits)'}`);
  }
  const raw = cands.filter((c) => c.type === 'waveform' && c.args.dtype === 'int16');
  const flac = cands.filter((c) => c.type === 'compressed' && c.args.codec === 'flac');
  const opus = cands.filter((c) => c.type === 'compressed' && c.args.codec === 'opus');
  const fitting = (cs: CandidateReport[]) => cs.filter((c) => c.fitsBudget);
  if (prefer === 'speed' && fitting(raw).length) {
    const c = fitting(raw)[0]!;
    return pick(
      c,
      `waveform model, decode speed first and the raw int16 waveform fits the budget (${size(c)}; decodes at ` +
        `${Math.round(c.decodeRealtime)}x real time)`,
    );
  }
  if (fitting(flac).length) {
    const c = smallest(fitting(flac));
    const r = raw[0];
    return pick(
      c,
      prefer === 'space'
        ? `waveform model, space first: FLAC is lossless at ${size(c)}${r ? ` against ${size(r)} raw` : ''}`
        : `waveform model: the raw int16 waveform (${r ? size(r) : 'not measured'}) does not fit the budget, lossless FLAC does ` +
            `(${size(c)})`,
    );
  }
  if (fitting(opus).length) {
    const c = smallest(fitting(opus));
    return pick(c, `waveform model: neither raw nor FLAC fits the budget; Opus does (${size(c)}) but is lossy`);
  }
  const wave = [...raw, ...flac, ...opus];
  if (wave.length === 0) return fits.length ? pick(smallest(fits), 'no waveform candidate was measured; the smallest that fits') : null;
  const c = smallest(wave);
  return pick(c, `waveform model: nothing fits the budget; the smallest waveform layout is ${size(c)}`);
}

export async function planStorage(inputs: string[], opts: StoragePlanOptions = {}): Promise<StoragePlan> {
  const specs = await tokenShapesResolved(opts.candidates ?? parseFieldSpecs(DEFAULT_CANDIDATES), opts.codecTokenEncoder);
  if (specs.length === 0)
    throw new ConfigError('candidates is empty: no fields to measure (e.g. candidates waveform,flac)', { options: ['candidates'] });
  const model = opts.model ?? 'waveform';
  if (!['waveform', 'spectrogram', 'token-lm'].includes(model))
    throw new ConfigError(`model must be waveform, spectrogram or token-lm, got '${model}'`, { subject: 'model', options: ['model'] });
  const prefer = opts.prefer ?? 'speed';
  if (prefer !== 'speed' && prefer !== 'space')
    throw new ConfigError(`prefer must be speed or space, got '${String(prefer)}'`, { subject: 'prefer', options: ['prefer'] });
  const batchSize = opts.batchSize ?? 32;
  const sampleSize = opts.sampleSize ?? 64;
  if (!Number.isInteger(sampleSize) || sampleSize < 1)
    throw new ConfigError(`sampleSize must be a positive integer, got ${sampleSize}`, { subject: 'sampleSize', options: ['sampleSize'] });
  if (opts.diskBudget !== undefined && !(opts.diskBudget > 0))
    throw new ConfigError(`diskBudget must be positive, got ${opts.diskBudget}`, { subject: 'diskBudget', options: ['diskBudget'] });
  const fields = specs.map((s) => createField(s.name, s.type, s.args));
  const items = await makePlan(inputs, { fields: specs, segmentSeconds: opts.segmentSeconds, split: opts.split });
  const secs = await durations(items);
  const totalSeconds = secs.reduce((a, b) => a + b, 0);
  const picked = spreadSample(items.length, sampleSize);
  const progress = opts.progress ?? silentProgress;
  const dir = mkdtempSync(join(tmpdir(), 'wavelm-plan-'));
  try {
    const file = join(dir, 'sample.wlds');
    const w = new DatasetWriter(file, fields, { sync: false });
    progress.start(picked.length, 'sample');
    try {
      for (const i of picked) {
        w.add(await encodeItem(fields, specs, withSyntheticTokens(fields, items[i]!, secs[i]!)));
        progress.tick(1);
      }
      w.close();
    } catch (e) {
      w.abort();
      throw e;
    } finally {
      progress.stop();
    }
    const sampleSeconds = picked.map((i) => secs[i]!);
    const sampleTotal = sampleSeconds.reduce((a, b) => a + b, 0);
    const reader = DatasetReader.open(file);
    const blobBytes: number[][] = fields.map(() => []);
    try {
      for (let j = 0; j < reader.numSamples; j++) for (let k = 0; k < fields.length; k++) blobBytes[k]!.push(reader.blobLength(j, k));
    } finally {
      await reader.close();
    }
    const meanSeconds = totalSeconds / Math.max(1, items.length);
    const candidates: CandidateReport[] = [];
    for (let k = 0; k < fields.length; k++) {
      const f = fields[k]!;
      const { a, b } = fitBytes(sampleSeconds, blobBytes[k]!);
      let blobs = 0;
      for (const s of secs) blobs += Math.round(a * s + b);
      const schema =
        JSON.stringify({
          format: 'wavelm-dataset',
          version: 1,
          fields: [{ name: f.name, type: f.type, args: f.args, meta: f.meta }],
          metadata: {},
        }).length + 256;
      const predicted = HEADER_BYTES + blobs + items.length * rowSizeOf([f]) + schema + FOOTER_BYTES;
      const pass = await timeDecode(file, f.name, batchSize);
      const perSecond = sampleTotal > 0 ? pass / sampleTotal : 0;
      candidates.push({
        name: f.name,
        type: f.type,
        args: f.args,
        lossy: isLossy(f),
        bytesPerSecond: sampleTotal > 0 ? blobBytes[k]!.reduce((x, y) => x + y, 0) / sampleTotal : 0,
        predictedBytes: predicted,
        decodeMsPerBatch: perSecond * meanSeconds * batchSize * 1000,
        decodeRealtime: pass > 0 ? sampleTotal / pass : Infinity,
        fitsBudget: opts.diskBudget === undefined || predicted <= opts.diskBudget,
      });
    }
    const specText = new Map(
      specs.map((s) => [
        s.name,
        `${s.name === s.type ? '' : `${s.name}=`}${s.type}${
          Object.keys(s.args).length
            ? `(${Object.entries(s.args)
                .map(([k, v]) => `${k}=${String(v)}`)
                .join(',')})`
            : ''
        }`,
      ]),
    );
    return {
      input: { samples: items.length, seconds: totalSeconds },
      sample: { samples: picked.length, seconds: sampleTotal },
      batchSize,
      model,
      prefer,
      diskBudget: opts.diskBudget ?? null,
      rule: DECISION_RULE,
      candidates,
      recommendation: recommend(candidates, specText, model, prefer),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Parses a disk budget: bytes, or a number with K/M/G/T (powers of 1000) or KiB/MiB/GiB/TiB (powers of 1024). */
export function parseByteSize(v: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B?|B)?\s*$/i.exec(v);
  if (!m) throw new ConfigError(`'${v}' is not a size (e.g. 500GB, 20GiB, 1e9 bytes as 1000000000)`, { subject: v });
  const n = Number(m[1]);
  const unit = (m[2] ?? 'B').toUpperCase();
  const pow = { B: 0, K: 1, M: 2, G: 3, T: 4 }[unit[0]! as 'B' | 'K' | 'M' | 'G' | 'T'];
  const base = unit.includes('I') ? 1024 : 1000;
  return n * base ** pow;
}
