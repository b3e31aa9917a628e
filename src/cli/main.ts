#!/usr/bin/env node
/**
 * The wavelm command line. Each command lives in its own file and registers itself (commands.ts lists them).
 * Only the commands this command line needs are declared, and a command's action imports the library
 * modules it runs, so start-up reads little more than Node itself (bench/startup.ts measures it).
 */
import { Command, CommanderError } from './commander.js';
import { packageVersion } from '../util/paths.js';
import { exitCodeFor } from '../util/errors.js';
import { reportError, reportUsageErrors, typedSystemError } from './common.js';
import { commandsFor } from './commands.js';

async function main(argv: string[]): Promise<void> {
  const program = new Command('wavelm')
    .description('Machine learning on raw audio: audio to byte tokens, datasets, LM compression, codec tokens, quality metrics.')
    .version(packageVersion())
    .option('--json', 'print machine-readable results (JSON) on stdout')
    .option('-q, --quiet', 'no progress bars or warnings on stderr')
    .enablePositionalOptions(false);
  const registers = await Promise.all(commandsFor(argv.slice(2)).map((c) => c.load()));
  for (const register of registers) register(program);
  reportUsageErrors(program);
  await program.parseAsync(argv);
}

// `wavelm --help | head` closes stdout early: stop quietly, as other command-line tools do.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(0);
});

main(process.argv).catch((err: unknown) => {
  // Commander has printed its own output by now: help or the version (exit 0), or a usage error (exit 2).
  if (err instanceof CommanderError) {
    if (err.exitCode !== 0) process.exitCode = 2;
    return;
  }
  const typed = typedSystemError(err);
  reportError(typed);
  process.exitCode = exitCodeFor(typed);
});
