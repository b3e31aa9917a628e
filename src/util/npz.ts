/**
 * NumPy .npz files (a zip of .npy members, https://numpy.org/doc/stable/reference/generated/numpy.savez.html):
 * plain arrays and pickled object arrays (what `np.savez(**nested_dicts)` writes), stored or deflated.
 * Floating-point arrays come out as float32, the precision wavelm's models use.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { FormatError, NotFoundError, UnsupportedError } from './errors.js';
import { npyHeader, parseNpyHeader } from './npy.js';
import { PickledArray, pickleObjectArrayOfDict, unpickle, type PyValue } from './pickle.js';
import { readZip, writeZip } from './zip.js';

export interface Float32Tensor {
  shape: number[];
  data: Float32Array;
}

/** One member: a numeric array (its dtype descr and raw little-endian bytes) or, for object arrays, what the pickle holds. */
export type NpzMember = { kind: 'array'; array: PickledArray } | { kind: 'object'; value: PyValue };

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** A numeric array as float32 (from f2, f4 or f8, little-endian or native), checking its byte count against its shape. */
export function toFloat32(a: PickledArray, what: string): Float32Tensor {
  const n = a.shape.reduce((x, y) => x * y, 1);
  const kind = a.descr.replace(/^[<=|]/, '');
  if (a.descr.startsWith('>'))
    throw new UnsupportedError(`${what}: big-endian ${a.descr}; save it little-endian (astype('<f4'))`, { subject: what });
  const size = kind === 'f2' ? 2 : kind === 'f4' ? 4 : kind === 'f8' ? 8 : 0;
  if (size === 0)
    throw new UnsupportedError(
      `${what}: dtype ${a.descr} is not a float; only float16/32/64 parameters are read (convert bfloat16 with astype(np.float32))`,
      { subject: what },
    );
  const bytes = a.bytes;
  if (!bytes || bytes.length !== n * size)
    throw new FormatError(`${what}: ${bytes?.length ?? 0} data bytes for shape [${a.shape.join(', ')}] of ${a.descr} (needs ${n * size})`, {
      subject: what,
    });
  const copy = new Uint8Array(bytes); // a copy: aligned, and not a view on a pooled Buffer
  const dv = new DataView(copy.buffer);
  const out = new Float32Array(n);
  if (size === 4) out.set(new Float32Array(copy.buffer));
  else if (size === 8) for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
  else for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true));
  return { shape: [...a.shape], data: out };
}

function parseMember(bytes: Uint8Array, what: string): NpzMember {
  const h = parseNpyHeader(bytes, what);
  if (h.fortranOrder && h.shape.length > 1)
    throw new UnsupportedError(`${what}: Fortran-ordered array; save it C-ordered`, { subject: what });
  if (h.descr === '|O') return { kind: 'object', value: unpickle(bytes.subarray(h.dataOffset), what) };
  const a = new PickledArray();
  a.descr = h.descr;
  a.shape = h.shape;
  a.bytes = bytes.subarray(h.dataOffset);
  return { kind: 'array', array: a };
}

/** The members of an .npz buffer by key (the member name without `.npy`, as `np.load(...).files` lists them). */
export function parseNpz(buf: Uint8Array, name = 'npz data'): Map<string, NpzMember> {
  const out = new Map<string, NpzMember>();
  for (const [member, bytes] of readZip(buf, name)) {
    const key = member.endsWith('.npy') ? member.slice(0, -4) : member;
    out.set(key, parseMember(bytes, `${name}: ${member}`));
  }
  return out;
}

export function readNpz(path: string): Map<string, NpzMember> {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new NotFoundError(`${path}: cannot read the .npz file (${(e as Error).message})`, { subject: path, cause: e });
  }
  return parseNpz(buf, path);
}

/**
 * Writes an .npz whose every key holds a 0-d object array with a dict of float32 arrays (what
 * `np.savez('params.npz', **haiku_params)` writes; `np.load(path, allow_pickle=True)[key].item()` returns the dict).
 */
export function writeNpzOfDicts(path: string, dicts: Array<[string, Array<[string, Float32Tensor]>]>): void {
  const members: Array<[string, Uint8Array]> = dicts.map(([key, entries]) => [
    `${key}.npy`,
    Buffer.concat([npyHeader('|O', []), pickleObjectArrayOfDict(entries)]),
  ]);
  writeFileSync(path, writeZip(members));
}
