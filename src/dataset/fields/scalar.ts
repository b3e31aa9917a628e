/**
 * Scalar and label fields: `int` and `float` live in the sample table itself (no blob), `string` and
 * `json` are UTF-8 blobs. Used for labels, speaker, text, split, and the (file, offset) map of
 * recordings stored as fixed-length segments.
 */
import { ConfigError, FormatError } from '../../util/errors.js';
import type { MetaColumn } from '../format.js';
import type { DecodedValue, Encoded, Field, SampleInput } from './field.js';

function sampleValue(input: SampleInput, name: string, def: unknown): unknown {
  const v = input.values[name];
  if (v === undefined) {
    if (def !== undefined) return def;
    throw new ConfigError(`field '${name}': sample ${input.key} has no value for it (give a default with default=...)`, {
      subject: input.key,
    });
  }
  return v;
}

export class NumberField implements Field {
  readonly kind = 'scalar';
  readonly heavy = false;
  readonly meta: MetaColumn[] = [{ name: 'value', type: 'f64' }];
  readonly args: Record<string, unknown>;
  private readonly def: number | undefined;

  constructor(
    readonly name: string,
    readonly type: 'int' | 'float',
    args: Record<string, unknown>,
  ) {
    const d = args.default;
    this.def = d === undefined || d === null ? undefined : Number(d);
    if (this.def !== undefined && !Number.isFinite(this.def))
      throw new ConfigError(`field '${name}': default must be a number, got ${JSON.stringify(d)}`);
    this.args = { default: this.def ?? null };
  }

  encode(input: SampleInput): Encoded {
    const raw = sampleValue(input, this.name, this.def);
    const v = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new ConfigError(`field '${this.name}': sample ${input.key} has ${JSON.stringify(raw)}, not a finite number`, {
        subject: input.key,
      });
    if (this.type === 'int' && !Number.isSafeInteger(v))
      throw new ConfigError(`field '${this.name}': sample ${input.key} has ${v}, not an integer`, { subject: input.key });
    return { meta: [v], bytes: new Uint8Array(0) };
  }

  check(meta: readonly number[], length: number): string | undefined {
    if (length !== 0) return `a ${this.type} field has a ${length}-byte blob`;
    const v = meta[0]!;
    if (!Number.isFinite(v)) return `value ${v} is not finite`;
    if (this.type === 'int' && !Number.isSafeInteger(v)) return `value ${v} is not an integer`;
    return undefined;
  }

  decode(_bytes: Uint8Array, meta: readonly number[]): DecodedValue {
    return { kind: 'scalar', value: meta[0]! };
  }
}

/**
 * `class`: category names (a folder's or file's name, a manifest key) stored as integers 0..K-1, the
 * index of the name in the field's sorted `classes`, which the schema keeps so a reader can map back.
 * The builder collects the names from the whole plan; `classes=a|b|c` fixes them (and their order).
 */
export class ClassField implements Field {
  readonly type = 'class';
  readonly kind = 'scalar';
  readonly heavy = false;
  readonly meta: MetaColumn[] = [{ name: 'value', type: 'f64' }];
  readonly args: Record<string, unknown>;
  readonly classes: string[];
  private readonly index: Map<string, number>;
  private readonly def: string | undefined;

  constructor(
    readonly name: string,
    args: Record<string, unknown>,
  ) {
    const c = args.classes;
    this.classes = Array.isArray(c) ? c.map(String) : typeof c === 'string' && c !== '' ? c.split('|') : [];
    if (this.classes.length === 0)
      throw new ConfigError(
        `field '${name}': a class field needs its class names (dataset build collects them from the values; or give classes=a|b|c)`,
      );
    this.index = new Map(this.classes.map((k, i) => [k, i]));
    if (this.index.size !== this.classes.length)
      throw new ConfigError(`field '${name}': classes name a class twice (${this.classes.join('|')})`);
    this.def = args.default === undefined || args.default === null ? undefined : String(args.default);
    this.args = { classes: this.classes, default: this.def ?? null };
  }

  encode(input: SampleInput): Encoded {
    const raw = String(sampleValue(input, this.name, this.def));
    const i = this.index.get(raw);
    if (i === undefined) {
      const shown = this.classes.length > 8 ? `${this.classes.slice(0, 8).join(', ')}, ...` : this.classes.join(', ');
      throw new ConfigError(
        `field '${this.name}': sample ${input.key} has class '${raw}', not one of the ${this.classes.length} classes (${shown})`,
        { subject: input.key },
      );
    }
    return { meta: [i], bytes: new Uint8Array(0) };
  }

  check(meta: readonly number[], length: number): string | undefined {
    if (length !== 0) return `a class field has a ${length}-byte blob`;
    const v = meta[0]!;
    if (!Number.isInteger(v) || v < 0 || v >= this.classes.length) return `class index ${v} is outside 0..${this.classes.length - 1}`;
    return undefined;
  }

  decode(_bytes: Uint8Array, meta: readonly number[]): DecodedValue {
    return { kind: 'scalar', value: meta[0]! };
  }
}

export class TextField implements Field {
  readonly kind = 'value';
  readonly heavy = false;
  readonly meta: MetaColumn[] = [];
  readonly args: Record<string, unknown>;
  private readonly def: unknown;

  constructor(
    readonly name: string,
    readonly type: 'string' | 'json',
    args: Record<string, unknown>,
  ) {
    this.def = args.default ?? undefined;
    this.args = { default: this.def ?? null };
  }

  encode(input: SampleInput): Encoded {
    const v = sampleValue(input, this.name, this.def);
    let s: string;
    if (this.type === 'string') s = typeof v === 'string' ? v : String(v);
    else {
      const j = JSON.stringify(v);
      if (j === undefined)
        throw new ConfigError(`field '${this.name}': sample ${input.key} has a value JSON cannot hold`, { subject: input.key });
      s = j;
    }
    return { meta: [], bytes: new Uint8Array(Buffer.from(s, 'utf8')) };
  }

  check(): string | undefined {
    return undefined;
  }

  decode(bytes: Uint8Array): DecodedValue {
    const s = new TextDecoder('utf-8', { fatal: true });
    let text: string;
    try {
      text = s.decode(bytes);
    } catch (e) {
      throw new FormatError(`field '${this.name}': blob is not valid UTF-8`, { cause: e });
    }
    if (this.type === 'string') return { kind: 'value', value: text };
    try {
      return { kind: 'value', value: JSON.parse(text) as unknown };
    } catch (e) {
      throw new FormatError(`field '${this.name}': blob is not valid JSON`, { cause: e });
    }
  }
}
