/** Reading fields of decoded dataset samples in tests without a non-null assertion at every use. */
import type { DecodedValue } from '../../src/dataset/index.js';

export type DecodedArray = Extract<DecodedValue, { kind: 'array' }>;

/** The array field `name` of a decoded sample; a missing field or a field of another kind fails the test. */
export function decodedArray(sample: Readonly<Record<string, DecodedValue>>, name: string): DecodedArray {
  const v = sample[name];
  if (v?.kind !== 'array') throw new Error(`field ${name} is ${v === undefined ? 'missing' : `a ${v.kind}`}, not an array`);
  return v;
}
