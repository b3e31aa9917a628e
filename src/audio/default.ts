/**
 * The embedded default audio: the CC0 Sonic Pi samples (FLAC) of the npm package
 * supersonic-scsynth-samples, a dependency, so they install with wavelm and need no network or ../shared.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { NotFoundError } from '../util/errors.js';

export const DEFAULT_AUDIO_PACKAGE = 'supersonic-scsynth-samples';

/** Folder of the default audio samples (207 CC0 files: 206 FLAC and one AIFF, about 34 MB). */
export function defaultAudioDir(): string {
  let pkgJson: string;
  try {
    pkgJson = createRequire(import.meta.url).resolve(`${DEFAULT_AUDIO_PACKAGE}/package.json`);
  } catch (err) {
    throw new NotFoundError(
      `the default audio package ${DEFAULT_AUDIO_PACKAGE} is not installed; run npm ci (or npm install ${DEFAULT_AUDIO_PACKAGE})`,
      {
        subject: DEFAULT_AUDIO_PACKAGE,
        cause: err,
      },
    );
  }
  const dir = join(dirname(pkgJson), 'samples');
  if (!existsSync(dir))
    throw new NotFoundError(`${dir}: the default audio package has no samples folder; reinstall it with npm ci`, { subject: dir });
  return dir;
}
