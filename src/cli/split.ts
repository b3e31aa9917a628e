/** `wavelm split DIR`: deterministic file-level train/valid/test assignment, written as a JSONL manifest. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { SplitName } from '../tokens/index.js';
import { WavelmError } from '../util/errors.js';
import { action, emit, warn } from './common.js';
import { numberOption, seedOption } from './options.js';

export function registerSplit(program: Command): void {
  program
    .command('split')
    .description('assign every audio file under DIR to train, valid or test (deterministic, file-level, stable when files are added)')
    .argument('<dir>', 'folder searched recursively for audio files')
    .option('--valid <fraction>', 'fraction for validation', numberOption({ min: 0, max: 1 }), 0.1)
    .option('--test <fraction>', 'fraction for test', numberOption({ min: 0, max: 1 }), 0.1)
    .option('--seed <seed>', 'seed of the assignment (any string or number)', seedOption(), 0)
    .option(
      '--group-by <how>',
      "keep groups in one split: none, parent (the file's folder), or a regex over the relative path (first capture group = group key)",
      'none',
    )
    .option('-o, --out <manifest.jsonl>', "write the manifest here ('-' or none: stdout, with the summary on stderr)")
    .addHelpText(
      'after',
      `
Each file goes to a split by sha256(seed, relative path or group key), so the same seed always gives the
same assignment and adding files never moves existing ones. Manifest lines: {"path", "relative", "group", "split"}.

Examples (the embedded samples are in node_modules/supersonic-scsynth-samples/samples of a checkout):
  wavelm split node_modules/supersonic-scsynth-samples/samples --valid 0.1 --test 0.1 --seed 1 -o manifest.jsonl
  wavelm split node_modules/supersonic-scsynth-samples/samples --group-by '^([a-z]+)_' -o families.jsonl   # one family \
(ambi, bd, drum, ...) never spans splits`,
    )
    .action(
      action(
        async (dir: string, flags: { valid: number; test: number; seed: number | string; groupBy: string; out?: string }, cmd: Command) => {
          const { assignSplits } = await import('../tokens/index.js');
          const out = flags.out === '-' ? undefined : flags.out;
          const entries = assignSplits(dir, {
            seed: flags.seed,
            valid: flags.valid,
            test: flags.test,
            groupBy: flags.groupBy,
            onWarning: (m) => warn(cmd, m),
          });
          const lines = entries
            .map((e) => JSON.stringify({ path: e.path, relative: e.relative, group: e.group, split: e.split }))
            .join('\n');
          const counts: Record<SplitName, number> = { train: 0, valid: 0, test: 0 };
          for (const e of entries) counts[e.split]++;
          const groups = new Set(entries.map((e) => e.group)).size;
          const summary = { files: entries.length, groups, ...counts, manifest: out ?? null };
          if (out) {
            try {
              writeFileSync(out, lines.length > 0 ? `${lines}\n` : '');
            } catch (err) {
              throw new WavelmError('ENOENT', `${out}: cannot write the manifest (${(err as NodeJS.ErrnoException).code ?? String(err)})`, {
                subject: out,
                cause: err,
              });
            }
            emit(
              cmd,
              summary,
              () =>
                `${entries.length} files (${groups} groups): ${counts.train} train, ${counts.valid} valid, ${counts.test} test -> ${out}`,
            );
          } else {
            emit(
              cmd,
              { ...summary, entries: entries.map((e) => ({ path: e.path, relative: e.relative, group: e.group, split: e.split })) },
              () => lines,
            );
            process.stderr.write(
              `${entries.length} files (${groups} groups): ${counts.train} train, ${counts.valid} valid, ${counts.test} test\n`,
            );
          }
        },
      ),
    );
}
