/** `wavelm codec encode|decode`: EnCodec tokens to .npy (+ JSON sidecar) and back to WAV. */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../util/errors.js';
import { action, barFor, checkWritable, emit } from './common.js';
import { addShardOptions, integerOption, numberOption, shardFromFlags } from './options.js';

interface EncodeCliOptions {
  model: string;
  bandwidth: number;
  output?: string;
  groupSeconds?: number;
  maxSeconds?: number;
  workers?: number;
  cacheDir?: string;
  cache: boolean;
  backend: string;
  numShards?: number;
  shardIndex?: number;
}

interface DecodeCliOptions {
  model: string;
  output?: string;
  float?: boolean;
  backend: string;
}

function backendOf(v: string): 'wasm' | 'js' {
  if (v !== 'wasm' && v !== 'js') throw new ConfigError(`--backend must be wasm or js, got '${v}'`, { subject: '--backend' });
  return v;
}

/** Output paths: one explicit file for one input, else a folder (or next to each input) with the input's stem. */
function outputsFor(inputs: string[], output: string | undefined, ext: string): string[] {
  const stem = (p: string): string => basename(p, extname(p));
  const single =
    inputs.length === 1 &&
    output !== undefined &&
    extname(output).toLowerCase() === ext &&
    !(existsSync(output) && statSync(output).isDirectory());
  if (single) return [output];
  if (output !== undefined) mkdirSync(output, { recursive: true });
  const used = new Map<string, number>();
  return inputs.map((p) => {
    let name = stem(p) + (ext === '.npy' ? '.codes' : '.decoded');
    const n = used.get(name) ?? 0;
    used.set(name, n + 1);
    if (n > 0) name += `-${n}`;
    return output !== undefined ? join(output, name + ext) : join(p.slice(0, p.length - basename(p).length), name + ext);
  });
}

export function registerCodec(program: Command): void {
  const codec = program
    .command('codec')
    .description('EnCodec neural-codec tokens (HF-format facebook/encodec_24khz or _48khz weights; see docs/codec.md)');

  const encode = codec
    .command('encode')
    .description('encode audio files to codes .npy [codebooks, frames] with a JSON sidecar (rate, bandwidth, frame rate, scales)')
    .argument('<inputs...>', 'audio files (WAV, FLAC, Ogg Vorbis/Opus, MP3; any rate and channel count)')
    .requiredOption(
      '-m, --model <dir|id>',
      'model folder holding config.json and model.safetensors, or a Hugging Face hub id (facebook/encodec_24khz[@revision])',
    )
    .option('-b, --bandwidth <kbps>', 'target bandwidth: 1.5/3/6/12/24 (24 kHz model), 3/6/12/24 (48 kHz)', numberOption({ above: 0 }), 6)
    .option('-o, --output <path>', 'output .npy for one input, else a folder (default: beside each input, NAME.codes.npy)')
    .option(
      '--group-seconds <s>',
      'group frames into windows of S seconds: [windows, codebooks, frames per window], last window padded with -1',
      numberOption({ above: 0 }),
    )
    .option('--max-seconds <s>', 'encode at most the first S seconds of each file', numberOption({ above: 0 }))
    .option('-w, --workers <n>', 'worker threads for many files (default: cores)', integerOption({ min: 1 }))
    .option(
      '--cache-dir <dir>',
      'content-hash cache of codes (default: $WAVELM_CACHE_DIR, else $XDG_CACHE_HOME/wavelm, else ~/.cache/wavelm)',
    )
    .option('--no-cache', 'do not read or write the cache')
    .option('--backend <name>', 'kernels: wasm (SIMD) or js (reference)', 'wasm');
  addShardOptions(encode)
    .addHelpText(
      'after',
      '\nWith --num-shards N --shard-index I only shard I of the inputs is encoded (docs/scaling.md); ' +
        'outputs are named as in one run over all inputs.',
    )
    .action(
      action(async (all: string[], o: EncodeCliOptions, cmd: Command) => {
        const shard = await shardFromFlags(o);
        if (shard && o.output !== undefined && extname(o.output).toLowerCase() === '.npy')
          throw new ConfigError(`-o ${o.output} names one file; with --num-shards give -o a folder`, { subject: o.output });
        // Names are decided over all inputs (a repeated stem gets -1, -2, ...), then the shard takes its part of both lists.
        const allOuts = outputsFor(all, o.output, '.npy');
        let inputs = all;
        let outs = allOuts;
        if (shard) {
          const { shardItems } = await import('../util/shards.js');
          inputs = shardItems(all, shard);
          outs = shardItems(allOuts, shard);
        }
        if (o.output !== undefined) for (const out of outs) checkWritable(out, '-o');
        if (o.groupSeconds !== undefined && !(o.groupSeconds > 0))
          throw new ConfigError(`--group-seconds must be positive, got ${o.groupSeconds}`);
        const rows: {
          input: string;
          output: string;
          codebooks: number;
          frames: number;
          shape: number[];
          cached: boolean;
          seconds: number;
        }[] = [];
        const [{ defaultCacheDir, encodeFiles, groupFeatures, writeCodes }, { ENCODEC_FILES, resolveModelPath }] = await Promise.all([
          import('../codec/index.js'),
          import('../util/hub.js'),
        ]);
        await encodeFiles(inputs, {
          modelDir: await resolveModelPath(o.model, { files: ENCODEC_FILES, progress: barFor(cmd, { unit: 'B' }) }),
          bandwidth: o.bandwidth,
          maxSeconds: o.maxSeconds,
          workers: o.workers,
          cacheDir: o.cache ? (o.cacheDir ?? defaultCacheDir()) : null,
          backend: backendOf(o.backend),
          progress: barFor(cmd, { unit: 'files' }),
          onResult: (i, r) => {
            const f = o.groupSeconds !== undefined ? groupFeatures(r.features, o.groupSeconds) : r.features;
            writeCodes(outs[i]!, f);
            rows[i] = {
              input: r.path,
              output: outs[i]!,
              codebooks: f.sidecar.codebooks,
              frames: f.sidecar.frames,
              shape: f.sidecar.shape,
              cached: r.cached,
              seconds: r.seconds,
            };
          },
        });
        emit(cmd, { ...(shard ? { shard } : {}), files: rows }, () =>
          rows
            .map((r) => `${r.input} -> ${r.output} [${r.shape.join(', ')}] ${r.cached ? '(cached)' : `${r.seconds.toFixed(2)} s`}`)
            .join('\n'),
        );
      }),
    );

  codec
    .command('decode')
    .description('decode codes .npy (with their sidecar) to WAV at the model rate')
    .argument('<codes...>', 'codes files written by `wavelm codec encode`')
    .requiredOption('-m, --model <dir|id>', 'the model folder or hub id that encoded them')
    .option('-o, --output <path>', 'output .wav for one input, else a folder (default: beside each input, NAME.decoded.wav)')
    .option('--float', 'write 32-bit float WAV instead of 16-bit PCM')
    .option('--backend <name>', 'kernels: wasm (SIMD) or js (reference)', 'wasm')
    .action(
      action(async (inputs: string[], o: DecodeCliOptions, cmd: Command) => {
        const outs = outputsFor(inputs, o.output, '.wav');
        if (o.output !== undefined) for (const out of outs) checkWritable(out, '-o');
        const { AudioProcessor, decodeToWavFile, readCodes } = await import('../codec/index.js');
        const { ENCODEC_FILES, resolveModelPath } = await import('../util/hub.js');
        const proc = AudioProcessor.load(await resolveModelPath(o.model, { files: ENCODEC_FILES, progress: barFor(cmd, { unit: 'B' }) }), {
          backend: backendOf(o.backend),
        });
        const bar = barFor(cmd, { unit: 'files' });
        const rows: { input: string; output: string; sampleRate: number; channels: number; frames: number; seconds: number }[] = [];
        bar.start(inputs.length, 'decode');
        try {
          inputs.forEach((p, i) => {
            const t0 = performance.now();
            // Decoded block by block into the WAV, so memory holds a block, not the audio.
            const a = decodeToWavFile(proc.model, readCodes(p), outs[i]!, { float: o.float === true });
            rows.push({
              input: p,
              output: outs[i]!,
              sampleRate: a.sampleRate,
              channels: a.channels,
              frames: a.frames,
              seconds: (performance.now() - t0) / 1000,
            });
            bar.tick(1);
          });
        } finally {
          bar.stop();
        }
        emit(cmd, { files: rows }, () =>
          rows
            .map(
              (r) =>
                `${r.input} -> ${r.output} (${r.channels} ch, ${r.sampleRate} Hz, ` +
                `${(r.frames / r.sampleRate).toFixed(2)} s audio, ${r.seconds.toFixed(2)} s)`,
            )
            .join('\n'),
        );
      }),
    );
}
