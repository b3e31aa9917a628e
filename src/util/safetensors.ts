/**
 * safetensors reader and writer (https://huggingface.co/docs/safetensors): an 8-byte little-endian
 * header length N, N bytes of JSON {name: {dtype, shape, data_offsets}}, then the data. Used for
 * fixtures, checkpoints and EnCodec weights. Every size and offset read from a file is checked
 * against the file before use.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { FormatError, UnsupportedError } from './errors.js';

export type DType = 'F64' | 'F32' | 'F16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'U16' | 'U32' | 'BOOL';
export type TensorData =
  | Float64Array
  | Float32Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigInt64Array;

export interface Tensor {
  dtype: DType;
  shape: number[];
  data: TensorData;
}

const BYTES: Record<DType, number> = { F64: 8, F32: 4, F16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, U16: 2, U32: 4, BOOL: 1 };

export interface SafetensorsFile {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

function product(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function view(dtype: DType, bytes: Uint8Array): TensorData {
  // Copy so the result is aligned and independent of the file buffer (Buffer#slice would not copy).
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  const b = copy.buffer;
  switch (dtype) {
    case 'F64':
      return new Float64Array(b);
    case 'F32':
      return new Float32Array(b);
    case 'I64':
      return new BigInt64Array(b);
    case 'I32':
      return new Int32Array(b);
    case 'I16':
      return new Int16Array(b);
    case 'I8':
      return new Int8Array(b);
    case 'U8':
    case 'BOOL':
      return copy;
    case 'U16':
    case 'F16':
      return new Uint16Array(b);
    case 'U32':
      return new Uint32Array(b);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What a JSON value is, for messages: `null`, `an array`, `a number`, ... */
function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** Parses a safetensors buffer. `name` is used in error messages. */
export function parseSafetensors(buf: Uint8Array, name = 'safetensors data'): SafetensorsFile {
  if (buf.length < 8) throw new FormatError(`${name}: ${buf.length} bytes is too short for a safetensors header`, { subject: name });
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = dv.getBigUint64(0, true);
  if (n > BigInt(buf.length - 8))
    throw new FormatError(`${name}: header length ${n} exceeds the file (${buf.length} bytes)`, { subject: name });
  const headerLen = Number(n);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new FormatError(`${name}: header is not valid JSON`, { subject: name, cause: e });
  }
  if (!isObject(parsed))
    throw new FormatError(`${name}: header is ${describeJson(parsed)}, not a JSON object of tensors`, { subject: name });
  const header = parsed;
  const dataStart = 8 + headerLen;
  const dataLen = buf.length - dataStart;
  const tensors = new Map<string, Tensor>();
  let metadata: Record<string, string> = {};
  for (const [key, raw] of Object.entries(header)) {
    if (key === '__metadata__') {
      if (raw !== null && !(isObject(raw) && Object.values(raw).every((v) => typeof v === 'string'))) {
        throw new FormatError(`${name}: __metadata__ is ${describeJson(raw)}, not an object of strings`, { subject: name });
      }
      metadata = (raw ?? {}) as Record<string, string>;
      continue;
    }
    if (!isObject(raw))
      throw new FormatError(`${name}: tensor ${key} is ${describeJson(raw)}, not an object with dtype, shape and data_offsets`, {
        subject: name,
      });
    const info = raw as { dtype?: string; shape?: unknown; data_offsets?: unknown };
    const dtype = info.dtype as DType;
    if (!Object.hasOwn(BYTES, dtype))
      throw new UnsupportedError(`${name}: tensor ${key} has unsupported dtype ${String(info.dtype)}`, { subject: name });
    const shape = info.shape;
    const offs = info.data_offsets;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
      throw new FormatError(`${name}: tensor ${key} has an invalid shape`, { subject: name });
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isInteger(d) && d >= 0))
      throw new FormatError(`${name}: tensor ${key} has invalid data_offsets`, { subject: name });
    const [begin, end] = offs as [number, number];
    if (begin > end || end > dataLen)
      throw new FormatError(`${name}: tensor ${key} data [${begin}, ${end}) lies outside the ${dataLen} data bytes`, { subject: name });
    const expected = product(shape as number[]) * BYTES[dtype];
    if (end - begin !== expected)
      throw new FormatError(`${name}: tensor ${key} holds ${end - begin} bytes, its shape needs ${expected}`, { subject: name });
    tensors.set(key, { dtype, shape: shape as number[], data: view(dtype, buf.subarray(dataStart + begin, dataStart + end)) });
  }
  return { tensors, metadata };
}

export function readSafetensors(path: string): SafetensorsFile {
  return parseSafetensors(readFileSync(path), path);
}

function dtypeOf(data: TensorData): DType {
  if (data instanceof Float64Array) return 'F64';
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Int32Array) return 'I32';
  if (data instanceof Int16Array) return 'I16';
  if (data instanceof Int8Array) return 'I8';
  if (data instanceof Uint16Array) return 'U16';
  if (data instanceof Uint32Array) return 'U32';
  if (data instanceof BigInt64Array) return 'I64';
  return 'U8';
}

/** Serialises tensors (in sorted-name order, as the reference writer does) to a safetensors buffer. */
export function serializeSafetensors(
  tensors: Record<string, { shape: number[]; data: TensorData; dtype?: DType }>,
  metadata?: Record<string, string>,
): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const k of names) {
    const t = tensors[k]!;
    const dtype = t.dtype ?? dtypeOf(t.data);
    header[k] = { dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const hbytes = Buffer.from(json);
  const out = new Uint8Array(8 + hbytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hbytes.length), true);
  out.set(hbytes, 8);
  let p = 8 + hbytes.length;
  for (const k of names) {
    const d = tensors[k]!.data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), p);
    p += d.byteLength;
  }
  return out;
}

export function writeSafetensors(
  path: string,
  tensors: Record<string, { shape: number[]; data: TensorData; dtype?: DType }>,
  metadata?: Record<string, string>,
): void {
  writeFileSync(path, serializeSafetensors(tensors, metadata));
}

/** Returns a tensor as Float64Array whatever its stored float or integer type (not for I64). */
export function toFloat64(t: Tensor): Float64Array {
  if (t.data instanceof Float64Array) return t.data;
  if (t.data instanceof BigInt64Array) return Float64Array.from(t.data, (x) => Number(x));
  return Float64Array.from(t.data as ArrayLike<number>);
}
