/** A traversal order: which sample comes at each position of an epoch. */
export interface Order {
  /** Number of positions in this epoch. */
  readonly length: number;
  /** Global sample index at position p (0 <= p < length). */
  at(p: number): number;
}

export interface OrderOptions {
  seed: number;
  epoch: number;
}
