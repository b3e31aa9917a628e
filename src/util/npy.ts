/** NumPy .npy (format version 1.0) reader and writer, so arrays wavelm writes load with numpy.load. */
import { readFileSync, writeFileSync } from 'node:fs';
import { FormatError, UnsupportedError } from './errors.js';

export type NpyData = Float32Array | Float64Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Int8Array | Uint32Array;

const DESCR: [new (n: number) => NpyData, string][] = [
  [Float32Array, '<f4'],
  [Float64Array, '<f8'],
  [Int16Array, '<i2'],
  [Int32Array, '<i4'],
  [Uint8Array, '|u1'],
  [Uint16Array, '<u2'],
  [Int8Array, '|i1'],
  [Uint32Array, '<u4'],
];

export interface NpyArray {
  shape: number[];
  data: NpyData;
}

/** The .npy dtype string of a typed array's element type. */
export function npyDescr(data: NpyData): string {
  const entry = DESCR.find(([ctor]) => data instanceof ctor);
  if (!entry) throw new UnsupportedError('npy: unsupported array type');
  return entry[1];
}

/**
 * Magic, version 1.0, header length and header of an array, padded with spaces so the data starts on
 * a 64-byte boundary (memory-mappable). `growthDigits` leaves room for the first dimension to be
 * rewritten later with up to that many digits, as numpy's own writer does (GROWTH_AXIS_MAX_DIGITS in
 * numpy/lib/format.py).
 */
export function npyHeader(descr: string, shape: number[], growthDigits = 0): Uint8Array {
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  header += ' '.repeat(Math.max(0, growthDigits - String(shape[0] ?? '').length));
  const total = 10 + header.length + 1;
  header += `${' '.repeat((64 - (total % 64)) % 64)}\n`;
  if (header.length > 0xffff) throw new UnsupportedError(`npy: header of ${header.length} bytes does not fit format 1.0`);
  const out = new Uint8Array(10 + header.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  return out;
}

export function serializeNpy(data: NpyData, shape: number[]): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new FormatError(`npy: shape [${shape.join(', ')}] holds ${n} elements, data has ${data.length}`);
  const header = npyHeader(npyDescr(data), shape);
  const out = new Uint8Array(header.length + data.byteLength);
  out.set(header, 0);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), header.length);
  return out;
}

export function writeNpy(path: string, data: NpyData, shape: number[]): void {
  writeFileSync(path, serializeNpy(data, shape));
}

export interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** Where the array's bytes (or, for object arrays, its pickle) start. */
  dataOffset: number;
}

/** The header of a .npy buffer (any dtype, object arrays included). */
export function parseNpyHeader(buf: Uint8Array, name = 'npy data'): NpyHeader {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (buf.length < 10 || !magic.every((b, i) => buf[i] === b))
    throw new FormatError(`${name}: not a .npy file (bad magic)`, { subject: name });
  const major = buf[6]!;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const hstart = major === 1 ? 10 : 12;
  if (hstart > buf.length) throw new FormatError(`${name}: header runs past the end of the file`, { subject: name });
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  if (hstart + hlen > buf.length) throw new FormatError(`${name}: header runs past the end of the file`, { subject: name });
  const header = Buffer.from(buf.subarray(hstart, hstart + hlen)).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeM = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeM === undefined) throw new FormatError(`${name}: unreadable header`, { subject: name });
  const shape = shapeM
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new FormatError(`${name}: bad shape (${shapeM})`, { subject: name });
  return { descr, fortranOrder: fortran === 'True', shape, dataOffset: hstart + hlen };
}

export function parseNpy(buf: Uint8Array, name = 'npy data'): NpyArray {
  const { descr, fortranOrder, shape, dataOffset: start } = parseNpyHeader(buf, name);
  if (fortranOrder) throw new UnsupportedError(`${name}: Fortran-ordered arrays are not supported`, { subject: name });
  const entry = DESCR.find(([, d]) => d === descr || (d.slice(1) === descr.slice(1) && descr[0] === '='));
  if (!entry) throw new UnsupportedError(`${name}: dtype ${descr} is not supported`, { subject: name });
  const n = shape.reduce((a, b) => a * b, 1);
  const ctor = entry[0] as unknown as { new (b: ArrayBuffer): NpyData; BYTES_PER_ELEMENT: number };
  if (start + n * ctor.BYTES_PER_ELEMENT > buf.length)
    throw new FormatError(`${name}: data is shorter than shape [${shape.join(', ')}] needs`, { subject: name });
  // Copy (Buffer#slice would return a view on the whole file) so the array owns aligned bytes.
  const bytes = new Uint8Array(n * ctor.BYTES_PER_ELEMENT);
  bytes.set(buf.subarray(start, start + n * ctor.BYTES_PER_ELEMENT));
  return { shape, data: new ctor(bytes.buffer) };
}

export function readNpy(path: string): NpyArray {
  return parseNpy(readFileSync(path), path);
}
