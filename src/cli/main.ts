#!/usr/bin/env node
/** The wavelm command line. Each command lives in its own file and registers itself here. */
import { Command } from 'commander';
import { packageVersion } from '../util/paths.js';
import { reportError } from './common.js';
import { commands } from './commands.js';

const program = new Command('wavelm')
  .description('Machine learning on raw audio: audio to byte tokens, datasets, LM compression, codec tokens, quality metrics.')
  .version(packageVersion())
  .option('--json', 'print machine-readable results (JSON) on stdout')
  .option('-q, --quiet', 'no progress bars or warnings on stderr')
  .showHelpAfterError()
  .enablePositionalOptions(false);

for (const register of commands) register(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  reportError(err);
  process.exitCode = 1;
});
