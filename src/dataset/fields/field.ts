/**
 * The Field protocol: every kind of per-sample data (waveform, compressed audio, mel, codec tokens,
 * byte-token chunks, scalars) is one Field. A field turns an input into fixed-width metadata plus one
 * blob of bytes, and decodes a batch of blobs into preallocated, zero-padded outputs with per-sample
 * lengths. Its parameters (`args`) are stored in the file's schema so a reader needs nothing else.
 */
import type { AudioData } from '../../audio/types.js';
import type { MetaColumn } from '../format.js';
import { ConfigError } from '../../util/errors.js';

export type ArrayDType = 'int16' | 'float32' | 'uint16' | 'uint8';
export type TypedArr = Int16Array | Float32Array | Uint16Array | Uint8Array;

export const DTYPE_BYTES: Record<ArrayDType, number> = { int16: 2, float32: 4, uint16: 2, uint8: 1 };

export function allocArray(dtype: ArrayDType, n: number, shared = false): TypedArr {
  const bytes = n * DTYPE_BYTES[dtype];
  const buf = shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
  return arrayOn(dtype, buf, 0, n);
}

export function arrayOn(dtype: ArrayDType, buf: ArrayBufferLike, byteOffset: number, n: number): TypedArr {
  switch (dtype) {
    case 'int16':
      return new Int16Array(buf, byteOffset, n);
    case 'float32':
      return new Float32Array(buf, byteOffset, n);
    case 'uint16':
      return new Uint16Array(buf, byteOffset, n);
    case 'uint8':
      return new Uint8Array(buf, byteOffset, n);
  }
}

/** A batch of an array field: `data` has `shape` [batch, ...inner, time]; `lengths[j]` is sample j's valid length on the last axis. */
export interface ArrayBatch {
  kind: 'array';
  dtype: ArrayDType;
  shape: number[];
  data: TypedArr;
  lengths: Int32Array;
}
/** A batch of a numeric scalar field. */
export interface ScalarBatch {
  kind: 'scalar';
  data: Float64Array;
}
/** A batch of a string or JSON field. */
export interface ValueBatch {
  kind: 'value';
  values: unknown[];
}
export type FieldBatch = ArrayBatch | ScalarBatch | ValueBatch;

/** What the writer hands each field for one sample. */
export interface SampleInput {
  /** A stable name for the sample (its source path and segment), used in errors and exports. */
  key: string;
  audio?: AudioData;
  /** The source file's bytes, for fields that keep an already-compressed file as it is (FLAC, MP3). */
  fileBytes?: Uint8Array;
  /** Values for non-audio fields, by field name (labels, text, token arrays). */
  values: Record<string, unknown>;
  /** Told what a field had to change in the sample that its options did not ask for (precision it cannot store). */
  onWarning?: (message: string) => void;
}

export interface Encoded {
  meta: number[];
  bytes: Uint8Array;
}

/** A time window on a field's last axis, in that axis' units (samples or frames). */
export interface Window {
  start: number;
  length: number;
}

/** One decoded sample, as `cat` and the exporters see it. */
export type DecodedValue =
  | { kind: 'array'; dtype: ArrayDType; shape: number[]; data: TypedArr; sampleRate?: number }
  | { kind: 'scalar'; value: number }
  | { kind: 'value'; value: unknown };

export interface Field {
  readonly name: string;
  readonly type: string;
  readonly args: Record<string, unknown>;
  readonly meta: MetaColumn[];
  /** 'array' fields fill ArrayBatch, 'scalar' fill ScalarBatch, 'value' fill ValueBatch. */
  readonly kind: 'array' | 'scalar' | 'value';
  /** Whether decoding costs real CPU (worth sending to worker threads). */
  readonly heavy: boolean;
  /** Whether the loader's crops apply to this field's last axis. */
  readonly croppable?: boolean;
  encode(input: SampleInput): Promise<Encoded> | Encoded;
  /** Checks one row's metadata against its blob length: a problem description, or undefined when consistent. */
  check(meta: readonly number[], length: number): string | undefined;
  /** Length of the last axis (samples or frames), for array fields. */
  timeLength?(meta: readonly number[]): number;
  /** Seconds of audio the sample holds, when the field knows it. */
  duration?(meta: readonly number[]): number;
  /** Output dtype and the inner shape (without batch and time axes) of one sample. */
  layout?(meta: readonly number[]): { dtype: ArrayDType; inner: number[] };
  /** The byte range of the blob that holds `window`, for fields that can read part of a sample. */
  byteRange?(meta: readonly number[], w: Window): [number, number];
  /**
   * Decodes `bytes` (the whole blob, or the byteRange of `w` when given and byteRange exists) into sample `j`
   * of `out`, whose inner dimensions may be larger than this sample's; returns the valid time length.
   */
  decodeInto?(out: ArrayBatch, j: number, bytes: Uint8Array, meta: readonly number[], w?: Window): number | Promise<number>;
  /** Decodes one sample completely. */
  decode(bytes: Uint8Array, meta: readonly number[]): DecodedValue | Promise<DecodedValue>;
}

/** Copies a planar [inner..., T] sample of length `len` into slot j of a batch shaped [B, ...inner', T'] (inner' >= inner, T' >= len). */
export function copyPlanar(out: ArrayBatch, j: number, src: TypedArr, inner: number[], len: number, srcT: number, srcStart = 0): void {
  const T = out.shape[out.shape.length - 1]!;
  const outInner = out.shape.slice(1, -1);
  const rows = inner.reduce((a, b) => a * b, 1);
  const slot = outInner.reduce((a, b) => a * b, 1) * T;
  const base = j * slot;
  // Map a row index of the source's inner dims onto the output's (larger or equal) inner dims.
  for (let r = 0; r < rows; r++) {
    let rem = r;
    let orow = 0;
    let mul = 1;
    for (let d = inner.length - 1; d >= 0; d--) {
      const idx = rem % inner[d]!;
      rem = Math.floor(rem / inner[d]!);
      orow += idx * mul;
      mul *= outInner[d]!;
    }
    const s = src.subarray(r * srcT + srcStart, r * srcT + srcStart + len);
    (out.data as Int16Array).set(s as Int16Array, base + orow * T);
  }
}

/** Reads a typed view of `bytes` (copying when unaligned). */
export function viewAs(dtype: ArrayDType, bytes: Uint8Array): TypedArr {
  const size = DTYPE_BYTES[dtype];
  const n = Math.floor(bytes.byteLength / size);
  if (bytes.byteOffset % size === 0) return arrayOn(dtype, bytes.buffer, bytes.byteOffset, n);
  const copy = bytes.slice(0, n * size);
  return arrayOn(dtype, copy.buffer, 0, n);
}

export function argNumber(args: Record<string, unknown>, key: string, def: number | undefined, field: string): number | undefined {
  const v = args[key];
  if (v === undefined || v === null) return def;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n))
    throw new ConfigError(`field '${field}': ${key} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

export function argBool(args: Record<string, unknown>, key: string, def: boolean, field: string): boolean {
  const v = args[key];
  if (v === undefined || v === null) return def;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === '1' || v === 'yes') return true;
  if (v === 'false' || v === '0' || v === 'no') return false;
  throw new ConfigError(`field '${field}': ${key} must be true or false, got ${JSON.stringify(v)}`);
}

export function argString<T extends string>(
  args: Record<string, unknown>,
  key: string,
  def: T,
  allowed: readonly T[] | undefined,
  field: string,
): T {
  const v = args[key];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'string' || (allowed && !allowed.includes(v as T))) {
    throw new ConfigError(
      `field '${field}': ${key} must be ${allowed ? `one of ${allowed.join(', ')}` : 'a string'}, got ${JSON.stringify(v)}`,
    );
  }
  return v as T;
}
