/**
 * The presets of the lossless codec. An archive records its level by index and the OLS forgetting
 * factor the encoder chose among the level's candidates, so decoding needs no flags. Changing a preset
 * changes the bits of archives made with it: add a level instead, or bump the format version.
 */
export interface LevelSettings {
  /** OLS inputs from the channel's own past. */
  olsOwn: number;
  /** OLS inputs from the partner channel (stereo and multichannel only). */
  olsCross: number;
  /** Forgetting factors the encoder tries (on the first TRIAL_FRAMES frames) and chooses among. */
  olsLambdas: readonly number[];
  /** Ridge of the OLS solve, in squared sample steps per sample of memory (see OlsPredictor.solve). */
  olsRidge: number;
  /** Samples between OLS solves. */
  olsInterval: number;
  /** NLMS cascade after the OLS stage: [order, mu] per stage. */
  nlms: ReadonlyArray<readonly [number, number]>;
}

/** Measured in docs/compression.md ("The lossless codec"). */
export const LEVELS = {
  fast: { olsOwn: 8, olsCross: 4, olsLambdas: [0.998], olsRidge: 10, olsInterval: 16, nlms: [[32, 0.02]] },
  normal: {
    olsOwn: 16,
    olsCross: 8,
    olsLambdas: [0.99, 0.998],
    olsRidge: 10,
    olsInterval: 8,
    nlms: [
      [256, 0.012],
      [32, 0.025],
      [16, 0.03],
    ],
  },
  max: {
    olsOwn: 32,
    olsCross: 16,
    olsLambdas: [0.99, 0.998, 0.9995],
    olsRidge: 10,
    olsInterval: 4,
    nlms: [
      [256, 0.012],
      [32, 0.025],
      [16, 0.03],
    ],
  },
} as const satisfies Record<string, LevelSettings>;

export type LevelName = keyof typeof LEVELS;
/** Index order is part of the format: new levels go at the end. */
export const LEVEL_NAMES: readonly LevelName[] = ['fast', 'normal', 'max'];
