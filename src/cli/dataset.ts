/** `wavelm dataset build|plan|info|verify|cat|export|import`: the audio dataset format (src/dataset does the work). */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { DecodedValue, ModelFamily, Priority, StoragePlan } from '../dataset/index.js';
import { ChecksumError, ConfigError, exitCodeFor } from '../util/errors.js';
import type { NpyData } from '../util/npy.js';
import { action, barFor, checkWritable, emit, setsOptions, warn } from './common.js';
import { integerOption, numberOption } from './options.js';

interface FileInfo {
  path: string;
  samples: number;
  bytes: number;
  seconds: number | null;
  metadata: Record<string, unknown>;
  fields: { name: string; type: string; args: Record<string, unknown>; bytes: number; bytes_per_minute: number | null }[];
}

const mib = (b: number) => `${(b / 1048576).toFixed(2)} MiB`;

function summarise(v: DecodedValue): unknown {
  if (v.kind === 'scalar' || v.kind === 'value') return v.value;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < v.data.length; i++) {
    const x = v.data[i]!;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  return {
    dtype: v.dtype,
    shape: v.shape,
    ...(v.sampleRate ? { sample_rate: v.sampleRate } : {}),
    min: v.data.length ? min : null,
    max: v.data.length ? max : null,
  };
}

function planText(p: StoragePlan, humanBytes: (n: number) => string): string {
  const mb = (b: number) => (b / 1e6).toFixed(2);
  const rows = p.candidates.map((c) => [
    c.name,
    c.lossy ? 'lossy' : 'lossless',
    Math.round(c.bytesPerSecond).toString(),
    mb(c.predictedBytes),
    c.decodeMsPerBatch.toFixed(2),
    Math.round(c.decodeRealtime).toString(),
    c.fitsBudget ? 'yes' : 'no',
  ]);
  const head = ['field', 'kind', 'bytes/s', 'predicted MB', `ms/batch of ${p.batchSize}`, 'x real time', 'fits'];
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((v, i) => (i < 2 ? v.padEnd(width[i]!) : v.padStart(width[i]!))).join('  ');
  return [
    `input: ${p.input.samples} samples, ${(p.input.seconds / 3600).toFixed(2)} h of audio; measured on ${p.sample.samples} samples ` +
      `(${p.sample.seconds.toFixed(1)} s)`,
    line(head),
    ...rows.map(line),
    p.recommendation
      ? `recommended for a ${p.model} model${p.diskBudget !== null ? ` within ${humanBytes(p.diskBudget)}` : ''}: --fields ` +
        `'${p.recommendation.spec}' (${p.recommendation.reason})`
      : `no candidate suits a ${p.model} model; add one to --fields`,
    `rule: ${p.rule}`,
  ].join('\n');
}

export function registerDataset(program: Command): void {
  const ds = program.command('dataset').description('build, inspect, verify and convert wavelm audio datasets (.wlds)');

  ds.command('build')
    .description('encode audio files, folders or manifests (.jsonl with "path", or a list of paths) into a dataset')
    .argument('<inputs...>', 'audio files, folders (searched recursively) or manifests')
    .requiredOption('-o, --out <file>', 'output .wlds file (shards are named OUT-00000-of-0000K.wlds)')
    .option(
      '--fields <spec>',
      'fields: [NAME=]TYPE[(key=value,...)], comma-separated; types: waveform, flac, opus, mp3, compressed, mel, chunks, ' +
        'codec_tokens, int, label, class, float, string, json; codec_tokens(model=DIR|ID,bandwidth=KBPS) encodes with EnCodec',
      'waveform',
    )
    .option('--shard-size <n>', 'samples per shard', integerOption({ min: 1 }))
    .option('--num-shards <k>', 'cut the plan into K shards of near-equal size', integerOption({ min: 1 }))
    .option('--shard-index <i>', 'build only shard I of the plan (for array jobs)', integerOption({ min: 0 }))
    .option('--split <name>', 'only the manifest entries of this split (train, valid, test: manifests of wavelm split)')
    .option('--segment-seconds <s>', 'cut recordings into segments of S seconds, each one sample', numberOption({ above: 0 }))
    .option('--workers <n>', 'encoding worker threads (0: the main thread)', integerOption({ min: 0 }), 0)
    .option('--allow-truncated', 'keep the readable frames of truncated WAV/AIFF and damaged FLAC files (with a warning)')
    .option('--skip-unreadable', 'leave out files that cannot be read, with a warning each (default: the first one stops the build)')
    .option(
      '--cache-dir <dir>',
      'content-hash cache of codec tokens encoded with model= (default: $WAVELM_CACHE_DIR, else $XDG_CACHE_HOME/wavelm, else ' +
        '~/.cache/wavelm)',
    )
    .option('--no-cache', 'do not read or write the codec token cache')
    .addHelpText(
      'after',
      "\nCodec tokens from EnCodec: --fields 'codes=codec_tokens(model=facebook/encodec_24khz,bandwidth=6)' (a model folder or a " +
        "hub id, as codec encode -m takes them; bandwidth defaults to 6) encodes each sample's audio as codec encode does (on " +
        '--workers threads of its own); unchanged samples come from the cache. Without model=, codec_tokens reads token arrays (.npy ' +
        'paths in a manifest).',
    )
    .action(
      action(
        async (
          inputs: string[],
          o: {
            out: string;
            fields: string;
            shardSize?: number;
            numShards?: number;
            shardIndex?: number;
            split?: string;
            segmentSeconds?: number;
            workers: number;
            allowTruncated?: boolean;
            skipUnreadable?: boolean;
            cacheDir?: string;
            cache: boolean;
          },
          cmd: Command,
        ) => {
          checkWritable(o.out, '-o');
          const { buildDataset, encodesTokens, parseFieldSpecs } = await import('../dataset/index.js');
          const fields = parseFieldSpecs(o.fields);
          const encodes = fields.some(encodesTokens);
          const { encodecTokenEncoder } = encodes ? await import('./encodec-tokens.js') : { encodecTokenEncoder: undefined };
          const cacheDir = encodes && o.cache ? (o.cacheDir ?? (await import('../codec/index.js')).defaultCacheDir()) : undefined;
          const r = await buildDataset(inputs, {
            out: o.out,
            fields,
            shardSize: o.shardSize,
            numShards: o.numShards,
            shardIndex: o.shardIndex,
            split: o.split,
            segmentSeconds: o.segmentSeconds,
            workers: o.workers,
            progress: barFor(cmd, { unit: 'samples' }),
            allowTruncated: o.allowTruncated,
            skipUnreadable: o.skipUnreadable,
            onWarning: (m) => warn(cmd, m),
            codecTokenEncoder: encodecTokenEncoder && ((request) => encodecTokenEncoder(request, { progress: barFor(cmd, { unit: 'B' }) })),
            cacheDir,
          });
          emit(cmd, r, () =>
            [
              `plan: ${r.plan.samples} samples in ${r.plan.shards} shard(s); built ${r.shards.length} in ${r.seconds.toFixed(2)} s` +
                `${r.skipped.length > 0 ? `; ${r.skipped.length} unreadable file(s) left out` : ''}`,
              ...r.shards.map((s) => `  ${s.path}: ${s.samples} samples, ${mib(s.bytes)}`),
              ...(r.codecTokens ? [`codec tokens: ${r.codecTokens.encoded} encoded, ${r.codecTokens.cached} from the cache`] : []),
            ].join('\n'),
          );
        },
      ),
    );

  // planStorage's names for what --sample and --fields give it
  setsOptions(ds.command('plan'), { '--sample': 'sampleSize', '--fields': 'candidates' })
    .description(
      'choose a storage layout: measure each candidate field on a sample of the inputs (bytes per second of audio, decode time per ' +
        'batch), extrapolate to all of them, and recommend one by the rule the plan prints (docs/dataset.md)',
    )
    .argument('<inputs...>', 'audio files, folders or manifests, as for dataset build')
    .option('--model <family>', 'what will train on it: waveform, spectrogram or token-lm', 'waveform')
    .option('--disk-budget <size>', 'space the dataset may take, e.g. 200GB or 50GiB (default: unlimited)')
    .option('--prefer <what>', 'for waveform models: speed (raw int16 when it fits) or space (FLAC)', 'speed')
    .option(
      '--fields <spec>',
      'candidate fields, as dataset build takes them (default: waveform int16 and float32, FLAC, Opus, mel float16 and float32, ' +
        'codec tokens)',
    )
    .option('--sample <n>', 'samples measured, spread over the inputs', integerOption({ min: 1 }), 64)
    .option('--batch-size <n>', 'batch size the decode time is given for', integerOption({ min: 1 }), 32)
    .option('--segment-seconds <s>', 'as dataset build: cut recordings into segments of S seconds', numberOption({ above: 0 }))
    .option('--split <name>', 'as dataset build: only the manifest entries of this split')
    .action(
      action(
        async (
          inputs: string[],
          o: {
            model: string;
            diskBudget?: string;
            prefer: string;
            fields?: string;
            sample: number;
            batchSize: number;
            segmentSeconds?: number;
            split?: string;
          },
          cmd: Command,
        ) => {
          const { DEFAULT_CANDIDATES, encodesTokens, humanBytes, parseByteSize, parseFieldSpecs, planStorage } = await import(
            '../dataset/index.js'
          );
          const candidates = parseFieldSpecs(o.fields ?? DEFAULT_CANDIDATES);
          const { encodecTokenEncoder } = candidates.some(encodesTokens)
            ? await import('./encodec-tokens.js')
            : { encodecTokenEncoder: undefined };
          const plan = await planStorage(inputs, {
            candidates,
            codecTokenEncoder: encodecTokenEncoder && ((request) => encodecTokenEncoder(request, { progress: barFor(cmd, { unit: 'B' }) })),
            sampleSize: o.sample,
            batchSize: o.batchSize,
            model: o.model as ModelFamily,
            prefer: o.prefer as Priority,
            diskBudget: o.diskBudget === undefined ? undefined : parseByteSize(o.diskBudget),
            segmentSeconds: o.segmentSeconds,
            split: o.split,
            progress: barFor(cmd, { unit: 'samples' }),
          });
          emit(cmd, plan, () => planText(plan, humanBytes));
        },
      ),
    );

  ds.command('info')
    .description('fields, sample count, sizes and durations of dataset files')
    .argument('<datasets...>', '.wlds files, folders of shards, or a sharded name')
    .action(
      action(async (paths: string[], _o: unknown, cmd: Command) => {
        const { DatasetReader, resolveDatasetPaths } = await import('../dataset/index.js');
        const files = resolveDatasetPaths(paths);
        const out: FileInfo[] = [];
        for (const p of files) {
          const r = DatasetReader.open(p);
          try {
            const bytes = r.fields.map(() => 0);
            let seconds = 0;
            let timed = true;
            for (let i = 0; i < r.numSamples; i++) {
              for (let k = 0; k < r.fields.length; k++) bytes[k]! += r.blobLength(i, k);
              const d = r.duration(i);
              if (d === undefined) timed = false;
              else seconds += d;
            }
            out.push({
              path: p,
              samples: r.numSamples,
              bytes: r.size,
              seconds: timed ? seconds : null,
              metadata: r.schema.metadata,
              fields: r.fields.map((f, k) => ({
                name: f.name,
                type: f.type,
                args: f.args,
                bytes: bytes[k]!,
                bytes_per_minute: timed && seconds > 0 ? (bytes[k]! / seconds) * 60 : null,
              })),
            });
          } finally {
            await r.close();
          }
        }
        emit(cmd, out.length === 1 ? out[0] : out, () =>
          out
            .map((d) =>
              [
                `${d.path}: ${d.samples} samples, ` +
                  `${mib(d.bytes)}${d.seconds !== null ? `, ${(d.seconds / 60).toFixed(2)} min of audio` : ''}`,
                ...d.fields.map(
                  (f) =>
                    `  ${f.name} (${f.type}) ${JSON.stringify(f.args)}: ` +
                    `${mib(f.bytes)}${f.bytes_per_minute !== null ? `, ${mib(f.bytes_per_minute)}/min` : ''}`,
                ),
              ].join('\n'),
            )
            .join('\n'),
        );
      }),
    );

  ds.command('verify')
    .description('check every checksum; report damaged samples by index (exit code 5 when any)')
    .argument('<datasets...>', '.wlds files, folders of shards, or a sharded name')
    .option('--decode', 'also decode every blob (codecs must accept it)')
    .action(
      action(async (paths: string[], o: { decode?: boolean }, cmd: Command) => {
        const { verifyDataset } = await import('../dataset/index.js');
        const reports = await verifyDataset(paths, { decode: o.decode, progress: barFor(cmd, { unit: 'samples' }) });
        const bad = reports.filter((r) => !r.ok);
        emit(cmd, { ok: bad.length === 0, files: reports }, () =>
          reports
            .map((r) =>
              r.error
                ? `${r.path}: UNREADABLE: ${r.error}`
                : r.ok
                  ? `${r.path}: ok (${r.samples} samples)`
                  : [
                      `${r.path}: ${r.damaged.length} damaged blob(s)`,
                      ...r.damaged.map((d) => `  sample ${d.sample} field ${d.field}: ${d.error}`),
                    ].join('\n'),
            )
            .join('\n'),
        );
        if (bad.length > 0) process.exitCode = exitCodeFor(new ChecksumError(`${bad.length} damaged file(s)`));
      }),
    );

  ds.command('cat')
    .description('decode one sample: print its fields (arrays summarised), or write one field as .wav or .npy')
    .argument('<dataset>', '.wlds file (or sharded name: the index is global)')
    .argument('<index>', 'sample index', integerOption({ min: 0 }))
    .option('--fields <names>', 'comma-separated field names (default: all)')
    .option('--wav <file>', 'write the (first selected) audio field as WAV')
    .option('--npy <file>', 'write the (first selected) array field as .npy')
    .action(
      action(async (path: string, index: number, o: { fields?: string; wav?: string; npy?: string }, cmd: Command) => {
        const { DatasetReader, decodedToAudio, resolveDatasetPaths } = await import('../dataset/index.js');
        if (o.wav) checkWritable(o.wav, '--wav');
        if (o.npy) checkWritable(o.npy, '--npy');
        const files = resolveDatasetPaths([path]);
        let i = index;
        for (const p of files) {
          const r = DatasetReader.open(p);
          try {
            if (i >= r.numSamples) {
              i -= r.numSamples;
              continue;
            }
            const names = o.fields?.split(',').map((s) => s.trim());
            const s = await r.get(i, names);
            if (o.wav) {
              const e = Object.entries(s).find(
                ([n, v]) => v.kind === 'array' && ['waveform', 'compressed'].includes(r.fields[r.fieldIndex(n)]!.type),
              );
              if (e?.[1].kind !== 'array') throw new ConfigError('--wav: no audio field (waveform or compressed) selected');
              const { encodeWav } = await import('../audio/index.js');
              writeFileSync(o.wav, encodeWav(decodedToAudio(e[1])));
            }
            if (o.npy) {
              const e = Object.values(s).find((v) => v.kind === 'array');
              if (e?.kind !== 'array') throw new ConfigError('--npy: no array field selected');
              const { serializeNpy } = await import('../util/npy.js');
              writeFileSync(o.npy, serializeNpy(e.data as NpyData, e.shape));
            }
            const result = { index, file: p, sample: i, fields: Object.fromEntries(Object.entries(s).map(([n, v]) => [n, summarise(v)])) };
            emit(cmd, result, () =>
              Object.entries(result.fields)
                .map(([n, v]) => `${n}: ${JSON.stringify(v)}`)
                .join('\n'),
            );
            return;
          } finally {
            await r.close();
          }
        }
        throw new ConfigError(`sample ${index} is out of range for ${path}`);
      }),
    );

  ds.command('export')
    .description('write WebDataset tar shards (KEY.wav/.flac, KEY.json, KEY.NAME.npy), or one .npy per sample of a field')
    .argument('<datasets...>', '.wlds files, folders of shards, or a sharded name')
    .requiredOption('-o, --out <dir>', 'output folder')
    .option('--format <fmt>', 'webdataset or npy', 'webdataset')
    .option('--fields <names>', 'comma-separated fields to export (default: all); with --format npy, the one field')
    .option('--samples-per-shard <n>', 'samples per tar shard', integerOption({ min: 1 }), 1000)
    .action(
      action(async (paths: string[], o: { out: string; format: string; fields?: string; samplesPerShard: number }, cmd: Command) => {
        const { exportNpy, exportWebDataset } = await import('../dataset/index.js');
        const names = o.fields?.split(',').map((s) => s.trim());
        if (o.format === 'npy') {
          if (names?.length !== 1) throw new ConfigError('--format npy exports one array field: give --fields NAME');
          const r = await exportNpy(paths, names[0]!, o.out, barFor(cmd, { unit: 'samples' }));
          emit(cmd, r, () => `${r.files} .npy files in ${o.out}`);
          return;
        }
        if (o.format !== 'webdataset') throw new ConfigError(`--format must be webdataset or npy, got '${o.format}'`);
        const r = await exportWebDataset(paths, {
          outDir: o.out,
          fields: names,
          samplesPerShard: o.samplesPerShard,
          progress: barFor(cmd, { unit: 'samples' }),
        });
        emit(cmd, r, () => `${r.samples} samples in ${r.shards.length} shard(s):\n${r.shards.map((s) => `  ${s}`).join('\n')}`);
      }),
    );

  ds.command('import')
    .description('build a dataset from WebDataset tar shards')
    .argument('<tars...>', 'WebDataset .tar shards')
    .requiredOption('-o, --out <file>', 'output .wlds file')
    .option('--fields <spec>', 'fields as for build (default: waveform of the audio entry plus the JSON keys)')
    .action(
      action(async (tars: string[], o: { out: string; fields?: string }, cmd: Command) => {
        const { importWebDataset, parseFieldSpecs } = await import('../dataset/index.js');
        const r = await importWebDataset(tars, {
          out: o.out,
          fields: o.fields ? parseFieldSpecs(o.fields) : undefined,
          progress: barFor(cmd, { unit: 'samples' }),
        });
        emit(cmd, r, () => `${r.samples} samples written to ${r.path}`);
      }),
    );
}
