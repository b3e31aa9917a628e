/** Bounds of a numeric value, shared by the CLI's option parsers and the library's checks of the same settings. */
export interface Range {
  /** Smallest accepted value. */
  min?: number;
  /** Values must be strictly greater than this. */
  above?: number;
  /** Values must be strictly less than this. */
  below?: number;
  /** Largest accepted value. */
  max?: number;
}

/** "an integer >= 1 and <= 8": `kind` with the bounds, for messages. */
export function describeRange(kind: string, r: Range): string {
  const parts: string[] = [];
  if (r.above !== undefined) parts.push(`> ${r.above}`);
  if (r.min !== undefined) parts.push(`>= ${r.min}`);
  if (r.below !== undefined) parts.push(`< ${r.below}`);
  if (r.max !== undefined) parts.push(`<= ${r.max}`);
  return parts.length > 0 ? `${kind} ${parts.join(' and ')}` : kind;
}

export function inRange(n: number, r: Range): boolean {
  return (
    (r.min === undefined || n >= r.min) &&
    (r.above === undefined || n > r.above) &&
    (r.below === undefined || n < r.below) &&
    (r.max === undefined || n <= r.max)
  );
}
