/**
 * Field registry: builds a Field from (name, type, args), from a schema entry, or from a command-line
 * spec such as `audio=waveform(dtype=int16,sample_rate=16000)`, `flac`, `label=int(from=regex:^(\d+)_)`.
 */
import { ConfigError, FormatError } from '../../util/errors.js';
import type { SchemaField } from '../format.js';
import { CodecTokensField } from './codec-tokens.js';
import { CompressedField } from './compressed.js';
import type { Field } from './field.js';
import { ClassField, NumberField, TextField } from './scalar.js';
import { WaveformField } from './waveform.js';
import { MelField } from './mel.js';
import { ChunksField } from './chunks.js';

export * from './field.js';
export { WaveformField } from './waveform.js';
export { CompressedField, type Codec } from './compressed.js';
export { CodecTokensField, type TokenArray } from './codec-tokens.js';
export { ClassField, NumberField, TextField } from './scalar.js';
export { MelField } from './mel.js';
export { ChunksField } from './chunks.js';
export { toHalf, floatsToHalf, halfToFloats } from './half.js';

type Factory = (name: string, args: Record<string, unknown>) => Field;

const factories = new Map<string, Factory>([
  ['waveform', (n, a) => new WaveformField(n, a)],
  ['compressed', (n, a) => new CompressedField(n, a)],
  ['flac', (n, a) => new CompressedField(n, { ...a, codec: 'flac' })],
  ['opus', (n, a) => new CompressedField(n, { ...a, codec: 'opus' })],
  ['mp3', (n, a) => new CompressedField(n, { ...a, codec: 'mp3' })],
  ['codec_tokens', (n, a) => new CodecTokensField(n, a)],
  ['mel', (n, a) => new MelField(n, a)],
  ['chunks', (n, a) => new ChunksField(n, a)],
  ['int', (n, a) => new NumberField(n, 'int', a)],
  ['label', (n, a) => new NumberField(n, 'int', a)],
  ['class', (n, a) => new ClassField(n, a)],
  ['float', (n, a) => new NumberField(n, 'float', a)],
  ['string', (n, a) => new TextField(n, 'string', a)],
  ['text', (n, a) => new TextField(n, 'string', a)],
  ['json', (n, a) => new TextField(n, 'json', a)],
]);

/** Makes other field types available (used by fields whose code lives with another capability). */
export function registerFieldType(type: string, factory: Factory): void {
  factories.set(type, factory);
}

export function fieldTypes(): string[] {
  return [...factories.keys()].sort();
}

/** Args that steer the builder (where a value comes from, which model encodes it), not the field's stored parameters. */
export const BUILD_ARGS = ['from', 'model'] as const;

export function createField(name: string, type: string, args: Record<string, unknown> = {}): Field {
  const f = factories.get(type);
  if (!f) throw new ConfigError(`unknown field type '${type}' for field '${name}'; known: ${fieldTypes().join(', ')}`, { subject: type });
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name))
    throw new ConfigError(`field name '${name}' must start with a letter or _ and hold only letters, digits, _ . -`, { subject: name });
  const clean = Object.fromEntries(Object.entries(args).filter(([k]) => !(BUILD_ARGS as readonly string[]).includes(k)));
  return f(name, clean);
}

/** Rebuilds a field from the schema stored in a file and checks its metadata layout matches. */
export function fieldFromSchema(sf: SchemaField, file: string): Field {
  let f: Field;
  try {
    f = createField(sf.name, sf.type, sf.args);
  } catch (e) {
    throw new FormatError(`${file}: field '${sf.name}' of type '${sf.type}' cannot be read by this wavelm (${(e as Error).message})`, {
      subject: file,
      cause: e,
    });
  }
  const same = f.meta.length === sf.meta.length && f.meta.every((m, i) => m.name === sf.meta[i]!.name && m.type === sf.meta[i]!.type);
  if (!same)
    throw new FormatError(
      `${file}: field '${sf.name}' stores metadata columns this wavelm does not expect; the file is damaged or from another version`,
      { subject: file },
    );
  return f;
}

export interface FieldSpec {
  name: string;
  type: string;
  args: Record<string, unknown>;
}

/** Splits on `sep` outside parentheses. */
function splitTop(s: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    if (ch === sep && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (depth !== 0) throw new ConfigError(`field spec '${s}' has unbalanced parentheses`);
  out.push(cur);
  return out.map((x) => x.trim()).filter((x) => x.length > 0);
}

/**
 * Parses `--fields`: comma-separated `[NAME=]TYPE[(key=value,...)]`. Without NAME the type is the name
 * (`flac` is a field named flac of type flac). Values are kept as strings; fields convert them.
 */
export function parseFieldSpecs(spec: string): FieldSpec[] {
  return splitTop(spec, ',').map((item) => {
    const m = /^(?:([A-Za-z_][A-Za-z0-9_.-]*)=)?([A-Za-z_][A-Za-z0-9_]*)(?:\((.*)\))?$/s.exec(item);
    if (!m) throw new ConfigError(`field spec '${item}' is not NAME=TYPE(key=value,...)`, { subject: item });
    const type = m[2]!;
    const name = m[1] ?? type;
    const args: Record<string, unknown> = {};
    for (const kv of m[3] ? splitTop(m[3], ',') : []) {
      const eq = kv.indexOf('=');
      if (eq <= 0) throw new ConfigError(`field '${name}': argument '${kv}' is not key=value`, { subject: kv });
      args[kv.slice(0, eq).trim()] = kv.slice(eq + 1).trim();
    }
    return { name, type, args };
  });
}
