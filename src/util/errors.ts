/**
 * Typed errors. Every error wavelm raises on bad input is a WavelmError with a stable `code`,
 * so callers (and the CLI's exit-code mapping) can branch without parsing messages.
 */
export type ErrorCode =
  | 'ENOENT' // a file or directory does not exist
  | 'EFORMAT' // the bytes are not what the format says (malformed, truncated, corrupt)
  | 'EUNSUPPORTED' // well-formed, but a variant wavelm does not handle (codec, tag, bit depth)
  | 'ECONFIG' // an option or configuration value is invalid
  | 'ECHECKSUM' // stored data failed its checksum
  | 'EMISMATCH' // two things that must agree do not (model vs archive, tensor shapes)
  | 'EINTERRUPTED'; // the user interrupted long work

/** What an error may carry besides its message. */
export interface WavelmErrorOptions {
  /** The file or value the error is about. */
  subject?: string;
  /** The options the message names (see WavelmError.options). */
  options?: readonly string[];
  cause?: unknown;
}

export class WavelmError extends Error {
  readonly code: ErrorCode;
  /** The file or value the error is about, when there is one. */
  readonly subject?: string;
  /**
   * The options the message names, by the library's own parameter names (`numShards`), the one at fault
   * first. The message names them as they are, as words; a front end that spells options otherwise (the
   * CLI, as its flags) shows `messageWith` instead of `message`.
   */
  readonly options?: readonly string[];
  constructor(code: ErrorCode, message: string, options?: WavelmErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.subject = options?.subject;
    if (options?.options !== undefined && options.options.length > 0) this.options = [...options.options];
  }

  /** The message with each option it names spelt by `label` (an option it returns nothing for keeps its name). */
  messageWith(label: (option: string) => string | undefined): string {
    return this.options ? renameOptions(this.message, this.options, label) : this.message;
  }
}

/**
 * `text` with each of `names` spelt by `label` where it stands as a word: after the start, a space or `(`,
 * and before the end, a space or one of `),;`. A name inside a quoted value, a path or a longer word is
 * left as it is, and so is a name `label` returns nothing for.
 */
export function renameOptions(text: string, names: readonly string[], label: (option: string) => string | undefined): string {
  const spelt = new Map<string, string>();
  for (const name of names) {
    const to = label(name);
    if (to !== undefined && to !== name) spelt.set(name, to);
  }
  if (spelt.size === 0) return text;
  const alternatives = [...spelt.keys()].map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  return text.replace(new RegExp(`(^|[\\s(])(${alternatives})(?=$|[\\s),;])`, 'g'), (_, before: string, name: string) => {
    return before + spelt.get(name)!;
  });
}

/** Malformed or truncated input. */
export class FormatError extends WavelmError {
  constructor(message: string, options?: WavelmErrorOptions) {
    super('EFORMAT', message, options);
  }
}

/** Valid input in a variant that is not supported. */
export class UnsupportedError extends WavelmError {
  constructor(message: string, options?: WavelmErrorOptions) {
    super('EUNSUPPORTED', message, options);
  }
}

/** An invalid option or configuration value. */
export class ConfigError extends WavelmError {
  constructor(message: string, options?: WavelmErrorOptions) {
    super('ECONFIG', message, options);
  }
}

export class NotFoundError extends WavelmError {
  constructor(message: string, options?: WavelmErrorOptions) {
    super('ENOENT', message, options);
  }
}

export class ChecksumError extends WavelmError {
  constructor(message: string, options?: WavelmErrorOptions) {
    super('ECHECKSUM', message, options);
  }
}

export class MismatchError extends WavelmError {
  constructor(message: string, options?: WavelmErrorOptions) {
    super('EMISMATCH', message, options);
  }
}

const CLASS_FOR_CODE: Partial<Record<ErrorCode, new (message: string, options?: WavelmErrorOptions) => WavelmError>> = {
  ENOENT: NotFoundError,
  EFORMAT: FormatError,
  EUNSUPPORTED: UnsupportedError,
  ECONFIG: ConfigError,
  ECHECKSUM: ChecksumError,
  EMISMATCH: MismatchError,
};

/** A typed error as plain data, for crossing a thread boundary (structured clone drops classes and `code`). */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: ErrorCode;
  subject?: string;
  options?: string[];
}

export function serializeError(err: unknown): SerializedError {
  const e = err instanceof Error ? err : new Error(String(err));
  const out: SerializedError = { name: e.name, message: e.message, stack: e.stack };
  if (e instanceof WavelmError) {
    out.code = e.code;
    if (e.subject !== undefined) out.subject = e.subject;
    if (e.options !== undefined) out.options = [...e.options];
  }
  return out;
}

/** The error `serializeError` described: the same WavelmError subclass (by code) when it had one, else a plain Error. */
export function deserializeError(s: SerializedError): Error {
  let err: Error;
  if (s.code === undefined) err = new Error(s.message);
  else {
    const Class = CLASS_FOR_CODE[s.code];
    const options = { subject: s.subject, options: s.options };
    err = Class ? new Class(s.message, options) : new WavelmError(s.code, s.message, options);
  }
  err.name = s.name;
  if (s.stack !== undefined) err.stack = s.stack;
  return err;
}

/** Process exit code for an error, used by the CLI only. */
export function exitCodeFor(err: unknown): number {
  if (!(err instanceof WavelmError)) return 1;
  switch (err.code) {
    case 'ECONFIG':
      return 2;
    case 'ENOENT':
      return 3;
    case 'EFORMAT':
    case 'EUNSUPPORTED':
      return 4;
    case 'ECHECKSUM':
    case 'EMISMATCH':
      return 5;
    case 'EINTERRUPTED':
      return 130;
  }
}
