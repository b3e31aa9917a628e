/**
 * The list of commands; each entry is one file in src/cli. Add a command by adding its entry here. A file is
 * imported only when its command is declared (see main.ts), so start-up reads only the files it needs.
 */
import type { Command } from 'commander';

export type Register = (program: Command) => void;

export interface CommandEntry {
  /** The command's name on the command line. */
  name: string;
  /** Imports the command's file and returns its register function. */
  load(): Promise<Register>;
}

export const commands: CommandEntry[] = [
  { name: 'demo', load: async () => (await import('./demo.js')).registerDemo },
  { name: 'info', load: async () => (await import('./info.js')).registerInfo },
  { name: 'chunks', load: async () => (await import('./chunks.js')).registerChunks },
  { name: 'split', load: async () => (await import('./split.js')).registerSplit },
  { name: 'train', load: async () => (await import('./train.js')).registerTrain },
  { name: 'features', load: async () => (await import('./features.js')).registerFeatures },
  { name: 'codec', load: async () => (await import('./codec.js')).registerCodec },
  { name: 'metrics', load: async () => (await import('./metrics.js')).registerMetrics },
  { name: 'dataset', load: async () => (await import('./dataset.js')).registerDataset },
  { name: 'compress', load: async () => (await import('./compress.js')).registerCompress },
  { name: 'decompress', load: async () => (await import('./decompress.js')).registerDecompress },
  { name: 'eval', load: async () => (await import('./eval.js')).registerEval },
  { name: 'import', load: async () => (await import('./import.js')).registerImport },
  { name: 'export', load: async () => (await import('./export.js')).registerExport },
];

/**
 * The commands a command line needs declared: the one it names (global options take no values, so the first
 * word that is not an option is the command); none for a bare `--version`; all of them otherwise, for the
 * program's help, `help COMMAND` and the suggestions for a mistyped name.
 */
export function commandsFor(args: string[]): CommandEntry[] {
  const first = args.find((a) => !a.startsWith('-'));
  const named = commands.find((c) => c.name === first);
  if (named) return [named];
  const versionOnly =
    first === undefined && args.some((a) => a === '--version' || a === '-V') && !args.some((a) => a === '--help' || a === '-h');
  return versionOnly ? [] : commands;
}
