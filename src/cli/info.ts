/** `wavelm info FILE...`: container, codec, rate, channels, bits, frames and duration of audio files. */
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import type { AudioInfo } from '../audio/index.js';
import { ConfigError, exitCodeFor, WavelmError } from '../util/errors.js';
import { action, emit, warn } from './common.js';

interface InfoError {
  path: string;
  error: string;
  code: string;
}

function line(i: AudioInfo): string {
  const dur = i.durationSeconds < 10 ? i.durationSeconds.toFixed(3) : i.durationSeconds.toFixed(2);
  const trunc = i.declaredFrames !== undefined ? ` (truncated: the header declares ${i.declaredFrames} frames)` : '';
  return (
    `${i.path}: ${i.container}/${i.codec}, ${i.sampleRate} Hz, ${i.channels} ch, ${i.sampleFormat ?? `${i.bitsPerSample}-bit`}, ` +
    `${i.frames} frames, ${dur} s${trunc}`
  );
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false; // reported by readAudioInfo with the file's other errors
  }
}

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('show format, codec, sample rate, channels, bits, frames and duration of audio files (format detected by content)')
    .argument(
      '<files...>',
      'audio files (WAV/RIFX/RF64/BW64, AIFF/AIFF-C, FLAC, Ogg Vorbis, Ogg Opus, MP3) or folders (searched recursively)',
    )
    .addHelpText(
      'after',
      '\nUnreadable files get one error line each on stderr and make the exit status non-zero (3: missing, 4: malformed or ' +
        'unsupported).\n\n' +
        'Examples (the embedded samples are in node_modules/supersonic-scsynth-samples/samples of a checkout):\n' +
        '  wavelm info node_modules/supersonic-scsynth-samples/samples/bd_haus.flac ' +
        'node_modules/supersonic-scsynth-samples/samples/bd_haus.aiff\n' +
        '  wavelm info node_modules/supersonic-scsynth-samples/samples\n' +
        '  wavelm --json info node_modules/supersonic-scsynth-samples/samples/bd_*.flac',
    )
    .action(
      action(async (files: string[], _opts: unknown, cmd: Command) => {
        if (files.length === 0) throw new ConfigError('give at least one file');
        const { readAudioInfo } = await import('../audio/load.js');
        // Folders are walked by src/tokens, loaded only when one is given.
        const folderFiles = async (f: string): Promise<string[]> =>
          (await import('../tokens/index.js')).findAudioFiles(f, (m) => warn(cmd, m));
        const infos: AudioInfo[] = [];
        const errors: InfoError[] = [];
        let exit = 0;
        const paths: string[] = [];
        for (const f of files) paths.push(...(isDirectory(f) ? await folderFiles(f) : [f]));
        for (const f of paths) {
          try {
            infos.push(await readAudioInfo(f));
          } catch (err) {
            if (!(err instanceof WavelmError)) throw err;
            errors.push({ path: f, error: err.message, code: err.code });
            process.stderr.write(`wavelm: ${err.message}\n`);
            if (exit === 0) exit = exitCodeFor(err);
          }
        }
        emit(cmd, { files: infos, errors }, () => infos.map(line).join('\n'));
        if (exit !== 0) process.exitCode = exit;
      }),
    );
}
