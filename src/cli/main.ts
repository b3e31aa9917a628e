#!/usr/bin/env node
/**
 * The wavelm command line. Each command lives in its own file and registers itself here; a command's
 * declaration is cheap (commander needs its options for --help and parsing) and its action imports the
 * library modules it runs, so start-up loads only what the command line asks for.
 */
import { Command, CommanderError } from 'commander';
import { packageVersion } from '../util/paths.js';
import { exitCodeFor } from '../util/errors.js';
import { reportError, reportUsageErrors, typedSystemError } from './common.js';
import { commands } from './commands.js';

const program = new Command('wavelm')
  .description('Machine learning on raw audio: audio to byte tokens, datasets, LM compression, codec tokens, quality metrics.')
  .version(packageVersion())
  .option('--json', 'print machine-readable results (JSON) on stdout')
  .option('-q, --quiet', 'no progress bars or warnings on stderr')
  .enablePositionalOptions(false);

for (const register of commands) register(program);
reportUsageErrors(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  // Commander has printed its own output by now: help or the version (exit 0), or a usage error (exit 2).
  if (err instanceof CommanderError) {
    if (err.exitCode !== 0) process.exitCode = 2;
    return;
  }
  const typed = typedSystemError(err);
  reportError(typed);
  process.exitCode = exitCodeFor(typed);
});
