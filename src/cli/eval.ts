/** `wavelm eval`: compression rates with compress.py's semantics, for classical compressors and LMs. */
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import type { Compressor } from '../compress/compressor.js';
import type { EvalResult } from '../compress/evaluate.js';
import type { LosslessEntry, LosslessResult } from '../compress/lossless.js';
import type { EvalShardRun, LosslessShardRun } from '../compress/eval-merge.js';
import { ConfigError, MismatchError, NotFoundError } from '../util/errors.js';
import { addTokenOptions, pipelineOptions, type PipelineFlags } from './chunks.js';
import { action, barFor, checkWritable, emit, warn } from './common.js';
import { addShardOptions, integerOption, shardFromFlags } from './options.js';

/**
 * The names of src/compress/compressors.ts, written out so that declaring the command loads no compressor
 * (test/cli/startup.test.ts checks that the two lists agree).
 */
export const CLASSICAL_COMPRESSOR_NAMES = ['gzip', 'lzma', 'flac', 'png', 'brotli', 'zstd'];

interface EvalFlags extends PipelineFlags {
  files?: string[];
  manifest?: string;
  split?: string;
  compressors: string;
  maxChunks?: number;
  workers: number;
  unchunked: boolean;
  csv?: string;
  chart?: string;
  lossless?: boolean;
  lmicCoder?: boolean;
  numShards?: number;
  shardIndex?: number;
  merge?: string[];
}

/** A compressor by name; `bitDepth` is the data's, which an lm: model's vocabulary must match. */
async function pick(name: string, workers: number, lmicCoder = false, bitDepth: 8 | 16 = 8): Promise<Compressor> {
  if (name.startsWith('lm:')) {
    const [{ loadCompressionModel }, { LmCompressor }] = await Promise.all([
      import('../compress/model.js'),
      import('../compress/lm-compressor.js'),
    ]);
    const path = name.slice(3);
    if (!path) throw new ConfigError('lm: needs a checkpoint, e.g. lm:runs/fsdd or lm:runs/fsdd/checkpoints/step-1000/model.safetensors');
    const model = loadCompressionModel(path);
    const modelBits = model.vocabSize === 65536 ? 16 : model.vocabSize === 256 ? 8 : undefined;
    if (modelBits !== undefined && modelBits !== bitDepth)
      throw new ConfigError(
        `${name}: a ${modelBits}-bit model (vocabulary ${model.vocabSize}) cannot code ${bitDepth}-bit chunks; give --bit-depth ` +
          `${modelBits}`,
        { subject: name },
      );
    return new LmCompressor(name, model, workers, lmicCoder);
  }
  const { CLASSICAL_COMPRESSORS } = await import('../compress/compressors.js');
  const c = CLASSICAL_COMPRESSORS[name];
  if (!c) throw new ConfigError(`unknown compressor '${name}'; known: ${Object.keys(CLASSICAL_COMPRESSORS).join(', ')}, lm:CHECKPOINT`);
  return c;
}

function losslessCsv(results: LosslessResult[]): string {
  return `${[
    'compressor,files,original_bytes,compressed_bytes,rate,seconds',
    ...results.map((r) => [r.compressor, r.files, r.originalBytes, r.compressedBytes, r.rate.toFixed(6), r.seconds.toFixed(3)].join(',')),
  ].join('\n')}\n`;
}

/** `--merge A.json B.json ...`: the shards' --json output summed into one run's figures (src/compress/eval-merge.ts). */
async function mergeShards(paths: string[], flags: EvalFlags, cmd: Command): Promise<void> {
  const [{ mergeEvalRuns, mergeLosslessRuns, parseShardRun }, { evalChartHtml, formatEvalCsv, formatEvalTable }, { formatLosslessTable }] =
    await Promise.all([import('../compress/eval-merge.js'), import('../compress/evaluate.js'), import('../compress/lossless.js')]);
  const runs = paths.map((p) => {
    let text: string;
    try {
      text = readFileSync(p, 'utf8');
    } catch (e) {
      throw new NotFoundError(`${p}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { subject: p, cause: e });
    }
    return parseShardRun(text, p);
  });
  const lossless = runs.filter((r) => 'lossless' in r && r.lossless === true).length;
  if (lossless > 0 && lossless < runs.length)
    throw new MismatchError(`--merge got --lossless and chunked shards together: merge the shards of one run`);
  if (lossless > 0) {
    const merged = mergeLosslessRuns(runs as LosslessShardRun[], paths);
    if (flags.csv) writeFileSync(flags.csv, losslessCsv(merged.results));
    emit(cmd, merged, () => `${merged.files} files from ${merged.shards} shards\n${formatLosslessTable(merged.results)}`);
    return;
  }
  const merged = mergeEvalRuns(runs as EvalShardRun[], paths);
  if (flags.csv) writeFileSync(flags.csv, formatEvalCsv(merged.results));
  if (flags.chart)
    writeFileSync(
      flags.chart,
      evalChartHtml(merged.results, `wavelm eval: ${merged.chunks} chunks from ${merged.files} files in ${merged.shards} shards`),
    );
  emit(
    cmd,
    merged,
    () =>
      `${merged.chunks} chunks (${merged.files} files) from ${merged.shards} shards; unchunked rates do not add up over shards and ` +
      `are left out\n${formatEvalTable(merged.results)}`,
  );
}

export function registerEval(program: Command): void {
  const cmd = program
    .command('eval')
    .description(
      "compression rates as LMIC's compress.py measures them: chunked (2048-byte chunks, a classical header counted once) and " +
        'unchunked, with running time',
    )
    .option('--files <paths...>', 'audio files or folders')
    .option('--manifest <file>', 'a `wavelm split` manifest (JSONL) instead of --files')
    .option('--split <name>', 'only this split of the manifest (train, valid, test)')
    .option('-c, --compressors <list>', `comma-separated: ${CLASSICAL_COMPRESSOR_NAMES.join(', ')}, lm:CHECKPOINT`, 'gzip,lzma,flac,png')
    .option('--max-chunks <n>', "evaluate the first n chunks (LMIC's --num_chunks)", integerOption({ min: 1 }))
    .option(
      '--workers <n>',
      'worker threads for LM compressors (rates do not depend on it)',
      integerOption({ min: 1 }),
      Math.max(1, Math.min(2, availableParallelism())),
    )
    .option('--no-unchunked', 'skip the unchunked rates')
    .option('--csv <file>', 'also write the results as CSV')
    .option('--chart <file.html>', 'also write a bar chart (self-contained HTML with inline SVG)')
    .option('--lmic-coder', "for lm: compressors, also code every chunk with LMIC's arithmetic coder and report its rate")
    .option(
      '--merge <json...>',
      'merge the --json output of the shards of one run (--num-shards N --shard-index I) into its rates, computing nothing again',
    )
    .option(
      '--lossless',
      'whole-file lossless instead: each file (WAV, AIFF, FLAC) compressed whole (flac at its own bit depth, ' +
        "wavelm[:fast|normal|max] by wavelm's codec, lm: as a .wlm archive, others on the file bytes); a file a compressor cannot " +
        'take is reported and left out of its totals',
    );
  addShardOptions(addTokenOptions(cmd, { channelMode: 'pick' }))
    .addHelpText(
      'after',
      `
Data go through the audio pipeline of \`wavelm chunks\` with the same options; the defaults are LMIC's:
first channel (--channel-mode pick), 8-bit (audioop 16 -> 8 bit), 2048-byte chunks, each file's
incomplete last chunk dropped. Every compressor gets the same chunk bytes: FLAC codes them as audio at
their bit depth (and, for --channel-mode block, as stereo where a chunk holds whole left/right block
pairs); an lm: model must match the bit depth (vocabulary 256 for 8-bit, 65536 for 16-bit). LM rates are
the bytes of range-coded chunks as a .wlm archive stores them. The pipeline options do not apply to
--lossless.

Sharded (docs/scaling.md): each job runs \`wavelm --json eval ... --num-shards N --shard-index I > I.json\`
over the same inputs; \`wavelm eval --merge 0.json 1.json ...\` then gives the chunked (and --lossless)
rates one run gives, from the byte counts; unchunked rates do not add up over shards and are left out.

Examples (the embedded samples are in node_modules/supersonic-scsynth-samples/samples of a checkout; manifest.jsonl and \
runs/: see wavelm split --help, wavelm train --help):
  wavelm eval --files node_modules/supersonic-scsynth-samples/samples --compressors gzip,lzma,flac,png --chart rates.html
  wavelm eval --manifest manifest.jsonl --split test --compressors flac,lm:runs/samples --csv rates.csv
  wavelm eval --lossless --files /tmp/demo --compressors flac,lm:/tmp/demo/run   # WAV files: wavelm demo --out-dir /tmp/demo writes one
  wavelm eval --files node_modules/supersonic-scsynth-samples/samples/ambi_choir.flac --bit-depth 16 --channel-mode \
block --compressors gzip,lzma,flac
  wavelm eval --lossless --files node_modules/supersonic-scsynth-samples/samples --compressors flac,wavelm`,
    )
    .action(
      action(async (flags: EvalFlags, cmd: Command) => {
        if (flags.merge) {
          if (flags.files || flags.manifest || flags.numShards !== undefined || flags.shardIndex !== undefined)
            throw new ConfigError("--merge reads the shards' JSON only: leave out --files, --manifest, --num-shards and --shard-index");
          if (flags.csv) checkWritable(flags.csv, '--csv');
          if (flags.chart) checkWritable(flags.chart, '--chart');
          await mergeShards(flags.merge, flags, cmd);
          return;
        }
        const shard = await shardFromFlags(flags);
        if (!flags.files === !flags.manifest) throw new ConfigError('give either --files PATH... or --manifest FILE');
        if (flags.csv) checkWritable(flags.csv, '--csv');
        if (flags.chart) checkWritable(flags.chart, '--chart');
        const [{ pipelineChunks, manifestPaths }, { evalChartHtml, evaluateCompressor, formatEvalCsv, formatEvalTable }] =
          await Promise.all([import('../compress/data.js'), import('../compress/evaluate.js')]);
        const inputs = flags.manifest ? manifestPaths(flags.manifest, flags.split) : flags.files!;
        const names = flags.compressors
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0);
        const { resolveCheckpointPath } = await import('../util/hub.js');
        for (const [i, n] of names.entries())
          if (n.startsWith('lm:') && n.length > 3) names[i] = `lm:${await resolveCheckpointPath(n.slice(3), barFor(cmd, { unit: 'B' }))}`;
        if (names.length === 0) throw new ConfigError('--compressors is empty');
        if (flags.lossless) {
          const [{ evaluateLossless, formatLosslessTable }, { collectAudioFiles }, { defaultChunkLength, loadCompressionModel }] =
            await Promise.all([import('../compress/lossless.js'), import('../tokens/index.js'), import('../compress/model.js')]);
          const all = collectAudioFiles(inputs, (m) => warn(cmd, m));
          if (all.length === 0) throw new ConfigError(`no audio files in ${inputs.join(', ')}`);
          const files = (await import('../util/shards.js')).shardItems(all, shard);
          const losslessEntry = async (n: string): Promise<LosslessEntry> => {
            if (n === 'flac') return { kind: 'flac' };
            const codec = /^wavelm(?::(fast|normal|max))?$/.exec(n);
            if (codec) return { kind: 'codec', level: (codec[1] ?? 'normal') as 'fast' | 'normal' | 'max', workers: flags.workers };
            if (n.startsWith('lm:')) {
              const model = loadCompressionModel(n.slice(3));
              return { kind: 'lm', name: n, model, workers: flags.workers, chunkLength: defaultChunkLength(model) };
            }
            if (n === 'png') throw new ConfigError('png is not a whole-file compressor; use it without --lossless');
            return { kind: 'bytes', compressor: await pick(n, flags.workers) };
          };
          const entries: LosslessEntry[] = [];
          for (const n of names) entries.push(await losslessEntry(n));
          const results = await evaluateLossless(files, entries, barFor(cmd, { unit: 'files' }));
          for (const r of results) for (const f of r.failed) warn(cmd, `${r.compressor}: ${f.file} left out (${f.error})`);
          if (flags.csv) writeFileSync(flags.csv, losslessCsv(results));
          emit(cmd, { ...(shard ? { shard } : {}), files: files.length, lossless: true, results }, () => formatLosslessTable(results));
          return;
        }
        const pipeline = pipelineOptions(flags);
        const bitDepth = pipeline.bitDepth ?? 8;
        const compressors: Compressor[] = [];
        for (const n of names) compressors.push(await pick(n, flags.workers, flags.lmicCoder === true, bitDepth));
        const data = await pipelineChunks(inputs, pipeline, {
          maxChunks: flags.maxChunks,
          progress: barFor(cmd, { unit: 'B' }),
          onWarning: (m) => warn(cmd, m),
          shard,
        });
        // A shard may hold no chunks (more shards than files); its JSON still counts in the merge.
        if (data.chunks.length === 0 && !shard)
          throw new ConfigError(`no complete ${data.pipeline.chunkSizeBytes}-byte chunks in ${inputs.length} input(s)`);
        const ctx = { sampleRate: data.sampleRate, bitDepth, channels: data.channels, blockingSize: data.pipeline.blockingSize };
        const results: EvalResult[] = [];
        for (const c of compressors) {
          try {
            results.push(
              await evaluateCompressor(c, data.chunks, ctx, { unchunked: flags.unchunked, progress: barFor(cmd, { unit: 'chunks' }) }),
            );
          } finally {
            await c.dispose?.();
          }
        }
        if (flags.csv) writeFileSync(flags.csv, formatEvalCsv(results));
        if (flags.chart)
          writeFileSync(flags.chart, evalChartHtml(results, `wavelm eval: ${data.chunks.length} chunks from ${data.files} files`));
        emit(
          cmd,
          {
            ...(shard ? { shard } : {}),
            files: data.files,
            chunks: data.chunks.length,
            sampleRate: data.sampleRate,
            channels: data.channels,
            pipeline: data.pipeline,
            results,
          },
          () => {
            const extra = results
              .filter((r) => r.extra)
              .map(
                (r) =>
                  `${r.compressor}: ideal ${(100 * Number(r.extra!.idealRate)).toFixed(2)}%, coder overhead ` +
                  `${(100 * Number(r.extra!.coderOverhead)).toFixed(3)}%` +
                  (r.extra!.lmicCoderRate !== undefined ? `, LMIC's coder ${(100 * Number(r.extra!.lmicCoderRate)).toFixed(2)}%` : '') +
                  `, ${(Number(r.extra!.bytesPerSecond) / 1000).toFixed(1)} KB/s on ${r.extra!.workers} workers`,
              );
            const p = data.pipeline;
            const layout =
              `${p.bitDepth}-bit, ${p.chunkSizeBytes}-byte chunks` +
              `${data.channels > 1 ? `, ${data.channels} channels in ${p.blockingSize}-sample blocks` : ''}`;
            return [
              `${data.chunks.length} chunks (${data.files} files, ${data.sampleRate} Hz, ${layout})`,
              formatEvalTable(results),
              ...extra,
            ].join('\n');
          },
        );
      }),
    );
}
