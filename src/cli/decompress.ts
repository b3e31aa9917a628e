/** `wavelm decompress IN.wlm... -m CHECKPOINT [-o RESTORED | --out-dir DIR]`: restores the original files byte for byte. */
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { decompressAudio, readArchiveInfo } from '../compress/archive.js';
import { codeFiles } from '../compress/batch.js';
import { loadCompressionModel } from '../compress/model.js';
import { NotFoundError } from '../util/errors.js';
import { resolveCheckpointPath } from '../util/hub.js';
import { action, barFor, emit, intOption } from './common.js';
import { planOutputs, readInput, reportFailures, writeOutput } from './compress.js';

interface DecompressFlags {
  model: string;
  out?: string;
  outDir?: string;
  force?: boolean;
  workers: number;
}

/** The restored file's name: the archive's without .wlm. */
function restoredName(p: string): string {
  return p.endsWith('.wlm') ? p.slice(0, -4) : `${p}.restored`;
}

export function registerDecompress(program: Command): void {
  program
    .command('decompress')
    .description('restore the original file from a .wlm archive (needs the model it was compressed with)')
    .argument('<archives...>', '.wlm archives, or directories searched for them')
    .requiredOption('-m, --model <checkpoint>', 'the checkpoint used to compress (or the hub id, ORG/NAME[@revision], of its model.safetensors)')
    .option('-o, --out <file>', 'where to write the restored file, for one archive (default: ARCHIVE without .wlm)')
    .option('--out-dir <dir>', 'write the restored files under DIR (directory inputs keep their inner paths)')
    .option('-f, --force', 'overwrite existing files (by default an existing file, such as the original, is left alone and nothing is written)')
    .option('--workers <n>', 'worker threads', intOption('--workers'), Math.max(1, Math.min(2, availableParallelism())))
    .addHelpText('after', '\nThe model hashes, checksums and the SHA-256 of the original are verified: another model or a damaged archive is an error (exit code 5), never wrong output. Several archives are restored in one run (one model load, all workers busy); one that fails is reported and the others go on.')
    .action(
      action(async (inputs: string[], flags: DecompressFlags, cmd: Command) => {
        const { single, plans } = planOutputs(inputs, flags, '.wlm', restoredName);
        const model = loadCompressionModel(await resolveCheckpointPath(flags.model, barFor(cmd, { unit: 'B' })));
        const workers = Math.max(1, flags.workers);
        if (single) {
          const { input, output } = plans[0]!;
          const archive = readInput(input);
          const info = readArchiveInfo(archive, input);
          const t0 = performance.now();
          const restored = await decompressAudio(archive, model, { workers, name: input, progress: barFor(cmd, { unit: 'samples' }) });
          const seconds = (performance.now() - t0) / 1000;
          writeOutput(output, restored);
          emit(cmd, { input, output, bytes: restored.length, sha256: info.originalSha256, mode: info.settings.mode, seconds }, () => `${input} -> ${output}: ${restored.length} bytes, SHA-256 verified, ${seconds.toFixed(2)} s (${(restored.length / seconds / 1000).toFixed(1)} KB/s)`);
          return;
        }
        if (plans.length === 0) throw new NotFoundError(`no .wlm archives in ${inputs.join(', ')}`);
        const { outcomes, seconds } = await codeFiles(
          model.spec,
          workers,
          plans,
          async ({ input, output }, runner) => {
            const archive = readInput(input);
            const info = readArchiveInfo(archive, input);
            const restored = await decompressAudio(archive, model, { runner, name: input });
            writeOutput(output, restored);
            return { bytes: restored.length, sha256: info.originalSha256 };
          },
          barFor(cmd, { unit: 'files' }),
          'decompress',
        );
        const done = outcomes.filter((o) => o.result);
        const bytes = done.reduce((s, o) => s + o.result!.bytes, 0);
        emit(cmd, { files: outcomes.map((o) => ({ input: o.input, output: o.output, ...(o.result ?? { error: o.error!.message }) })), total: { files: done.length, failed: outcomes.length - done.length, bytes, seconds } }, () =>
          [...done.map((o) => `${o.input} -> ${o.output}: ${o.result!.bytes} bytes, SHA-256 verified`), `${done.length} files: ${bytes} bytes restored, ${seconds.toFixed(2)} s (${(bytes / seconds / 1000).toFixed(1)} KB/s)`].join('\n'),
        );
        reportFailures(outcomes);
      }),
    );
}
