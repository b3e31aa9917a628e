/**
 * Python pickles of numpy data, read and written without running any Python: the reader is a pickle
 * machine (opcodes of https://github.com/python/cpython/blob/main/Lib/pickletools.py, protocols 2-5)
 * that builds only plain data (None, bools, numbers, str, bytes, lists, tuples, dicts) and numpy
 * arrays. The only callables it knows are numpy's array and dtype reconstructors and JAX's
 * `jax._src.array._reconstruct_array` (how a jax.Array pickles: a numpy array put on a device); any
 * other global is refused, so a hostile file cannot make it do anything else.
 *
 * This is what `np.savez(**params)` stores for Haiku's parameter dicts: each member is a 0-d object
 * array whose one element is a dict of arrays, pickled.
 */
import { FormatError, UnsupportedError } from './errors.js';

export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** A numpy array from a pickle: its dtype as a .npy descr ('<f4', '|O'), shape, and raw bytes or objects. */
export class PickledArray {
  descr = '';
  shape: number[] = [];
  bytes?: Uint8Array;
  objects?: PyValue[];
}

export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | PyTuple
  | Map<string | number, PyValue>
  | PickledArray
  | PyObject;

/** Something made by a known callable that is completed by BUILD (a dtype) or is a callable itself. */
class PyObject {
  constructor(
    readonly kind: 'global' | 'dtype',
    readonly name: string,
    public order = '|',
  ) {}
}

const ARRAY_RECONSTRUCT = new Set(['numpy.core.multiarray._reconstruct', 'numpy._core.multiarray._reconstruct']);
const FROMBUFFER = new Set(['numpy.core.numeric._frombuffer', 'numpy._core.numeric._frombuffer']);
const KNOWN_GLOBALS = new Set([
  ...ARRAY_RECONSTRUCT,
  ...FROMBUFFER,
  'numpy.ndarray',
  'numpy.dtype',
  'jax._src.array._reconstruct_array',
  '_codecs.encode',
]);

class Reader {
  private pos = 0;
  private readonly dv: DataView;
  constructor(
    private readonly buf: Uint8Array,
    private readonly name: string,
  ) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  need(n: number): void {
    if (n < 0 || this.pos + n > this.buf.length)
      throw new FormatError(`${this.name}: the pickle ends early (needs ${n} bytes at offset ${this.pos})`, { subject: this.name });
  }
  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  u16(): number {
    this.need(2);
    const v = this.dv.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.dv.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.dv.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u64(): number {
    this.need(8);
    const v = this.dv.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(this.buf.length))
      throw new FormatError(`${this.name}: a length of ${v} bytes is more than the pickle holds`, { subject: this.name });
    return Number(v);
  }
  f64be(): number {
    this.need(8);
    const v = this.dv.getFloat64(this.pos, false);
    this.pos += 8;
    return v;
  }
  bytes(n: number): Uint8Array {
    this.need(n);
    const v = new Uint8Array(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return v;
  }
  text(n: number): string {
    return Buffer.from(this.bytes(n)).toString('utf8');
  }
  line(): string {
    const end = this.buf.indexOf(0x0a, this.pos);
    if (end < 0) throw new FormatError(`${this.name}: the pickle ends inside a line`, { subject: this.name });
    const s = Buffer.from(this.buf.subarray(this.pos, end)).toString('utf8');
    this.pos = end + 1;
    return s;
  }
  get offset(): number {
    return this.pos;
  }
}

function signedLittle(b: Uint8Array): number | bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  if (b.length > 0 && b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

const MARK = Symbol('mark');
type StackItem = PyValue | typeof MARK;

/** The descr of a numpy dtype built from `numpy.dtype(spec)` and its BUILD state (byte order at index 1). */
function dtypeDescr(d: PyObject): string {
  return d.name === 'O8' || d.name === 'O4' ? '|O' : d.order + d.name;
}

/** Runs a pickle and returns the object it builds. `name` is used in error messages. */
export function unpickle(buf: Uint8Array, name = 'pickle'): PyValue {
  const r = new Reader(buf, name);
  const stack: StackItem[] = [];
  const memo = new Map<number, PyValue>();
  const bad = (what: string): never => {
    throw new FormatError(`${name}: malformed pickle (${what} at offset ${r.offset})`, { subject: name });
  };
  const pop = (): PyValue => {
    const v = stack.pop();
    if (v === undefined || v === MARK) return bad('stack underflow');
    return v;
  };
  const popMark = (): PyValue[] => {
    const at = stack.lastIndexOf(MARK);
    if (at < 0) bad('no mark');
    const items = stack.splice(at) as PyValue[];
    items.shift();
    return items;
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) return bad('empty stack');
    return v;
  };
  const setItems = (target: PyValue, kv: PyValue[]) => {
    if (!(target instanceof Map)) return bad('SETITEM on a non-dict');
    for (let i = 0; i + 1 < kv.length; i += 2) {
      const k = kv[i];
      if (typeof k !== 'string' && typeof k !== 'number')
        throw new UnsupportedError(`${name}: a dict key of type ${typeof k}; only str and int keys are read`, { subject: name });
      target.set(k, kv[i + 1]!);
    }
  };
  const global = (module: string, attr: string): PyObject => {
    const full = `${module}.${attr}`;
    if (!KNOWN_GLOBALS.has(full))
      throw new UnsupportedError(`${name}: the pickle calls ${full}, which is not numpy or JAX array data; refusing to load it`, {
        subject: name,
      });
    return new PyObject('global', full);
  };
  const call = (fn: PyValue, argsValue: PyValue): PyValue => {
    if (!(fn instanceof PyObject) || fn.kind !== 'global') return bad('REDUCE on a non-callable');
    const args = argsValue instanceof PyTuple ? argsValue.items : bad('REDUCE arguments are not a tuple');
    if (ARRAY_RECONSTRUCT.has(fn.name)) return new PickledArray();
    if (fn.name === 'numpy.dtype') {
      if (typeof args[0] !== 'string') return bad('numpy.dtype without a type string');
      return new PyObject('dtype', args[0]);
    }
    if (fn.name === 'jax._src.array._reconstruct_array') {
      const [inner, innerArgs, state] = args;
      const arr = call(inner ?? null, innerArgs ?? null);
      build(arr, state ?? null);
      return arr;
    }
    if (FROMBUFFER.has(fn.name)) {
      const [data, dtype, shape] = args;
      const arr = new PickledArray();
      if (!(data instanceof Uint8Array) || !(dtype instanceof PyObject) || !(shape instanceof PyTuple)) return bad('_frombuffer arguments');
      arr.descr = dtypeDescr(dtype);
      arr.shape = shape.items.map(Number);
      arr.bytes = data;
      return arr;
    }
    if (fn.name === '_codecs.encode') {
      if (typeof args[0] !== 'string') return bad('_codecs.encode of a non-string');
      return new Uint8Array(Buffer.from(args[0], 'latin1'));
    }
    return bad(`call of ${fn.name}`);
  };
  const build = (obj: PyValue, state: PyValue): void => {
    const items = state instanceof PyTuple ? state.items : [];
    if (obj instanceof PyObject && obj.kind === 'dtype') {
      if (typeof items[1] === 'string') obj.order = items[1];
      return;
    }
    if (obj instanceof PickledArray) {
      // ndarray.__setstate__: (version, shape, dtype, is_fortran, data).
      const [, shape, dtype, fortran, data] = items;
      if (!(shape instanceof PyTuple) || !(dtype instanceof PyObject)) {
        bad('array state');
        return;
      }
      if (fortran === true && shape.items.length > 1)
        throw new UnsupportedError(`${name}: a Fortran-ordered array; save it C-ordered (np.ascontiguousarray)`, { subject: name });
      obj.descr = dtypeDescr(dtype);
      obj.shape = shape.items.map(Number);
      if (data instanceof Uint8Array) obj.bytes = data;
      else if (Array.isArray(data)) obj.objects = data;
      else bad('array data');
      return;
    }
    bad('BUILD on an unknown object');
  };

  for (;;) {
    const op = r.u8();
    switch (op) {
      case 0x80:
        r.u8();
        break; // PROTO
      case 0x95:
        r.u64();
        break; // FRAME (frames are only a read-ahead hint)
      case 0x2e:
        return pop(); // STOP
      case 0x28:
        stack.push(MARK);
        break;
      case 0x4e:
        stack.push(null);
        break;
      case 0x88:
        stack.push(true);
        break;
      case 0x89:
        stack.push(false);
        break;
      case 0x4a:
        stack.push(r.i32());
        break; // BININT
      case 0x4b:
        stack.push(r.u8());
        break; // BININT1
      case 0x4d:
        stack.push(r.u16());
        break; // BININT2
      case 0x8a:
        stack.push(signedLittle(r.bytes(r.u8())));
        break; // LONG1
      case 0x8b:
        stack.push(signedLittle(r.bytes(r.u32())));
        break; // LONG4
      case 0x47:
        stack.push(r.f64be());
        break; // BINFLOAT
      case 0x58:
        stack.push(r.text(r.u32()));
        break; // BINUNICODE
      case 0x8c:
        stack.push(r.text(r.u8()));
        break; // SHORT_BINUNICODE
      case 0x8d:
        stack.push(r.text(r.u64()));
        break; // BINUNICODE8
      case 0x55:
        stack.push(Buffer.from(r.bytes(r.u8())).toString('latin1'));
        break; // SHORT_BINSTRING
      case 0x54:
        stack.push(Buffer.from(r.bytes(r.u32())).toString('latin1'));
        break; // BINSTRING
      case 0x43:
        stack.push(r.bytes(r.u8()));
        break; // SHORT_BINBYTES
      case 0x42:
        stack.push(r.bytes(r.u32()));
        break; // BINBYTES
      case 0x8e:
        stack.push(r.bytes(r.u64()));
        break; // BINBYTES8
      case 0x96:
        stack.push(r.bytes(r.u64()));
        break; // BYTEARRAY8
      case 0x29:
        stack.push(new PyTuple([]));
        break;
      case 0x85:
        stack.push(new PyTuple([pop()]));
        break;
      case 0x86: {
        const b = pop();
        const a = pop();
        stack.push(new PyTuple([a, b]));
        break;
      }
      case 0x87: {
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(new PyTuple([a, b, c]));
        break;
      }
      case 0x74:
        stack.push(new PyTuple(popMark()));
        break; // TUPLE
      case 0x5d:
        stack.push([]);
        break; // EMPTY_LIST
      case 0x6c:
        stack.push(popMark());
        break; // LIST
      case 0x61: {
        const v = pop();
        const l = top();
        if (!Array.isArray(l)) bad('APPEND');
        (l as PyValue[]).push(v);
        break;
      }
      case 0x65: {
        const vs = popMark();
        const l = top();
        if (!Array.isArray(l)) bad('APPENDS');
        (l as PyValue[]).push(...vs);
        break;
      }
      case 0x7d:
        stack.push(new Map());
        break; // EMPTY_DICT
      case 0x64: {
        const m = new Map<string | number, PyValue>();
        setItems(m, popMark());
        stack.push(m);
        break;
      } // DICT
      case 0x73: {
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      } // SETITEM
      case 0x75: {
        const kv = popMark();
        setItems(top(), kv);
        break;
      } // SETITEMS
      case 0x63: {
        const module = r.line();
        stack.push(global(module, r.line()));
        break;
      } // GLOBAL
      case 0x93: {
        const attr = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof attr !== 'string') bad('STACK_GLOBAL');
        stack.push(global(module as string, attr as string));
        break;
      }
      case 0x52: {
        const args = pop();
        const fn = pop();
        stack.push(call(fn, args));
        break;
      } // REDUCE
      case 0x81: {
        const args = pop();
        const cls = pop();
        stack.push(call(cls, args));
        break;
      } // NEWOBJ
      case 0x62: {
        const state = pop();
        build(top(), state);
        break;
      } // BUILD
      case 0x94:
        memo.set(memo.size, top());
        break; // MEMOIZE
      case 0x71:
        memo.set(r.u8(), top());
        break; // BINPUT
      case 0x72:
        memo.set(r.u32(), top());
        break; // LONG_BINPUT
      case 0x68:
      case 0x6a: {
        // BINGET, LONG_BINGET
        const k = op === 0x68 ? r.u8() : r.u32();
        if (!memo.has(k)) bad(`memo ${k} unset`);
        stack.push(memo.get(k)!);
        break;
      }
      case 0x30:
        pop();
        break; // POP
      case 0x31:
        popMark();
        break; // POP_MARK
      case 0x32:
        stack.push(top());
        break; // DUP
      default:
        throw new UnsupportedError(
          `${name}: pickle opcode 0x${op.toString(16)} at offset ${r.offset - 1} is not read; save the arrays with np.savez of ` +
            'plain arrays instead',
          { subject: name },
        );
    }
  }
}

// ---- writing -----------------------------------------------------------------------------------

/** A pickle (protocol 3) of a 0-d object array holding a dict of float32 arrays: what np.savez stores for a Haiku module. */
export function pickleObjectArrayOfDict(entries: Array<[string, { shape: number[]; data: Float32Array }]>): Uint8Array {
  const out: Uint8Array[] = [Uint8Array.of(0x80, 3)];
  const op = (...b: number[]) => out.push(Uint8Array.from(b));
  const u32 = (n: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n, true);
    return b;
  };
  const str = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    op(0x58);
    out.push(u32(b.length), b);
  };
  const bytes = (b: Uint8Array) => {
    op(0x42);
    out.push(u32(b.length), b);
  };
  const int = (n: number) => {
    if (n < 256) op(0x4b, n);
    else {
      op(0x4a);
      out.push(u32(n));
    }
  };
  const global = (module: string, attr: string) => out.push(Buffer.from(`c${module}\n${attr}\n`, 'utf8'));
  // numpy's dtype.__reduce__: dtype(spec, False, True), state (3, order, None, None, None, -1, -1, flags).
  const dtype = (spec: string, order: string, flags: number) => {
    global('numpy', 'dtype');
    str(spec);
    op(0x89, 0x88, 0x87, 0x52);
    op(0x28);
    int(3);
    str(order);
    op(0x4e, 0x4e, 0x4e, 0x4a, 0xff, 0xff, 0xff, 0xff, 0x4a, 0xff, 0xff, 0xff, 0xff);
    int(flags);
    op(0x74, 0x62);
  };
  const arrayHead = () => {
    global('numpy.core.multiarray', '_reconstruct');
    global('numpy', 'ndarray');
    op(0x4b, 0, 0x85, 0x43, 1, 0x62, 0x87, 0x52);
  };
  const shapeTuple = (shape: number[]) => {
    op(0x28);
    for (const d of shape) int(d);
    op(0x74);
  };

  arrayHead();
  op(0x28);
  int(1);
  shapeTuple([]);
  dtype('O8', '|', 63);
  op(0x89); // (1, (), dtype('O'), False,
  op(0x5d, 0x7d, 0x28); // [ {  MARK
  for (const [key, t] of entries) {
    str(key);
    arrayHead();
    op(0x28);
    int(1);
    shapeTuple(t.shape);
    dtype('f4', '<', 0);
    op(0x89);
    bytes(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    op(0x74, 0x62); // TUPLE BUILD
  }
  op(0x75, 0x61); // SETITEMS, APPEND to the list
  op(0x74, 0x62, 0x2e); // TUPLE BUILD STOP
  return Buffer.concat(out);
}
