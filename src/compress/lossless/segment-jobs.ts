/**
 * A segment is a run of frames coded from a fresh model, so segments can be coded on different threads
 * and the archive does not depend on how many there are. These are the jobs a thread runs.
 */
import { decodePcm, encodePcm } from './frame-codec.js';
import { LEVELS, type LevelName } from './levels.js';
import type { ResidualPrior } from './residual-model.js';

export interface SegmentFormat {
  channels: number;
  bitsPerSample: number;
  codes: number[];
  level: LevelName;
  lambdaIndex: number;
  /** The residual models' starting state (a codec model), or none. */
  prior?: ResidualPrior;
}

export interface EncodeSegmentJob extends SegmentFormat {
  kind: 'encode';
  samples: Int32Array;
}

export interface DecodeSegmentJob extends SegmentFormat {
  kind: 'decode';
  payload: Uint8Array;
  frames: number;
  name: string;
}

export type SegmentJob = EncodeSegmentJob | DecodeSegmentJob;

export function runSegmentJob(job: SegmentJob): Uint8Array | Int32Array {
  const level = LEVELS[job.level];
  const lambda = level.olsLambdas[job.lambdaIndex]!;
  if (job.kind === 'encode')
    return encodePcm(
      { samples: job.samples, channels: job.channels, bitsPerSample: job.bitsPerSample },
      job.codes,
      level,
      lambda,
      job.prior,
    );
  return decodePcm(job.payload, job.frames, job.channels, job.bitsPerSample, job.codes, level, lambda, job.name, job.prior);
}
