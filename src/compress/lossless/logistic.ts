/**
 * The logistic domain of the context-mixing coder, in integers so that every machine computes the same
 * values: squash(d) = 4096 / (1 + e^(-d/256)) by interpolation in a 33-entry table, and stretch, its
 * inverse, as a 4096-entry table. Both are lpaq1's (http://mattmahoney.net/dc/#lpaq).
 */
const SQUASH_KNOTS = [
  1, 2, 3, 6, 10, 16, 27, 45, 73, 120, 194, 310, 488, 747, 1101, 1546, 2047, 2549, 2994, 3348, 3607, 3785, 3901, 3975, 4022, 4050, 4068,
  4079, 4085, 4089, 4092, 4093, 4094,
];

/** P(1) in 12 bits for a logit d in 1/256 units, d clamped to +-2047. */
export function squash(d: number): number {
  if (d > 2047) return 4095;
  if (d < -2047) return 1;
  const w = d & 127;
  const i = (d >> 7) + 16;
  return (SQUASH_KNOTS[i]! * (128 - w) + SQUASH_KNOTS[i + 1]! * w + 64) >> 7;
}

function buildStretch(): Int16Array {
  const table = new Int16Array(4096);
  let pi = 0;
  for (let x = -2047; x <= 2047; x++) {
    const v = squash(x);
    for (let i = pi; i <= v; i++) table[i] = x;
    pi = v + 1;
  }
  for (let i = pi; i < 4096; i++) table[i] = 2047;
  return table;
}

/** stretch(p) = ln(p / (1 - p)) in 1/256 units, for p in 12 bits. */
export const STRETCH = buildStretch();
