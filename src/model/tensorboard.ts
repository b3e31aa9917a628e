/**
 * TensorBoard scalar event files, written without TensorFlow: TFRecord framing
 * (uint64 length, masked CRC-32C of the length, the payload, masked CRC-32C of the payload) around
 * hand-encoded protobuf `Event` messages (tensorflow/core/util/event.proto):
 *
 *   Event        { double wall_time = 1; int64 step = 2; string file_version = 3;
 *                  Summary summary = 5; SessionLog session_log = 7; }
 *   Summary      { repeated Value value = 1; }
 *   Value        { string tag = 1; float simple_value = 2; }
 *   SessionLog   { SessionStatus status = 1; }   // START = 1
 *
 * The first record is `file_version: "brain.Event:2"`, as TensorFlow's and tensorboardX's writers do;
 * scalars use the legacy `simple_value` field that TensorBoard migrates to its scalars plugin and that
 * `wandb sync` reads (it is what tensorboardX's add_scalar writes). A resumed run starts a new file
 * with a SessionLog START at the resume step, which tells TensorBoard to drop the points the first
 * run logged after that step (they were never checkpointed, and the resumed run logs them again).
 *
 * File name: `events.out.tfevents.<unix seconds>.<hostname>`, as TensorBoard expects.
 */
import { appendFileSync, closeSync, openSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ChecksumError, FormatError } from '../util/errors.js';
import { maskedCrc32c } from '../util/crc32c.js';

// ---- minimal protobuf writer ----

class PbWriter {
  private parts: Uint8Array[] = [];
  private len = 0;

  private push(b: Uint8Array): void {
    this.parts.push(b);
    this.len += b.length;
  }

  varint(v: bigint | number): this {
    let x = BigInt.asUintN(64, BigInt(v));
    const out: number[] = [];
    while (x >= 0x80n) {
      out.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    out.push(Number(x));
    this.push(Uint8Array.from(out));
    return this;
  }

  tag(field: number, wire: number): this {
    return this.varint((field << 3) | wire);
  }

  double(field: number, v: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    this.tag(field, 1).push(b);
    return this;
  }

  float(field: number, v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.tag(field, 5).push(b);
    return this;
  }

  int64(field: number, v: number): this {
    return this.tag(field, 0).varint(v);
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2).varint(b.length).push(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.len);
    let p = 0;
    for (const part of this.parts) {
      out.set(part, p);
      p += part.length;
    }
    return out;
  }
}

export interface ScalarEvent {
  wallTime: number;
  step: number;
  /** tag -> value */
  scalars?: Record<string, number>;
  fileVersion?: string;
  /** SessionLog status (1 = START). */
  sessionStatus?: number;
}

/** Encodes one Event message (protobuf bytes, not framed). */
export function encodeEvent(e: ScalarEvent): Uint8Array {
  const w = new PbWriter().double(1, e.wallTime).int64(2, e.step);
  if (e.fileVersion !== undefined) w.string(3, e.fileVersion);
  if (e.scalars) {
    const summary = new PbWriter();
    for (const [tag, value] of Object.entries(e.scalars)) summary.bytes(1, new PbWriter().string(1, tag).float(2, value).finish());
    w.bytes(5, summary.finish());
  }
  if (e.sessionStatus !== undefined) w.bytes(7, new PbWriter().int64(1, e.sessionStatus).finish());
  return w.finish();
}

/** Frames a payload as one TFRecord. */
export function tfRecord(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + payload.length + 4);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(payload.length), true);
  dv.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(payload, 12);
  dv.setUint32(12 + payload.length, maskedCrc32c(payload), true);
  return out;
}

/** Appends scalar events to one TensorBoard event file in a run directory. */
export class EventFileWriter {
  readonly path: string;

  /** Creates `events.out.tfevents.<seconds>.<host>` in dir and writes the file_version record. */
  constructor(dir: string, opts: { wallTime?: number; host?: string; suffix?: string } = {}) {
    const wall = opts.wallTime ?? Date.now() / 1000;
    this.path = join(dir, `events.out.tfevents.${Math.floor(wall)}.${opts.host ?? hostname()}${opts.suffix ?? ''}`);
    closeSync(openSync(this.path, 'a'));
    this.write({ wallTime: wall, step: 0, fileVersion: 'brain.Event:2' });
  }

  write(e: ScalarEvent): void {
    appendFileSync(this.path, tfRecord(encodeEvent(e)));
  }

  scalars(step: number, values: Record<string, number>, wallTime = Date.now() / 1000): void {
    this.write({ wallTime, step, scalars: values });
  }

  /** Marks a restart at `step` (SessionLog START): TensorBoard discards later points from earlier files. */
  sessionStart(step: number, wallTime = Date.now() / 1000): void {
    this.write({ wallTime, step, sessionStatus: 1 });
  }
}

// ---- reader (for tests and `wavelm` users who want the numbers back) ----

export interface DecodedEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  scalars: Record<string, number>;
  sessionStatus?: number;
}

class PbReader {
  pos = 0;
  constructor(
    private readonly b: Uint8Array,
    private readonly name: string,
  ) {}

  get done(): boolean {
    return this.pos >= this.b.length;
  }

  private need(n: number): void {
    if (this.pos + n > this.b.length) throw new FormatError(`${this.name}: protobuf message truncated`, { subject: this.name });
  }

  varint(): bigint {
    let x = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      this.need(1);
      const byte = this.b[this.pos++]!;
      x |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return x;
    }
    throw new FormatError(`${this.name}: protobuf varint too long`, { subject: this.name });
  }

  fixed(n: 4 | 8): DataView {
    this.need(n);
    const dv = new DataView(this.b.buffer, this.b.byteOffset + this.pos, n);
    this.pos += n;
    return dv;
  }

  lengthDelimited(): Uint8Array {
    const n = Number(this.varint());
    this.need(n);
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.fixed(8);
    else if (wire === 5) this.fixed(4);
    else if (wire === 2) this.lengthDelimited();
    else throw new FormatError(`${this.name}: unsupported protobuf wire type ${wire}`, { subject: this.name });
  }
}

/** Decodes one Event message: wall time, step, file_version, simple_value scalars, session status. */
export function decodeEvent(payload: Uint8Array, name = 'event'): DecodedEvent {
  const r = new PbReader(payload, name);
  const e: DecodedEvent = { wallTime: 0, step: 0, scalars: {} };
  while (!r.done) {
    const key = Number(r.varint());
    const field = key >>> 3;
    const wire = key & 7;
    if (field === 1 && wire === 1) e.wallTime = r.fixed(8).getFloat64(0, true);
    else if (field === 2 && wire === 0) e.step = Number(BigInt.asIntN(64, r.varint()));
    else if (field === 3 && wire === 2) e.fileVersion = new TextDecoder().decode(r.lengthDelimited());
    else if (field === 5 && wire === 2) {
      const s = new PbReader(r.lengthDelimited(), name);
      while (!s.done) {
        const k = Number(s.varint());
        if (k >>> 3 !== 1 || (k & 7) !== 2) {
          s.skip(k & 7);
          continue;
        }
        const v = new PbReader(s.lengthDelimited(), name);
        let tag = '';
        let value: number | undefined;
        while (!v.done) {
          const vk = Number(v.varint());
          if (vk >>> 3 === 1 && (vk & 7) === 2) tag = new TextDecoder().decode(v.lengthDelimited());
          else if (vk >>> 3 === 2 && (vk & 7) === 5) value = v.fixed(4).getFloat32(0, true);
          else v.skip(vk & 7);
        }
        if (value !== undefined) e.scalars[tag] = value;
      }
    } else if (field === 7 && wire === 2) {
      const s = new PbReader(r.lengthDelimited(), name);
      while (!s.done) {
        const k = Number(s.varint());
        if (k === 0x08) e.sessionStatus = Number(s.varint());
        else s.skip(k & 7);
      }
    } else r.skip(wire);
  }
  return e;
}

/** Splits a TFRecord stream into payloads, checking both masked CRCs of every record. */
export function readTfRecords(buf: Uint8Array, name = 'tfrecord'): Uint8Array[] {
  const out: Uint8Array[] = [];
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let p = 0;
  while (p < buf.length) {
    if (p + 12 > buf.length) throw new FormatError(`${name}: truncated record header at byte ${p}`, { subject: name });
    const len = dv.getBigUint64(p, true);
    if (dv.getUint32(p + 8, true) !== maskedCrc32c(buf.subarray(p, p + 8)))
      throw new ChecksumError(`${name}: length CRC mismatch at byte ${p}`, { subject: name });
    if (len > BigInt(buf.length - p - 16))
      throw new FormatError(`${name}: record at byte ${p} claims ${len} bytes, more than the file holds`, { subject: name });
    const n = Number(len);
    const payload = buf.subarray(p + 12, p + 12 + n);
    if (dv.getUint32(p + 12 + n, true) !== maskedCrc32c(payload))
      throw new ChecksumError(`${name}: data CRC mismatch in record at byte ${p}`, { subject: name });
    out.push(payload);
    p += 16 + n;
  }
  return out;
}

/** Reads and decodes every event of a TensorBoard event file. */
export function readEventFile(path: string): DecodedEvent[] {
  return readTfRecords(readFileSync(path), path).map((r) => decodeEvent(r, path));
}
