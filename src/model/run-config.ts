/**
 * A run's config.json, read back: `train --resume` takes every setting the run recorded as its
 * default, so a resumed run trains to the steps, and logs, evaluates and checkpoints on the cadence,
 * it was started with. (Settings that decide the next step, such as the model, the learning rate and
 * the seed, come from the checkpoint itself.)
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError } from '../util/errors.js';

/** The run settings config.json records beside the checkpoint's (absent in runs that did not record them). */
export interface RecordedRunSettings {
  steps?: number;
  logEvery?: number;
  evalEvery?: number;
  evalSequences?: number;
  checkpointEvery?: number;
  keepCheckpoints?: number;
  validFraction?: number;
  sources?: { files?: string[]; manifest?: string; validFiles?: string[] };
}

const NUMBERS = ['steps', 'logEvery', 'evalEvery', 'evalSequences', 'checkpointEvery', 'keepCheckpoints', 'validFraction'] as const;

/** The recorded settings of the run in `runDir` ({} when it has no config.json). */
export function readRunSettings(runDir: string): RecordedRunSettings {
  const path = join(runDir, 'config.json');
  if (!existsSync(path)) return {};
  let cfg: { training?: Record<string, unknown>; sources?: RecordedRunSettings['sources'] };
  try {
    cfg = JSON.parse(readFileSync(path, 'utf8')) as typeof cfg;
  } catch (e) {
    throw new FormatError(`${path}: not valid JSON; fix it, or pass every setting (--steps, --files, ...) when resuming`, { subject: path, cause: e });
  }
  const out: RecordedRunSettings = {};
  for (const k of NUMBERS) {
    const v = cfg.training?.[k];
    if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  }
  if (cfg.sources) out.sources = cfg.sources;
  return out;
}
