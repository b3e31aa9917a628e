/** `wavelm decompress IN.wlm -m CHECKPOINT -o RESTORED`: restores the original file byte for byte. */
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { decompressAudio, readArchiveInfo } from '../compress/archive.js';
import { loadCompressionModel } from '../compress/model.js';
import { action, barFor, emit, intOption } from './common.js';
import { readInput } from './compress.js';

interface DecompressFlags {
  model: string;
  out?: string;
  workers: number;
}

export function registerDecompress(program: Command): void {
  program
    .command('decompress')
    .description('restore the original file from a .wlm archive (needs the model it was compressed with)')
    .argument('<archive>', 'a .wlm archive')
    .requiredOption('-m, --model <checkpoint>', 'the checkpoint used to compress')
    .option('-o, --out <file>', 'where to write the restored file (default: ARCHIVE without .wlm)')
    .option('--workers <n>', 'worker threads', intOption('--workers'), Math.max(1, Math.min(2, availableParallelism())))
    .addHelpText('after', '\nThe model hashes, checksums and the SHA-256 of the original are verified: another model or a damaged archive is an error (exit code 5), never wrong output.')
    .action(
      action(async (input: string, flags: DecompressFlags, cmd: Command) => {
        const archive = readInput(input);
        const info = readArchiveInfo(archive, input);
        const model = loadCompressionModel(flags.model);
        const out = flags.out ?? (input.endsWith('.wlm') ? input.slice(0, -4) : `${input}.restored`);
        const t0 = performance.now();
        const restored = await decompressAudio(archive, model, { workers: Math.max(1, flags.workers), name: input, progress: barFor(cmd, { unit: 'samples' }) });
        const seconds = (performance.now() - t0) / 1000;
        writeFileSync(out, restored);
        emit(cmd, { input, output: out, bytes: restored.length, sha256: info.originalSha256, mode: info.settings.mode, seconds }, () => `${input} -> ${out}: ${restored.length} bytes, SHA-256 verified, ${seconds.toFixed(2)} s (${(restored.length / seconds / 1000).toFixed(1)} KB/s)`);
      }),
    );
}
